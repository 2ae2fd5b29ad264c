//! What share of a capture's book events a strategy would see under each publish rule: every
//! event, a change in the top ten levels of either side, a change of the best bid or ask, a
//! trade print, and one update per changed instrument per packet (`--publish packet`).
//! `publish_mix F.kcap`.

use std::process::ExitCode;

use kestrel_core::book::L3Books;
use kestrel_core::{BookTop, InstrumentId};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::KcapReader;

/// Counts per publish rule.
#[derive(Default)]
struct Mix {
    events: u64,
    top10: u64,
    best: u64,
    trades: u64,
    /// Distinct instruments changed per packet, summed over packets (the packet policy's
    /// updates, less the prints and status changes it sends on their own).
    packet_instruments: u64,
    packets_with_events: u64,
}

fn run(path: &str) -> Result<Mix, String> {
    let reader = KcapReader::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header())
        .map_err(|e| format!("{path}: {e}"))?;
    let mut last: Vec<BookTop> = Vec::new();
    let mut seen_in_packet: Vec<InstrumentId> = Vec::new();
    let mut mix = Mix::default();
    for r in reader.records() {
        let Ok(r) = r else { continue };
        seen_in_packet.clear();
        let mut sink = |e: &FeedEvent, books: &L3Books| {
            let Ok(a) = e.outcome else { return };
            mix.events += 1;
            let id = e.event.instrument;
            if last.len() <= id.index() {
                last.resize(id.index() + 1, BookTop::default());
            }
            let mut top = BookTop::default();
            books.fill_top(id, &mut top);
            if top != last[id.index()] {
                mix.top10 += 1;
            }
            last[id.index()] = top;
            mix.best += u64::from(a.top_changed);
            mix.trades += u64::from(a.trade.is_some());
            if !seen_in_packet.contains(&id) {
                seen_in_packet.push(id);
            }
        };
        handler.on_datagram(r.recv_ts, r.payload, &mut sink);
        mix.packet_instruments += seen_in_packet.len() as u64;
        mix.packets_with_events += u64::from(!seen_in_packet.is_empty());
    }
    Ok(mix)
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: publish_mix F.kcap");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(m) => {
            let pct = |n: u64| 100.0 * n as f64 / m.events.max(1) as f64;
            println!(
                "{path}: events={} top10_changed={} ({:.1}%) best_changed={} ({:.1}%) trades={} ({:.1}%) packet_instruments={} ({:.1}%) packets_with_events={}",
                m.events,
                m.top10,
                pct(m.top10),
                m.best,
                pct(m.best),
                m.trades,
                pct(m.trades),
                m.packet_instruments,
                pct(m.packet_instruments),
                m.packets_with_events
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("publish_mix: {e}");
            ExitCode::FAILURE
        }
    }
}
