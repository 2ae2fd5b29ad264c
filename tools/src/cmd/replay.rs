//! `kestrel replay`: decode and book-build a whole capture through the feed handler, print the
//! final top of book per instrument and a summary line
//! `events=<n> anomalies=<a> book_hash=<hex>`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use kestrel_core::book::L3Books;
use kestrel_core::clock::Pace;
use kestrel_core::pipeline::RunMode;
use kestrel_core::{InstrumentId, LevelView};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig, HandlerStats};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::pcap::PcapCapture;

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

/// The capture formats replay recognises by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Kcap,
    Pcap,
}

fn sniff(path: &Path) -> anyhow::Result<Format> {
    let mut magic = [0u8; 8];
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let n = file
        .read(&mut magic)
        .with_context(|| format!("reading {}", path.display()))?;
    let head = magic.get(..n).unwrap_or(&[]);
    if head.starts_with(b"KCAP") {
        return Ok(Format::Kcap);
    }
    let pcap_magics: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    if pcap_magics.iter().any(|m| head.starts_with(m)) {
        return Ok(Format::Pcap);
    }
    bail!(
        "{}: not a kcap or pcap capture (first bytes {:02x?})",
        path.display(),
        head
    )
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
            if sniff(&self.path)? != Format::Kcap {
                bail!(
                    "{}: pipeline replay needs a .kcap capture",
                    self.path.display()
                );
            }
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
        let mut sink = |_: &FeedEvent, _: &L3Books| {};
        let handler = match sniff(&self.path)? {
            Format::Kcap => {
                let reader = KcapReader::open(&self.path)
                    .with_context(|| format!("opening capture {}", self.path.display()))?;
                let mut handler =
                    FeedHandler::for_capture(HandlerConfig::default(), reader.header())
                        .with_context(|| format!("replaying {}", self.path.display()))?;
                handler.replay_kcap(&reader, &mut sink);
                handler
            }
            Format::Pcap => {
                let capture = PcapCapture::open(&self.path)
                    .with_context(|| format!("opening pcap {}", self.path.display()))?;
                let mut handler = FeedHandler::new(HandlerConfig::default());
                handler.replay_pcap(&capture, &mut sink);
                handler
            }
        };
        print_summary(&handler);
        Ok(ExitCode::SUCCESS)
    }
}
