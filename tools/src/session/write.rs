//! Writing a session directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kestrel_core::latency::{
    HlogWriter, LatencyCollector, LatencyTag, write_percentile_distribution,
};
use kestrel_core::pipeline::HlogStream;

use kestrel_strategy::params::ParamsChange;
use kestrel_strategy::stage::{ReloadNote, ReloadOutcome};

use super::Summary;

/// Percentile ticks per half distance in `.hgrm` files (HdrHistogram's default).
pub const HGRM_TICKS: u32 = 5;
/// `.hgrm` values are microseconds.
pub const HGRM_SCALE: f64 = 1_000.0;

/// A file of the session directory being written.
pub type SessionFile = std::io::BufWriter<std::fs::File>;

/// An open session directory.
#[derive(Clone, Debug)]
pub struct SessionDir {
    dir: PathBuf,
}

impl SessionDir {
    /// Creates `dir` (and its parents).
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating session directory {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn create_file(&self, name: &str) -> anyhow::Result<SessionFile> {
        let p = self.dir.join(name);
        let f = std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(std::io::BufWriter::new(f))
    }

    /// `config.toml`.
    pub fn write_config(&self, resolved_toml: &str) -> anyhow::Result<()> {
        let mut f = self.create_file("config.toml")?;
        f.write_all(resolved_toml.as_bytes())?;
        f.flush()?;
        Ok(())
    }

    /// Starts `latency.hlog` (its header: `BaseTime` = `base_ns`, the run's start on the pipeline
    /// clock) for the ops thread to stream every finished interval into during the run.
    pub fn open_hlog(
        &self,
        base_ns: u64,
        comment: &str,
    ) -> anyhow::Result<HlogStream<SessionFile>> {
        let f = self.create_file("latency.hlog")?;
        let w = HlogWriter::new(f, base_ns, comment).context("writing latency.hlog")?;
        Ok(HlogStream::new(w))
    }

    /// `latency.hlog` with no intervals (a session that recorded none, e.g. a backtest) and
    /// the `.hgrm` files of `latency`'s totals.
    pub fn write_latency(&self, latency: &LatencyCollector, comment: &str) -> anyhow::Result<()> {
        self.open_hlog(0, comment)?
            .finish()
            .context("writing latency.hlog")?;
        self.write_percentiles(latency)
    }

    /// `latency.hgrm` (end to end, always) and `latency-<stage>.hgrm` for each other stage
    /// that recorded at least one sample, from the run's totals: a stage the run's mode does
    /// not have (the ring hop and the consumer inline, tick to trade without a gateway) and a
    /// wait that never happened (backpressure) leave no file, rather than an empty one that
    /// reads like a measurement. `latency-e2e.hgrm` is always written.
    pub fn write_percentiles(&self, latency: &LatencyCollector) -> anyhow::Result<()> {
        let mut f = self.create_file("latency.hgrm")?;
        write_percentile_distribution(
            &mut f,
            latency.total(LatencyTag::EndToEnd),
            HGRM_TICKS,
            HGRM_SCALE,
        )?;
        f.flush()?;
        for tag in LatencyTag::ALL {
            if tag != LatencyTag::EndToEnd && latency.total(tag).is_empty() {
                continue;
            }
            let mut f = self.create_file(&format!("latency-{tag}.hgrm"))?;
            write_percentile_distribution(&mut f, latency.total(tag), HGRM_TICKS, HGRM_SCALE)?;
            f.flush()?;
        }
        Ok(())
    }

    /// A text file `name` with `text` (e.g. `strategy.toml`, the parameters the run started
    /// with).
    pub fn write_text(&self, name: &str, text: &str) -> anyhow::Result<()> {
        let mut f = self.create_file(name)?;
        f.write_all(text.as_bytes())?;
        f.flush()?;
        Ok(())
    }

    /// `params_changes.jsonl`: one JSON object per line, in order: every reload the watcher
    /// published (`"event":"published"`, pipeline clock `at_ns`) or rejected
    /// (`"event":"rejected"`, field and reason; the old set stayed), then every set the engine
    /// applied (`"event":"applied"`: version, `first_seq` = sequence of the first update
    /// decided under it, `applied_at_ns` = that update's event time, changed sections).
    pub fn write_params_changes(
        &self,
        applied: &[ParamsChange],
        notes: &[ReloadNote],
    ) -> anyhow::Result<()> {
        let mut f = self.create_file("params_changes.jsonl")?;
        for n in notes {
            let line = match &n.outcome {
                ReloadOutcome::Published { version, sections } => serde_json::json!({
                    "event": "published",
                    "at_ns": n.at_ns,
                    "version": version,
                    "sections": sections,
                }),
                ReloadOutcome::Rejected { field, reason } => serde_json::json!({
                    "event": "rejected",
                    "at_ns": n.at_ns,
                    "field": field,
                    "reason": reason,
                }),
            };
            serde_json::to_writer(&mut f, &line)?;
            f.write_all(b"\n")?;
        }
        for c in applied {
            let line = serde_json::json!({
                "event": "applied",
                "version": c.version,
                "first_seq": c.first_seq,
                "applied_at_ns": c.applied_at.nanos(),
                "sections": c.changed.section_names(),
            });
            serde_json::to_writer(&mut f, &line)?;
            f.write_all(b"\n")?;
        }
        f.flush()?;
        Ok(())
    }

    /// `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> anyhow::Result<()> {
        let mut f = self.create_file("summary.json")?;
        serde_json::to_writer_pretty(&mut f, summary).context("writing summary.json")?;
        f.write_all(b"\n")?;
        f.flush()?;
        Ok(())
    }
}
