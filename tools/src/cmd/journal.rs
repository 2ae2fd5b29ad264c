//! `kestrel journal show|verify FILE`: print or check a gateway order journal.
//!
//! `show` prints one line per record (offset, gateway clock, kind and fields; OUCH messages
//! decoded), then the same last line as `verify`. `verify` checks every record's CRC and
//! layout and prints `records=<n> torn_tail=<bytes> corrupt=<m>`; it exits 0 when nothing is
//! corrupt (a torn tail, what a crash leaves, is reported but allowed) and 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use kestrel_gateway::journal::{Entry, Scan, scan_file};
use kestrel_gateway::risk::RiskCheck;

/// `kestrel journal`.
#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Print every record.
    Show(JournalFile),
    /// Check every record; exit non-zero on corruption other than a torn tail.
    Verify(JournalFile),
}

/// The journal file.
#[derive(Debug, Args)]
pub struct JournalFile {
    /// A gateway journal (`gateway.journal` in a session directory).
    pub path: PathBuf,
}

/// One record as a line of text.
pub fn describe(e: &Entry) -> String {
    match e {
        Entry::SessionStart {
            first_order_number,
            instruments,
            ..
        } => format!(
            "session_start first_order_number={first_order_number} instruments={instruments}"
        ),
        Entry::Intent { intent: i, .. } => format!(
            "intent seq={} instrument={} side={:?} urgency={:?} reason={:?} price={} qty={} decided_at={}",
            i.seq,
            i.instrument.0,
            i.side,
            i.urgency,
            i.reason,
            i.price,
            i.qty,
            i.decided_at.nanos()
        ),
        Entry::Risk {
            intent_seq,
            check,
            value,
            limit,
            reference,
            ..
        } => match RiskCheck::from_code(*check) {
            None => {
                format!("risk intent_seq={intent_seq} pass shares={value} price_raw={reference}")
            }
            Some(c) => format!(
                "risk intent_seq={intent_seq} reject check={} value={value} limit={limit} reference={reference}",
                c.name()
            ),
        },
        Entry::Sent { meta, msg, .. } => format!(
            "sent order={} intent_seq={} {msg:?}",
            meta.order, meta.intent_seq
        ),
        Entry::SendFailed { meta, msg, .. } => format!(
            "send_failed order={} intent_seq={} {msg:?}",
            meta.order, meta.intent_seq
        ),
        Entry::Received { seq, msg, .. } => format!("received seq={seq} {msg:?}"),
        Entry::Link { event, .. } => format!("link {event:?}"),
        Entry::Param { name, value, .. } => format!("param {}={value}", name.as_str()),
    }
}

fn last_line(scan: &Scan) -> String {
    format!(
        "records={} torn_tail={} corrupt={}",
        scan.entries.len(),
        scan.torn_tail.as_ref().map_or(0, |t| scan.len - t.offset),
        scan.corrupt.len()
    )
}

fn verdict(path: &Path, scan: &Scan) -> ExitCode {
    if let Some(t) = &scan.torn_tail {
        eprintln!(
            "kestrel: {}: torn tail at byte {} ({}); a restart cuts it",
            path.display(),
            t.offset,
            t.reason
        );
    }
    for c in &scan.corrupt {
        eprintln!(
            "kestrel: {}: corrupt record at byte {}: {}",
            path.display(),
            c.offset,
            c.reason
        );
    }
    println!("{}", last_line(scan));
    if scan.verifies() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

impl JournalCommand {
    /// Runs the command.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            JournalCommand::Show(f) => {
                let scan = scan_file(&f.path)?;
                for (offset, e) in &scan.entries {
                    println!("{offset:>10} {:>20} {}", e.at().nanos(), describe(e));
                }
                Ok(verdict(&f.path, &scan))
            }
            JournalCommand::Verify(f) => {
                let scan = scan_file(&f.path)?;
                Ok(verdict(&f.path, &scan))
            }
        }
    }
}
