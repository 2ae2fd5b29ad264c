//! `kestrel replay`: decode and book-build a whole capture through the feed handler, print the
//! final top of book per instrument and a summary line
//! `events=<n> anomalies=<a> book_hash=<hex>`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kestrel_core::book::L3Books;
use kestrel_core::clock::Pace;
use kestrel_core::pipeline::RunMode;
use kestrel_core::{InstrumentId, LevelView};
use kestrel_feeds::handler::{CaptureFile, FeedEvent, FeedHandler, HandlerConfig, HandlerStats};

use crate::session::run::{PipelineReplay, print_session, run_pipeline_replay};

/// `kestrel replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Capture to replay: a .kcap (MoldUDP64 / ITCH 5.0) or a .pcap of MoldUDP64 datagrams.
    pub path: PathBuf,
    /// Run the capture through the pipeline (.kcap only), `inline` or `threaded`, and write a
    /// session directory. Also implied by --pace, --config and --session-dir.
    #[arg(long)]
    pub mode: Option<RunMode>,
    /// Pipeline pacing: `max`, `recorded` or a speed factor (2 = twice the recorded rate).
    #[arg(long)]
    pub pace: Option<String>,
    /// Pipeline configuration (TOML; see examples/kestrel.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Session directory to write (default sessions/<utc-time>-<mode>).
    #[arg(long)]
    pub session_dir: Option<PathBuf>,
}

fn level(l: Option<LevelView>) -> String {
    l.map_or_else(|| "-".to_owned(), |l| format!("{} x {}", l.price, l.qty))
}

/// Prints the final top of book of every instrument and the summary line.
fn print_summary(handler: &FeedHandler) {
    let books = handler.books();
    for index in 0..books.instruments() {
        let id = InstrumentId(u32::try_from(index).unwrap_or(u32::MAX));
        let symbol = handler
            .instruments()
            .get(id)
            .map_or_else(|| format!("#{index}"), |i| i.symbol.clone());
        println!(
            "{symbol:<8} bid {:<24} ask {:<24} status {:?}",
            level(books.best_bid(id)),
            level(books.best_ask(id)),
            books.status(id)
        );
    }
    let s: HandlerStats = handler.stats();
    println!(
        "records={} skipped_records={} itch_messages={} decode_errors={} capture_errors={} malformed_packets={} duplicate_packets={} gaps_lost={} messages_lost={} unknown_orders={} book_errors={}",
        s.records,
        s.skipped_records,
        s.itch_messages,
        s.decode_errors,
        s.capture_errors,
        s.mold.malformed,
        s.mold.duplicate_packets,
        s.mold.gaps_lost,
        s.mold.messages_lost,
        s.book.unknown_orders,
        s.book_errors
    );
    println!(
        "events={} anomalies={} book_hash={:016x}",
        s.events,
        s.anomalies(),
        handler.books_hash()
    );
}

impl ReplayArgs {
    fn wants_pipeline(&self) -> bool {
        self.mode.is_some()
            || self.pace.is_some()
            || self.config.is_some()
            || self.session_dir.is_some()
    }

    /// Runs the replay.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        if self.wants_pipeline() {
            let pace_text = self.pace.unwrap_or_else(|| "max".to_owned());
            let args = PipelineReplay {
                pace: pace_text.parse::<Pace>()?,
                pace_text,
                input: self.path,
                mode: self.mode.unwrap_or(RunMode::Inline),
                config: self.config,
                session_dir: self.session_dir,
                progress: true,
            };
            let (handler, summary, dir) = run_pipeline_replay(&args)?;
            print_summary(&handler);
            print_session(&summary, &dir);
            return Ok(ExitCode::SUCCESS);
        }
        let capture = CaptureFile::open(&self.path).context("opening the capture")?;
        let mut handler = capture
            .handler(HandlerConfig::default())
            .with_context(|| format!("replaying {}", self.path.display()))?;
        capture.replay(&mut handler, &mut |_: &FeedEvent, _: &L3Books| {});
        print_summary(&handler);
        Ok(ExitCode::SUCCESS)
    }
}
