//! Rebuilding the gateway's state from its journal after a restart (or a `kill -9`): the same
//! sends and venue messages, replayed through the same OMS code, give the same open orders,
//! positions, order-number floor and next venue sequence number.

use super::JournalError;
use super::entry::Entry;
use super::reader::{cut_torn_tail, scan_file};
use crate::oms::{Oms, OmsConfig};
use crate::soupbin::SessionId;
use crate::venue::LinkEvent;
use kestrel_core::pipeline::Discard;
use std::path::Path;

/// What a rebuild found.
#[derive(Debug)]
pub struct Recovery {
    /// The rebuilt OMS.
    pub oms: Oms,
    /// Records replayed.
    pub records: usize,
    /// Bytes of torn tail cut off the file.
    pub torn_tail_cut: u64,
    /// The kill switch was tripped when the journal ends.
    pub kill_switch: bool,
    /// The last session logged into (to log back into the same one).
    pub session: Option<SessionId>,
    /// Records that did not apply cleanly (a send for an order the OMS does not know, an order
    /// number out of step).
    pub anomalies: u64,
}

/// Replays `entries` into `oms`; returns the anomalies met.
pub fn replay_entries<'a>(oms: &mut Oms, entries: impl IntoIterator<Item = &'a Entry>) -> u64 {
    let mut anomalies = 0;
    for e in entries {
        match e {
            Entry::Sent { at, meta, msg } => {
                if !oms.restore_sent(meta, msg, *at) {
                    anomalies += 1;
                }
            }
            Entry::SendFailed { meta, msg, .. } => {
                if !oms.restore_send_failed(meta, msg) {
                    anomalies += 1;
                }
            }
            Entry::Received { at, seq, msg } => {
                oms.on_message(*seq, msg, *at, &mut Discard);
            }
            Entry::SessionStart {
                first_order_number, ..
            } => oms.restore_cursor(0, first_order_number.saturating_sub(1)),
            Entry::Intent { .. }
            | Entry::Risk { .. }
            | Entry::Link { .. }
            | Entry::Param { .. } => {}
        }
    }
    anomalies
}

/// Reads the journal at `path` (if it exists), cuts a torn tail, refuses a corrupt journal,
/// and rebuilds an OMS configured by `cfg` from it. A missing file is an empty journal.
pub fn recover(path: &Path, cfg: OmsConfig) -> Result<Recovery, JournalError> {
    let mut oms = Oms::new(cfg)?;
    if !path.exists() || std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
        return Ok(Recovery {
            oms,
            records: 0,
            torn_tail_cut: 0,
            kill_switch: false,
            session: None,
            anomalies: 0,
        });
    }
    let scan = scan_file(path)?;
    if let Some(first) = scan.corrupt.first() {
        return Err(JournalError::Corrupt {
            count: scan.corrupt.len(),
            first_offset: first.offset,
            reason: first.reason.clone(),
        });
    }
    let torn_tail_cut = cut_torn_tail(path, &scan)?;
    let entries: Vec<&Entry> = scan.entries.iter().map(|(_, e)| e).collect();
    let anomalies = replay_entries(&mut oms, entries.iter().copied());
    let mut kill_switch = false;
    let mut session = None;
    for e in &entries {
        match e {
            Entry::Param { name, value, .. } if name.as_str() == "kill_switch" => {
                kill_switch = *value != 0;
            }
            Entry::Link {
                event: LinkEvent::Up { session: s, .. },
                ..
            } => session = Some(*s),
            _ => {}
        }
    }
    Ok(Recovery {
        oms,
        records: entries.len(),
        torn_tail_cut,
        kill_switch,
        session,
        anomalies,
    })
}
