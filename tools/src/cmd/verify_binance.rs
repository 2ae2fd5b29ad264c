//! `kestrel verify binance --in capture.gz`: replays a raw `<local ns> <json>` capture through
//! the Binance feed and compares the reconstructed top of book with every `bookTicker` whose
//! `u` equals the final `u` of the depth diff just applied. The last line is
//! `checks=<n> mismatched=<m> gaps=<g>`; the exit status is 0 only when `m` is 0.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use kestrel_feeds::binance::capture::{CapturePlan, capture_lines, read_capture_file, survey};
use kestrel_feeds::binance::verify::TickerCheck;
use kestrel_feeds::binance::{BinanceConfig, BinanceFeed};

use super::import_binance::CaptureArgs;

/// `kestrel verify binance`.
#[derive(Debug, Args)]
pub struct BinanceVerifyArgs {
    /// Raw capture: `<local ns> <json>` lines, plain or gzip.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// How to read the capture.
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// How many mismatches and errors to print before the summary line.
    #[arg(long, default_value_t = 10)]
    pub show: usize,
}

impl BinanceVerifyArgs {
    /// Runs the verification; exit status 0 only when nothing mismatched.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let data = read_capture_file(&self.input)
            .with_context(|| format!("reading {}", self.input.display()))?;
        let found = survey(&data);
        if found.symbols.is_empty() {
            bail!(
                "{}: no Binance depth, ticker or trade messages",
                self.input.display()
            );
        }
        let plan = CapturePlan::new(found, &self.capture.into_options())?;
        let market = plan.market;
        let symbols: Vec<String> = plan.table.iter().map(|i| i.symbol.clone()).collect();
        let mut feed = BinanceFeed::new(BinanceConfig::new(market), plan.table.clone());
        let mut check = TickerCheck::new(symbols.len(), self.show);
        let mut bad_lines = 0u64;
        for line in capture_lines(&data) {
            match line {
                Ok(l) => {
                    check.feed(&mut feed, l.recv_ts, plan.channel_of(l.json), l.json);
                }
                Err(e) => {
                    bad_lines += 1;
                    if bad_lines <= self.show as u64 {
                        println!("capture: {e}");
                    }
                }
            }
        }
        let report = check.finish(&feed);
        for e in &report.errors {
            println!("error: {e}");
        }
        for m in &report.mismatches {
            let side = |l: Option<kestrel_core::LevelView>| {
                l.map_or_else(|| "empty".to_owned(), |l| format!("{}x{}", l.price, l.qty))
            };
            println!(
                "mismatch record={} symbol={} u={} expected bid={}x{} ask={}x{} got bid={} ask={}",
                m.record,
                symbols
                    .get(m.instrument.index())
                    .map_or("?", String::as_str),
                m.update_id,
                m.expected[0].price,
                m.expected[0].qty,
                m.expected[1].price,
                m.expected[1].qty,
                side(m.got[0]),
                side(m.got[1])
            );
        }
        let s = feed.stats();
        println!(
            "market={market} symbols={} records={} depth_diffs={} applied={} buffered={} stale={} snapshots={} book_tickers={} trades={} errors={} bad_lines={bad_lines} crossed={}",
            symbols.join(","),
            s.records,
            s.depth_diffs,
            s.diffs_applied,
            s.diffs_buffered,
            s.stale_diffs,
            s.snapshots_applied,
            s.book_tickers,
            s.trades,
            report.error_count,
            s.crossed_withheld
        );
        println!(
            "checks={} mismatched={} gaps={}",
            report.checks, report.mismatched, report.gaps
        );
        Ok(if report.mismatched == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    }
}
