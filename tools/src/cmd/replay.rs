//! `kestrel replay`: a whole capture through the pipeline (feed stage, then the strategy stage),
//! inline or threaded, writing a session directory; prints the final top of book per
//! instrument, the feed counters, the session's headline figures, an
//! `intents=<n> intent_hash=<hex>` line and, last, `events=<n> anomalies=<a> book_hash=<hex>`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use kestrel_core::clock::Pace;
use kestrel_core::pipeline::RunMode;

use crate::session::feed::ReplayedFeed;

use crate::session::run::{PipelineReplay, print_session, run_pipeline_replay};

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
            progress: true,
        };
        let (handler, summary, dir) = run_pipeline_replay(&args)?;
        handler.print_books();
        print_session(&summary, &dir);
        print_final_line(&handler);
        Ok(ExitCode::SUCCESS)
    }
}
