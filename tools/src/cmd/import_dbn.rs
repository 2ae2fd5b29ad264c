//! `kestrel import dbn --in F.dbn[.zst] --out F.kcap`: a Databento DBN file (v1 to v3, plain or
//! zstd) into a `.kcap` of DBN v3 records.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kestrel_feeds::dbn::write_dbn_capture;

use super::import::create;
use super::now_ns;

/// `kestrel import dbn`.
#[derive(Debug, Args)]
pub struct DbnImportArgs {
    /// DBN file (plain or zstd-compressed; version 1, 2 or 3).
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Output capture.
    #[arg(long)]
    pub out: PathBuf,
}

impl DbnImportArgs {
    /// Runs the import.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let out = create(&self.out)?;
        let (mut out, r) = write_dbn_capture(&self.input, now_ns(), out)
            .with_context(|| format!("importing {}", self.input.display()))?;
        out.flush()
            .with_context(|| format!("writing {}", self.out.display()))?;
        if let Some(e) = &r.stopped {
            println!("warning: the input stopped early: {e}");
        }
        println!(
            "wrote {}: version={} dataset={} schema={} records={} mbo={} mbp1={} mbp10={} trades={} definitions={} other={} unknown={} instruments={}",
            self.out.display(),
            r.version,
            r.dataset,
            r.schema.as_deref().unwrap_or("mixed"),
            r.records,
            r.mbo,
            r.mbp1,
            r.mbp10,
            r.trades,
            r.definitions,
            r.other,
            r.unknown,
            r.instruments
        );
        Ok(ExitCode::SUCCESS)
    }
}
