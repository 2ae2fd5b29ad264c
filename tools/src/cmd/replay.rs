//! `kestrel replay`: a whole capture through the pipeline (feed stage, then the strategy stage),
//! inline or threaded, writing a session directory; prints the final top of book per
//! instrument, the feed counters, the session's headline figures, an
//! `intents=<n> intent_hash=<hex>` line and, last, `events=<n> anomalies=<a> book_hash=<hex>`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use kestrel_core::clock::Pace;
use kestrel_core::pipeline::RunMode;
use kestrel_feeds::feed_stage::PublishPolicy;

use crate::session::feed::ReplayedFeed;

use crate::session::gateway::GatewayArgs;
use crate::session::run::{PipelineReplay, print_session, run_pipeline_replay};
use crate::session::sidecar::SidecarArgs;

/// `kestrel replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Capture to replay: a .kcap (MoldUDP64 / ITCH 5.0, Binance JSON or Databento DBN) or a
    /// .pcap of MoldUDP64 datagrams.
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
    #[arg(long, value_name = "HOST:PORT")]
    pub gateway: Option<String>,
    /// The venue login: one `username:password` line in a file of mode 0600. Without it, the
    /// login comes from the environment: `KESTREL_OUCH_USERNAME` and `KESTREL_OUCH_PASSWORD`.
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
    /// When the feed publishes a book update to the strategy: `packet` (the default: per
    /// MoldUDP64 packet, one update per instrument whose book changed, after the packet's last
    /// message; trade prints and status changes still go out one by one, as they happen; the
    /// strategy decides once per instrument and packet) or `every_event` (every intermediate
    /// book state, each a decision).
    #[arg(long, value_name = "POLICY", default_value = "packet")]
    pub publish: PublishPolicy,
    /// The ML sidecar.
    #[command(flatten)]
    pub sidecar: SidecarArgs,
}

/// The last line: `events=<n> anomalies=<a> book_hash=<hex>`.
fn print_final_line(feed: &ReplayedFeed) {
    println!(
        "events={} anomalies={} book_hash={:016x}",
        feed.events(),
        feed.anomalies(),
        feed.books_hash()
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
            publish: self.publish,
            progress: true,
            gateway: self.gateway.map(|addr| GatewayArgs {
                addr,
                credentials: self.credentials,
                config: self.gateway_config,
            }),
            sidecar: self.sidecar.options()?,
        };
        let (handler, summary, dir) = run_pipeline_replay(&args)?;
        handler.print_books();
        print_session(&summary, &dir);
        print_final_line(&handler);
        Ok(ExitCode::SUCCESS)
    }
}
