//! The `kestrel` command line.

mod cmd;

use clap::{Parser, Subcommand};

/// Kestrel: low-latency trading core.
#[derive(Debug, Parser)]
#[command(name = "kestrel", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Offline research on captures.
    Research(cmd::research::ResearchArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Research(args) => cmd::research::run(args),
    }
}
