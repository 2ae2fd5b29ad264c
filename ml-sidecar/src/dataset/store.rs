//! Reading and writing a dataset directory.

use std::path::Path;

use anyhow::{Context, bail};

use super::{Dataset, FORMAT, Meta, VERSION};

fn write_bytes(dir: &Path, name: &str, bytes: impl Iterator<Item = u8>) -> anyhow::Result<()> {
    let path = dir.join(name);
    let data: Vec<u8> = bytes.collect();
    std::fs::write(&path, data).with_context(|| format!("writing {}", path.display()))
}

fn read_array<const N: usize, T>(
    dir: &Path,
    name: &str,
    count: usize,
    from: impl Fn([u8; N]) -> T,
) -> anyhow::Result<Vec<T>> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() != count * N {
        bail!(
            "{}: {} bytes, expected {} ({} values of {} bytes)",
            path.display(),
            bytes.len(),
            count * N,
            count,
            N
        );
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            from(a)
        })
        .collect())
}

/// Writes `d` into directory `dir` (created if needed).
pub fn save(d: &Dataset, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_bytes(
        dir,
        "features.f32",
        d.features.iter().flat_map(|v| v.to_le_bytes()),
    )?;
    write_bytes(
        dir,
        "moves.f32",
        d.moves.iter().flat_map(|v| v.to_le_bytes()),
    )?;
    write_bytes(dir, "labels.i8", d.labels.iter().map(|v| *v as u8))?;
    write_bytes(
        dir,
        "instrument.u32",
        d.instrument.iter().flat_map(|v| v.to_le_bytes()),
    )?;
    write_bytes(
        dir,
        "time.u64",
        d.time_ns.iter().flat_map(|v| v.to_le_bytes()),
    )?;
    write_bytes(dir, "split.u8", d.split.iter().copied())?;
    let meta = dir.join("meta.json");
    std::fs::write(&meta, serde_json::to_string_pretty(&d.meta)? + "\n")
        .with_context(|| format!("writing {}", meta.display()))
}

/// Reads the dataset in `dir`, checking every array's length against `meta.json`.
pub fn load(dir: &Path) -> anyhow::Result<Dataset> {
    let meta_path = dir.join("meta.json");
    let text = std::fs::read_to_string(&meta_path).with_context(|| {
        format!(
            "reading {} (is {} a dataset?)",
            meta_path.display(),
            dir.display()
        )
    })?;
    let meta: Meta =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", meta_path.display()))?;
    if meta.format != FORMAT || meta.version != VERSION {
        bail!(
            "{}: format {} version {}, this build reads {FORMAT} version {VERSION}",
            meta_path.display(),
            meta.format,
            meta.version
        );
    }
    let n = meta.samples;
    let w = meta.schema.len();
    Ok(Dataset {
        features: read_array(dir, "features.f32", n * w, f32::from_le_bytes)?,
        moves: read_array(dir, "moves.f32", n, f32::from_le_bytes)?,
        labels: read_array(dir, "labels.i8", n, |b: [u8; 1]| b[0] as i8)?,
        instrument: read_array(dir, "instrument.u32", n, u32::from_le_bytes)?,
        time_ns: read_array(dir, "time.u64", n, u64::from_le_bytes)?,
        split: read_array(dir, "split.u8", n, |b: [u8; 1]| b[0])?,
        meta,
    })
}
