//! One market, two paths: the AAPL LOBSTER sample imported as a capture (instruments from the
//! capture header) and the same ITCH messages replayed raw (instruments learned from the `R`
//! message). Both follow the US equity tick rule, so the spread in ticks and every other
//! signal agree update for update.

use kestrel_core::book::L3Books;
use kestrel_core::{BookTop, BookUpdate, TickRule, Timestamp, TradingStatus};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::{parse_messages, parse_orderbook, plan_import, write_lobster_capture};
use kestrel_feeds::moldudp64::MoldPacket;
use kestrel_strategy::signals::{SignalConfig, SignalSet, SignalValues};

const MESSAGES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
));
const BOOK: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
));

/// The signal values after every update the handler produced, with the handler's instruments.
fn signals(
    handler: &mut FeedHandler,
    feed: impl FnOnce(&mut FeedHandler, &mut Vec<BookUpdate>),
) -> Vec<SignalValues> {
    let mut updates = Vec::new();
    feed(handler, &mut updates);
    let mut set = SignalSet::for_table(handler.instruments(), &SignalConfig::default());
    updates.iter().filter_map(|u| set.update(u)).collect()
}

fn update(fe: &FeedEvent, books: &L3Books) -> Option<BookUpdate> {
    let applied = fe.outcome.ok()?;
    let mut top = BookTop::default();
    books.fill_top(fe.event.instrument, &mut top);
    Some(BookUpdate {
        instrument: fe.event.instrument,
        exch_ts: fe.event.exch_ts,
        recv_ts: fe.recv_ts,
        top,
        trade: applied.trade.unwrap_or_default(),
        trading: books.status(fe.event.instrument) == TradingStatus::Trading,
        ..BookUpdate::default()
    })
}

#[test]
fn lobster_and_raw_itch_give_the_same_ticks_and_signals() {
    let plan = plan_import(parse_messages(MESSAGES), parse_orderbook(BOOK));
    let bytes = write_lobster_capture(&plan, "AAPL", Timestamp::ZERO, Vec::new()).unwrap();
    let reader = KcapReader::from_vec(bytes).unwrap();

    let mut from_capture =
        FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
    let lobster = signals(&mut from_capture, |h, out| {
        let mut sink = |fe: &FeedEvent, books: &L3Books| out.extend(update(fe, books));
        for record in reader.records() {
            let record = record.unwrap();
            h.on_datagram(record.recv_ts, record.payload, &mut sink);
        }
        h.finish(&mut sink);
    });

    let mut raw = FeedHandler::new(HandlerConfig::default());
    let itch = signals(&mut raw, |h, out| {
        let mut sink = |fe: &FeedEvent, books: &L3Books| out.extend(update(fe, books));
        let mut seq = 0;
        for record in reader.records() {
            let record = record.unwrap();
            let Ok(packet) = MoldPacket::parse(record.payload) else {
                continue;
            };
            for (_, msg) in packet.messages() {
                seq += 1;
                h.on_itch_message(record.recv_ts, seq, msg, &mut sink);
            }
        }
    });

    for h in [&from_capture, &raw] {
        let aapl = h.instruments().id_of("AAPL").unwrap();
        assert_eq!(
            h.instruments().get(aapl).unwrap().tick_rule(),
            TickRule::UsEquity
        );
    }
    assert_eq!(lobster.len(), itch.len());
    assert!(lobster.len() > 900);
    let mut spreads = 0;
    for (a, b) in lobster.iter().zip(&itch) {
        assert_eq!(a.spread_ticks, b.spread_ticks, "update {}", a.seq);
        assert_eq!(a.features(), b.features(), "update {}", a.seq);
        if a.spread_ticks > 0.0 {
            spreads += 1;
            // AAPL at ~$585 quotes in cents: a whole number of ticks.
            assert_eq!(a.spread_ticks.fract(), 0.0, "{}", a.spread_ticks);
        }
    }
    assert!(spreads > 900);
}
