//! The venue's ITCH / MoldUDP64 feed, decoded by Kestrel's own feed handler, rebuilds exactly
//! the venue's book: replayed market alone, and with participant orders resting, trading and
//! cancelling among it (our orders appear as the real feed shows them).

use std::path::Path;

use kestrel_core::book::L3Books;
use kestrel_core::{InstrumentId, Price, Side, Timestamp};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_gateway::ouch::{
    BuySell, CancelOrder, ClientMessage, EnterOrder, Firm, IsoEligibility, Price4, ServerMessage,
    Stock, Token, capacity, cross_type, customer_type, display,
};
use kestrel_sim::market::{BackgroundFeed, open_capture};
use kestrel_sim::venue::{SimVenue, VenueConfig};

fn capture_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv")
}

fn enter(token: &str, side: BuySell, shares: u32, price: Price, tif: u32) -> ClientMessage {
    ClientMessage::EnterOrder(EnterOrder {
        token: Token::new(token).unwrap(),
        side,
        shares,
        stock: Stock::new("AAPL").unwrap(),
        price: Price4::from_price(price).unwrap(),
        time_in_force: tif,
        firm: Firm::BLANK,
        display: display::ANONYMOUS,
        capacity: capacity::PRINCIPAL,
        iso: IsoEligibility::NotEligible,
        min_qty: 0,
        cross_type: cross_type::NO_CROSS,
        customer_type: customer_type::PORT_DEFAULT,
    })
}

/// Replays the capture through the venue (with `orders` sent by participant 0 at the given
/// event counts) and returns the venue and the packets it published.
fn run(orders: &[(u64, ClientMessage)]) -> (SimVenue, Vec<Vec<u8>>) {
    let cap = open_capture(&capture_path()).unwrap();
    let mut bg = BackgroundFeed::new(&cap.reader, cap.instruments.clone());
    let mut venue = SimVenue::new(&cap.instruments, 1, VenueConfig::default());
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let start = bg.peek_ts().unwrap();
    venue.start(start);
    let mut n = 0u64;
    while let Some(ts) = bg.peek_ts() {
        for (_, msg) in orders.iter().filter(|(at, _)| *at == n) {
            venue.submit(0, msg, venue.now());
        }
        venue.advance(ts, Some(&mut bg), &mut packets);
        n += 1;
    }
    let end = Timestamp(venue.now().nanos() + 1_000_000_000);
    venue.advance(end, Some(&mut bg), &mut packets);
    venue.end_of_day(end, &mut packets);
    (venue, packets)
}

fn rebuild(packets: &[Vec<u8>]) -> FeedHandler {
    let mut h = FeedHandler::new(HandlerConfig::default());
    let mut sink = |_: &FeedEvent, _: &L3Books| {};
    for p in packets {
        h.on_datagram(Timestamp(0), p, &mut sink);
    }
    h.finish(&mut sink);
    h
}

fn assert_same_book(venue: &SimVenue, h: &FeedHandler) {
    let id = h.instruments().id_of("AAPL").expect("R message published");
    for side in [Side::Buy, Side::Sell] {
        let ours: Vec<_> = venue.engine().levels(InstrumentId(0), side).collect();
        let theirs: Vec<_> = h.books().levels(id, side).collect();
        assert_eq!(ours, theirs, "{side:?} levels");
    }
    let s = h.stats();
    assert_eq!(s.anomalies(), 0, "{s:?}");
    assert_eq!(s.book.unknown_orders, 0);
}

#[test]
fn replayed_market_alone() {
    let (venue, packets) = run(&[]);
    assert!(venue.match_stats().background_events > 900);
    assert_eq!(venue.match_stats().background_unknown, 0);
    let h = rebuild(&packets);
    assert_same_book(&venue, &h);
    assert_eq!(venue.itch_encode_errors(), 0);
}

#[test]
fn with_participant_orders_trading_resting_and_cancelled() {
    let (probe, _) = run(&[]);
    let _ = probe;
    // Prices around the AAPL book of 2012-06-21 (~585-586).
    let px = |s: &str| s.parse::<Price>().unwrap();
    let orders = vec![
        (10, enter("B1", BuySell::Buy, 100, px("585.00"), 99_999)),
        (20, enter("S1", BuySell::Sell, 300, px("580.00"), 0)),
        (30, enter("B2", BuySell::Buy, 200, px("585.50"), 99_999)),
        (
            40,
            ClientMessage::CancelOrder(CancelOrder {
                token: Token::new("B1").unwrap(),
                shares: 40,
            }),
        ),
        (300, enter("S2", BuySell::Sell, 50, px("590.00"), 99_999)),
    ];
    let (venue, packets) = run(&orders);
    let stream = venue.stream(0);
    assert!(
        stream
            .iter()
            .any(|m| matches!(m, ServerMessage::Accepted(_)))
    );
    assert!(
        stream
            .iter()
            .any(|m| matches!(m, ServerMessage::Executed(_))),
        "the IOC sell traded"
    );
    assert!(
        stream
            .iter()
            .any(|m| matches!(m, ServerMessage::Canceled(_))),
        "IOC rest / user cancel"
    );
    assert!(!venue.fills().is_empty());
    let h = rebuild(&packets);
    assert_same_book(&venue, &h);
}
