//! The `kestrel` command line. Each command lives in its own file under `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

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
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Import(c) => c.run(),
        Command::Verify(c) => c.run(),
        Command::Replay(a) => a.run(),
        Command::Capture(c) => c.run(),
        Command::Research(a) => cmd::research::run(a).map(|()| ExitCode::SUCCESS),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line: "opening x: No such file".
            eprintln!("kestrel: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
