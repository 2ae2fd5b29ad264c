//! `kestrel replay`: a whole capture through the pipeline (feed stage, then the strategy stage),
//! inline or threaded, writing a session directory; prints the final top of book per
//! instrument, the feed counters, the session's headline figures, an
//! `intents=<n> intent_hash=<hex>` line and, last, `events=<n> anomalies=<a> book_hash=<hex>`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use kestrel_core::clock::Pace;
use kestrel_core::pipeline::RunMode;
use kestrel_core::{InstrumentId, LevelView};
use kestrel_feeds::handler::{FeedHandler, HandlerStats};

use crate::session::gateway::GatewayArgs;
use crate::session::run::{PipelineReplay, print_session, run_pipeline_replay};
use crate::session::sidecar::SidecarArgs;

/// `kestrel replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Capture to replay: a .kcap (MoldUDP64 / ITCH 5.0) or a .pcap of MoldUDP64 datagrams.
    pub path: PathBuf,
    /// Pipeline mode: `inline` (one thread, the default) or `threaded`.
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
    /// Strategy parameters (TOML; see examples/strategy.toml, the built-in default). The file
    /// is watched during the replay (changes and SIGHUP reload it).
    #[arg(long)]
    pub strategy_params: Option<PathBuf>,
    /// Send the strategy's intents as OUCH 4.2 orders over SoupBinTCP 3.00 to this venue
    /// (`HOST:PORT`: an exchange's test environment, or `kestrel sim-exchange`); fills come
    /// back into positions. Without it, fills are simulated at the intent price.
    #[arg(long, value_name = "HOST:PORT", requires = "credentials")]
    pub gateway: Option<String>,
    /// The venue login: one `username:password` line in a file of mode 0600.
    #[arg(long, value_name = "FILE", requires = "gateway")]
    pub credentials: Option<PathBuf>,
    /// Gateway settings: risk limits, algorithms, fees, journal sync (TOML; see
    /// examples/gateway.toml).
    #[arg(long, value_name = "FILE", requires = "gateway")]
    pub gateway_config: Option<PathBuf>,
    /// The strategy's universe: comma-separated symbols (`*` for every instrument). Overrides
    /// the parameter file's `[universe]`. Books are kept for every instrument either way; only
    /// the universe's updates reach the strategy.
    #[arg(long)]
    pub symbols: Option<String>,
    /// The ML sidecar.
    #[command(flatten)]
    pub sidecar: SidecarArgs,
}

fn level(l: Option<LevelView>) -> String {
    l.map_or_else(|| "-".to_owned(), |l| format!("{} x {}", l.price, l.qty))
}

/// Prints the final top of book of every instrument and the feed counters.
fn print_books(handler: &FeedHandler) {
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
}

/// The last line: `events=<n> anomalies=<a> book_hash=<hex>`.
fn print_final_line(handler: &FeedHandler) {
    let s: HandlerStats = handler.stats();
    println!(
        "events={} anomalies={} book_hash={:016x}",
        s.events,
        s.anomalies(),
        handler.books_hash()
    );
}

impl ReplayArgs {
    /// Runs the replay.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let pace_text = self.pace.unwrap_or_else(|| "max".to_owned());
        let args = PipelineReplay {
            pace: pace_text.parse::<Pace>()?,
            pace_text,
            input: self.path,
            mode: self.mode.unwrap_or(RunMode::Inline),
            config: self.config,
            session_dir: self.session_dir,
            strategy_params: self.strategy_params,
            symbols: self.symbols,
            progress: true,
            gateway: match (self.gateway, self.credentials) {
                (Some(addr), Some(credentials)) => Some(GatewayArgs {
                    addr,
                    credentials,
                    config: self.gateway_config,
                }),
                _ => None,
            },
            sidecar: self.sidecar.options()?,
        };
        let (handler, summary, dir) = run_pipeline_replay(&args)?;
        print_books(&handler);
        print_session(&summary, &dir);
        print_final_line(&handler);
        Ok(ExitCode::SUCCESS)
    }
}
