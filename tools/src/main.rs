//! The `kestrel` command line.

fn main() -> anyhow::Result<()> {
    Ok(())
}
