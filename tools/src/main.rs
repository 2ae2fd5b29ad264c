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
    /// Read session latency histograms.
    #[command(subcommand)]
    Hist(cmd::hist::HistCommand),
    /// Host facts for low-latency runs and where the config would pin stages.
    Sysinfo(cmd::sysinfo::SysinfoArgs),
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Hist(c) => c.run(),
        Command::Sysinfo(a) => a.run(),
    }
}
