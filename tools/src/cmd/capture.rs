//! `kestrel capture info`: what a `.kcap` holds.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use kestrel_feeds::kcap::capture_info;

/// Capture commands.
#[derive(Debug, Subcommand)]
pub enum CaptureCommand {
    /// Header, instruments, blocks, records, time span, channels and damage of a .kcap.
    Info(InfoArgs),
}

/// `kestrel capture info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The capture.
    pub path: PathBuf,
}

impl CaptureCommand {
    /// Runs the command.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            Self::Info(a) => {
                let info = capture_info(&a.path).context("reading the capture")?;
                print!("{info}");
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}
