//! `kestrel hist`: read session latency histograms: a percentile table, a regression check
//! between two sessions, and percentile-distribution plots.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kestrel_core::latency::{Histogram, LatencyTag, PERCENTILES};

use crate::session::SessionData;
use crate::session::svg::{Series, render};

/// `kestrel hist ...`.
#[derive(Debug, Subcommand)]
pub enum HistCommand {
    /// Percentile table per stage of one session (microseconds).
    Show(ShowArgs),
    /// Compare two sessions; exit status 1 when a stage regressed beyond the threshold.
    Diff(DiffArgs),
    /// Plot percentile distributions of one stage, sessions overlaid, as SVG.
    Plot(PlotArgs),
}

/// `kestrel hist show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Session directory.
    pub dir: PathBuf,
}

/// `kestrel hist diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Baseline session directory.
    pub base: PathBuf,
    /// New session directory.
    pub new: PathBuf,
    /// Largest allowed increase, in percent, at the chosen percentile.
    #[arg(long)]
    pub max_regress: f64,
    /// Percentile compared (e.g. 99, 99.9; 100 = max).
    #[arg(long, default_value_t = 99.0)]
    pub percentile: f64,
}

/// `kestrel hist plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Session directories.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output SVG file.
    #[arg(long)]
    pub out: PathBuf,
    /// Stage to plot (feed, hop, consumer, e2e, backpressure).
    #[arg(long, default_value = "e2e")]
    pub stage: String,
}

impl HistCommand {
    /// Runs the subcommand.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            HistCommand::Show(a) => {
                let s = SessionData::load(&a.dir)?;
                print!("{}", show_table(&s));
                Ok(ExitCode::SUCCESS)
            }
            HistCommand::Diff(a) => {
                let base = SessionData::load(&a.base)?;
                let new = SessionData::load(&a.new)?;
                let rows = diff(&base, &new, a.percentile, a.max_regress)?;
                print!("{}", diff_table(&rows, a.percentile, a.max_regress));
                if rows.iter().any(|r| r.regressed) {
                    Ok(ExitCode::from(1))
                } else {
                    Ok(ExitCode::SUCCESS)
                }
            }
            HistCommand::Plot(a) => {
                plot(&a.dirs, &a.stage, &a.out)?;
                println!("wrote {}", a.out.display());
                for p in crate::session::pnl_svg::plot_pnl(&a.dirs, &a.out)? {
                    println!("wrote {}", p.display());
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

fn us(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1_000.0)
}

/// The percentile table of one session, one row per stage, values in microseconds.
pub fn show_table(s: &SessionData) -> String {
    let mut out = format!("session {}\n", s.name());
    if let Some(sum) = &s.summary {
        out.push_str(&format!(
            "mode {:?}  pace {}  events {}  throughput {:.0}/s  drops {}  anomalies {}  output_hash {}\n",
            sum.mode, sum.pace, sum.events, sum.throughput_eps, sum.drops, sum.anomalies, sum.output_hash
        ));
    }
    out.push_str(&format!(
        "{:<13} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}   (us)\n",
        "stage", "count", "p50", "p90", "p99", "p99.9", "p99.99", "max"
    ));
    for (tag, h) in &s.totals {
        let mut row = format!("{:<13} {:>10}", tag.as_str(), h.len());
        for p in PERCENTILES {
            row.push_str(&format!(" {:>10}", us(h.value_at_percentile(p))));
        }
        row.push_str(&format!(" {:>10}\n", us(h.max())));
        out.push_str(&row);
    }
    out
}

/// One stage compared between two sessions.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffRow {
    /// Stage.
    pub tag: LatencyTag,
    /// Baseline value at the percentile, ns.
    pub base_ns: u64,
    /// New value at the percentile, ns.
    pub new_ns: u64,
    /// Change in percent (positive = slower).
    pub change_pct: f64,
    /// Beyond the threshold.
    pub regressed: bool,
}

fn value_at(h: &Histogram<u64>, percentile: f64) -> u64 {
    if percentile >= 100.0 {
        h.max()
    } else {
        h.value_at_percentile(percentile)
    }
}

/// Compares every stage both sessions recorded at `percentile`.
pub fn diff(
    base: &SessionData,
    new: &SessionData,
    percentile: f64,
    max_regress_pct: f64,
) -> anyhow::Result<Vec<DiffRow>> {
    if !(0.0..=100.0).contains(&percentile) {
        bail!("--percentile {percentile} is not between 0 and 100");
    }
    if !max_regress_pct.is_finite() || max_regress_pct < 0.0 {
        bail!("--max-regress {max_regress_pct} must be a non-negative percentage");
    }
    let mut rows = Vec::new();
    for (tag, b) in &base.totals {
        let Some(n) = new.totals.get(tag) else {
            continue;
        };
        if b.is_empty() || n.is_empty() {
            continue;
        }
        let base_ns = value_at(b, percentile);
        let new_ns = value_at(n, percentile);
        let change_pct = if base_ns == 0 {
            0.0
        } else {
            (new_ns as f64 - base_ns as f64) / base_ns as f64 * 100.0
        };
        rows.push(DiffRow {
            tag: *tag,
            base_ns,
            new_ns,
            change_pct,
            regressed: change_pct > max_regress_pct,
        });
    }
    if rows.is_empty() {
        bail!("the two sessions have no stage in common");
    }
    Ok(rows)
}

