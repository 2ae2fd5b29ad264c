//! Reading a session directory back (for `kestrel hist`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kestrel_core::latency::{Histogram, LatencyTag, new_histogram, read_interval_log};

use super::Summary;

/// A session's latency totals per stage (from `latency.hlog`) and its summary, if present.
#[derive(Debug)]
pub struct SessionData {
    /// The directory.
    pub dir: PathBuf,
    /// Whole-run histogram per stage that recorded anything.
    pub totals: BTreeMap<LatencyTag, Histogram<u64>>,
    /// `summary.json`, when the directory has one.
    pub summary: Option<Summary>,
}

impl SessionData {
    /// Loads `dir/latency.hlog` (required) and `dir/summary.json` (optional).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let hlog = dir.join("latency.hlog");
        let bytes = std::fs::read(&hlog).with_context(|| format!("reading {}", hlog.display()))?;
        let intervals =
            read_interval_log(&bytes).with_context(|| format!("parsing {}", hlog.display()))?;
        let mut totals: BTreeMap<LatencyTag, Histogram<u64>> = BTreeMap::new();
        for iv in intervals {
            let total = totals.entry(iv.tag).or_insert_with(new_histogram);
            total.add(&iv.hist).map_err(|e| {
                anyhow::anyhow!("{}: adding a {} interval: {e:?}", hlog.display(), iv.tag)
            })?;
        }
        let summary_path = dir.join("summary.json");
        let summary = match std::fs::read(&summary_path) {
            Ok(b) => Some(
                serde_json::from_slice(&b)
                    .with_context(|| format!("parsing {}", summary_path.display()))?,
            ),
            Err(_) => None,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            totals,
            summary,
        })
    }

    /// A display name: the directory's last component.
    pub fn name(&self) -> String {
        self.dir.file_name().map_or_else(
            || self.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}
