//! The `kestrel` command line. Each command lives in its own file under `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod session;

/// Kestrel: low-latency trading core tools.
#[derive(Debug, Parser)]
#[command(name = "kestrel", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert market data into a `.kcap` capture.
    #[command(subcommand)]
    Import(cmd::import::ImportCommand),
    /// Check an importer's reconstruction against its source.
    #[command(subcommand)]
    Verify(cmd::verify::VerifyCommand),
    /// Decode and book-build a whole capture (.kcap or .pcap).
    Replay(cmd::replay::ReplayArgs),
    /// Inspect captures.
    #[command(subcommand)]
    Capture(cmd::capture::CaptureCommand),
    /// Offline research on captures (signal and alpha information coefficients).
    Research(cmd::research::ResearchArgs),
    /// Read session latency histograms.
    #[command(subcommand)]
    Hist(cmd::hist::HistCommand),
    /// Host facts for low-latency runs and where the config would pin stages.
    Sysinfo(cmd::sysinfo::SysinfoArgs),
    /// Print or check a gateway order journal.
    #[command(subcommand)]
    Journal(cmd::journal::JournalCommand),
    /// The simulated exchange: SoupBinTCP/OUCH order entry, a replayed market, ITCH/MoldUDP64 out.
    SimExchange(cmd::sim_exchange::SimExchangeArgs),
    /// Record a live MoldUDP64 / ITCH feed (gaps re-requested) into a .kcap.
    Record(cmd::record::RecordArgs),
    /// Strategy + OMS against the simulated exchange's matching and queue model, one thread.
    Backtest(cmd::backtest::BacktestArgs),
    /// The main job: sim exchange on loopback, engine on its UDP feed, trading through the gateway.
    Session(cmd::session::SessionArgs),
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Import(c) => c.run(),
        Command::Verify(c) => c.run(),
        Command::Replay(a) => a.run(),
        Command::Capture(c) => c.run(),
        Command::Research(a) => cmd::research::run(a).map(|()| ExitCode::SUCCESS),
        Command::Hist(c) => c.run(),
        Command::Sysinfo(a) => a.run(),
        Command::Journal(c) => c.run(),
        Command::SimExchange(a) => a.run(),
        Command::Record(a) => a.run(),
        Command::Backtest(a) => a.run(),
        Command::Session(a) => a.run(),
    }
}

/// The error and its causes on one line ("opening x: reading x: No such file"), leaving out
/// a cause whose text the message before it already ends with.
fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kestrel: error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