/// The diff as a table.
pub fn diff_table(rows: &[DiffRow], percentile: f64, max_regress_pct: f64) -> String {
    let mut out = format!(
        "{:<13} {:>12} {:>12} {:>9}  p{percentile} (us), threshold +{max_regress_pct}%\n",
        "stage", "base", "new", "change"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<13} {:>12} {:>12} {:>+8.1}%  {}\n",
            r.tag.as_str(),
            us(r.base_ns),
            us(r.new_ns),
            r.change_pct,
            if r.regressed { "REGRESSED" } else { "ok" }
        ));
    }
    let bad: Vec<&str> = rows
        .iter()
        .filter(|r| r.regressed)
        .map(|r| r.tag.as_str())
        .collect();
    if bad.is_empty() {
        out.push_str("no regression\n");
    } else {
        out.push_str(&format!("regressed: {}\n", bad.join(", ")));
    }
    out
}

/// Writes the SVG plot of `stage` for every session in `dirs`.
pub fn plot(dirs: &[PathBuf], stage: &str, out: &Path) -> anyhow::Result<()> {
    let tag: LatencyTag = stage.parse()?;
    let sessions = dirs
        .iter()
        .map(|d| SessionData::load(d))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let empty = kestrel_core::latency::new_histogram();
    let series: Vec<Series<'_>> = sessions
        .iter()
        .map(|s| Series {
            label: s.name(),
            hist: s.totals.get(&tag).unwrap_or(&empty),
        })
        .collect();
    let svg = render(&format!("{tag} latency by percentile"), &series);
    std::fs::write(out, svg).with_context(|| format!("writing {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::write::SessionDir;
    use kestrel_core::latency::{LatencyCollector, new_histogram};
    use kestrel_core::pipeline::OpsTask;

    /// Writes a session whose e2e values are scaled by `e2e_scale` and whose hop values are
    /// fixed, spread over two intervals.
    fn planted_session(dir: &Path, e2e_scale: u64) {
        let mut c = LatencyCollector::new();
        let session = SessionDir::create(dir).unwrap();
        let mut hlog = session
            .open_hlog(1_700_000_000_000_000_000, "test")
            .unwrap();
        for i in 0..2u64 {
            let mut e2e = new_histogram();
            let mut hop = new_histogram();
            for v in 1..=5_000u64 {
                e2e.saturating_record(v * 100 * e2e_scale);
                hop.saturating_record(50 + v % 20);
            }
            let t0 = 1_700_000_000_000_000_000 + i * 1_000_000_000;
            for (tag, h) in [(LatencyTag::EndToEnd, &e2e), (LatencyTag::Hop, &hop)] {
                c.absorb_histogram(tag, h);
                hlog.on_interval(tag, t0, t0 + 1_000_000_000, h);
            }
        }
        hlog.finish().unwrap();
        session.write_percentiles(&c).unwrap();
    }

    #[test]
    fn diff_catches_a_planted_regression_and_only_that() {
        let root = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            root.path().join("base"),
            root.path().join("slow"),
            root.path().join("same"),
        );
        planted_session(&a, 1);
        planted_session(&b, 2);
        planted_session(&c, 1);
        let base = SessionData::load(&a).unwrap();
        let slow = SessionData::load(&b).unwrap();
        let same = SessionData::load(&c).unwrap();
        assert_eq!(base.totals[&LatencyTag::EndToEnd].len(), 10_000);

        let rows = diff(&base, &slow, 99.0, 10.0).unwrap();
        let e2e = rows.iter().find(|r| r.tag == LatencyTag::EndToEnd).unwrap();
        assert!(
            e2e.regressed && (e2e.change_pct - 100.0).abs() < 1.0,
            "{e2e:?}"
        );
        let hop = rows.iter().find(|r| r.tag == LatencyTag::Hop).unwrap();
        assert!(!hop.regressed, "{hop:?}");
        let table = diff_table(&rows, 99.0, 10.0);
        assert!(table.contains("regressed: e2e"), "{table}");

        // A generous threshold lets it pass; identical sessions never regress.
        assert!(
            diff(&base, &slow, 99.0, 150.0)
                .unwrap()
                .iter()
                .all(|r| !r.regressed)
        );
        assert!(
            diff(&base, &same, 99.9, 0.0)
                .unwrap()
                .iter()
                .all(|r| !r.regressed)
        );
        // An improvement is not a regression.
        assert!(
            diff(&slow, &base, 99.0, 0.0)
                .unwrap()
                .iter()
                .all(|r| !r.regressed)
        );
        assert!(diff(&base, &slow, 101.0, 1.0).is_err());
    }

    #[test]
    fn show_and_plot_read_the_session() {
        let root = tempfile::tempdir().unwrap();
        let a = root.path().join("a");
        let b = root.path().join("b");
        planted_session(&a, 1);
        planted_session(&b, 3);
        let table = show_table(&SessionData::load(&a).unwrap());
        assert!(table.contains("e2e"), "{table}");
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("hop") && l.contains("10000")),
            "{table}"
        );
        let out = root.path().join("p.svg");
        plot(&[a, b], "e2e", &out).unwrap();
        let svg = std::fs::read_to_string(&out).unwrap();
        assert_eq!(svg.matches("class=\"series\"").count(), 2);
        assert!(plot(&[root.path().join("a")], "nope", &out).is_err());
    }
}
