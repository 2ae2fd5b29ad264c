//! What share of a capture's book events a strategy would see under each publish rule: every
//! event, a change in the top ten levels of either side, a change of the best bid or ask, a
//! trade print. `publish_mix F.kcap`.

use kestrel_core::book::L3Books;
use kestrel_core::{BookTop, InstrumentId};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::KcapReader;

fn main() {
    let path = std::env::args().nth(1).expect("publish_mix F.kcap");
    let reader = KcapReader::open(&path).expect("capture");
    let mut handler =
        FeedHandler::for_capture(HandlerConfig::default(), reader.header()).expect("handler");
    let mut last: Vec<BookTop> = Vec::new();
    let (mut events, mut top10, mut top1, mut trades, mut packets_with) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut in_packet = false;
    for r in reader.records() {
        let Ok(r) = r else { continue };
        in_packet = false;
        let mut sink = |e: &FeedEvent, books: &L3Books| {
            let Ok(a) = e.outcome else { return };
            events += 1;
            let id: InstrumentId = e.event.instrument;
            if last.len() <= id.index() {
                last.resize(id.index() + 1, BookTop::default());
            }
            let mut top = BookTop::default();
            books.fill_top(id, &mut top);
            if top != last[id.index()] {
                top10 += 1;
            }
            last[id.index()] = top;
            if a.top_changed {
                top1 += 1;
            }
            if a.trade.is_some() {
                trades += 1;
            }
            if !in_packet {
                in_packet = true;
                packets_with += 1;
            }
        };
        handler.on_datagram(r.recv_ts, r.payload, &mut sink);
    }
    let pct = |n: u64| 100.0 * n as f64 / events.max(1) as f64;
    println!(
        "{path}: events={events} top10_changed={top10} ({:.1}%) best_changed={top1} ({:.1}%) trades={trades} ({:.1}%) packets_with_events={packets_with} ({:.1}%)",
        pct(top10),
        pct(top1),
        pct(trades),
        pct(packets_with)
    );
}
