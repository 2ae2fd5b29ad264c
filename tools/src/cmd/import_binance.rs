//! `kestrel import binance --in capture.gz --out F.kcap`: a raw `<local ns> <json>` Binance
//! capture into a `.kcap` of Binance JSON records that keep the local receive times.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use kestrel_feeds::binance::capture::{ImportOptions, read_capture_file, write_binance_capture};
use kestrel_feeds::binance::{InstrumentSpec, Market};

use super::import::create;
use super::now_ns;

/// `kestrel import binance`.
#[derive(Debug, Args)]
pub struct BinanceImportArgs {
    /// Raw capture: `<local ns> <json>` lines, plain or gzip.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Output capture.
    #[arg(long)]
    pub out: PathBuf,
    /// How to read the capture.
    #[command(flatten)]
    pub capture: CaptureArgs,
}

/// How to read a raw Binance capture: the options `import binance` and `verify binance` share.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Market: spot, usdm or coinm (default: detected; diffs with `pu` are futures).
    #[arg(long)]
    pub market: Option<Market>,
    /// Tick and lot size of a symbol without a built-in one: SYMBOL:TICK:LOT (repeatable).
    #[arg(long = "instrument")]
    pub instruments: Vec<InstrumentSpec>,
    /// The symbol REST depth snapshots belong to (needed with several symbols).
    #[arg(long)]
    pub snapshot_symbol: Option<String>,
}

impl CaptureArgs {
    /// The options the feed's capture reader takes.
    pub fn into_options(self) -> ImportOptions {
        ImportOptions {
            market: self.market,
            instruments: self.instruments,
            snapshot_symbol: self.snapshot_symbol,
        }
    }
}

impl BinanceImportArgs {
    /// Runs the import.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let data = read_capture_file(&self.input)
            .with_context(|| format!("reading {}", self.input.display()))?;
        let options = self.capture.into_options();
        let out = create(&self.out)?;
        let (mut out, report) = write_binance_capture(&data, &options, now_ns(), out)
            .with_context(|| format!("importing {}", self.input.display()))?;
        out.flush()
            .with_context(|| format!("writing {}", self.out.display()))?;
        for e in &report.line_errors {
            println!("capture: {e}");
        }
        if report.messages == 0 {
            bail!("{}: no `<ns> <json>` lines", self.input.display());
        }
        println!(
            "wrote {}: market={} messages={} snapshots={} instruments={} bad_lines={}",
            self.out.display(),
            report
                .market
                .map_or_else(|| "-".to_owned(), |m| m.to_string()),
            report.messages,
            report.snapshots,
            report.instruments,
            report.bad_lines
        );
        Ok(ExitCode::SUCCESS)
    }
}
