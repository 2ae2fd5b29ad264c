//! NASDAQ ITCH exchange semantics through the whole feed (MoldUDP64, decode, normaliser, books,
//! the pipeline source): what becomes a print, what changes the book, what halts, and that an
//! event which changed the book before meeting its error still publishes its update.

use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::pipeline::{Source, SourceStatus};
use kestrel_core::{BookUpdate, Qty, Timestamp, TradeKind};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedHandler, HandlerConfig};
use kestrel_feeds::itch::{
    AddOrderMsg, BrokenTradeMsg, CrossTradeMsg, MwcbStatusMsg, OperationalHaltMsg,
    OrderExecutedMsg, OrderExecutedWithPriceMsg, StockDirectoryMsg, StockTradingActionMsg,
    TradeMsg, stock_field,
};
use kestrel_feeds::kcap::Record;
use kestrel_feeds::moldudp64::{MoldPacketBuilder, MoldSession};

const AAPL: u16 = 1;
const MSFT: u16 = 2;

fn directory(locate: u16, symbol: &str) -> Vec<u8> {
    StockDirectoryMsg {
        stock_locate: locate,
        stock: stock_field(symbol).unwrap(),
        ..Default::default()
    }
    .to_bytes()
    .unwrap()
    .to_vec()
}

fn add(locate: u16, order_ref: u64, side: u8, shares: u32, price: u32) -> Vec<u8> {
    AddOrderMsg {
        stock_locate: locate,
        order_ref,
        side_code: side,
        shares,
        price,
        ..Default::default()
    }
    .to_bytes()
    .unwrap()
    .to_vec()
}

/// One MoldUDP64 packet per message, as capture records.
fn packets(msgs: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut builder = MoldPacketBuilder::new(MoldSession::from_name("SEM").unwrap(), 1);
    let mut out = Vec::new();
    msgs.iter()
        .map(|m| {
            builder.push(m, &mut out).unwrap();
            builder.finish_into(&mut out);
            out.clone()
        })
        .collect()
}

/// Every update the pipeline source publishes for `msgs`, and the handler's counters.
fn replay(msgs: &[Vec<u8>]) -> (Vec<BookUpdate>, kestrel_feeds::handler::HandlerStats) {
    let datagrams = packets(msgs);
    let records = datagrams.iter().enumerate().map(|(i, p)| {
        Ok::<_, std::convert::Infallible>(Record {
            recv_ts: Timestamp(1_000 + i as u64),
            seq: i as u64,
            channel: 0,
            payload: p,
        })
    });
    let handler = FeedHandler::new(HandlerConfig::default());
    let mut source = CaptureSource::new(handler, records, Pace::Max, TscClock::new());
    let mut out: Vec<BookUpdate> = Vec::new();
    while source.poll(&mut out) != SourceStatus::Done {}
    let stats = source.stats();
    (out, stats)
}

#[test]
fn cross_volume_is_printed_once_and_non_printable_executions_change_the_book() {
    let c_non_printable = OrderExecutedWithPriceMsg {
        stock_locate: AAPL,
        order_ref: 1,
        executed_shares: 300,
        match_number: 10,
        printable: b'N',
        execution_price: 1_000_000,
        ..Default::default()
    };
    let q = CrossTradeMsg {
        stock_locate: AAPL,
        shares: 500,
        cross_price: 1_000_000,
        match_number: 11,
        cross_type: b'O',
        ..Default::default()
    };
    let e = OrderExecutedMsg {
        stock_locate: AAPL,
        order_ref: 2,
        executed_shares: 100,
        match_number: 12,
        ..Default::default()
    };
    let p = TradeMsg {
        stock_locate: AAPL,
        side_code: b'B',
        shares: 40,
        price: 1_000_100,
        match_number: 13,
        ..Default::default()
    };
    let msgs = [
        directory(AAPL, "AAPL"),
        add(AAPL, 1, b'S', 300, 1_000_000),
        add(AAPL, 2, b'S', 200, 1_000_100),
        add(AAPL, 3, b'B', 500, 999_900),
        c_non_printable.to_bytes().unwrap().to_vec(),
        q.to_bytes().unwrap().to_vec(),
        e.to_bytes().unwrap().to_vec(),
        p.to_bytes().unwrap().to_vec(),
    ];
    let (ups, stats) = replay(&msgs);
    assert_eq!(ups.len(), 7, "one update per book event");
    // The non-printable C: the ask at 100.00 is gone, no print.
    let c = &ups[3];
    assert_eq!(c.trade, Default::default());
    assert_eq!(c.top.best_ask().map(|l| l.price), "100.01".parse().ok());
    // The Q: a print of the whole cross, book untouched.
    let q = &ups[4];
    assert_eq!(q.trade.kind, TradeKind::Cross);
    assert_eq!(q.trade.aggressor, 0);
    assert_eq!(q.trade.match_number, 11);
    assert_eq!(q.top, c.top);
    // The E: a buyer hit the ask.
    assert_eq!(
        (ups[5].trade.kind, ups[5].trade.aggressor),
        (TradeKind::Execution, 1)
    );
    // The P: printed, aggressor unknown.
    assert_eq!(
        (ups[6].trade.kind, ups[6].trade.aggressor),
        (TradeKind::NonDisplayed, 0)
    );
    let printed: i64 = ups
        .iter()
        .filter(|u| u.trade.is_print())
        .map(|u| u.trade.qty.raw() / Qty::ONE.raw())
        .sum();
    assert_eq!(printed, 500 + 100 + 40, "each share printed once");
    assert_eq!(stats.normalizer.non_printable, 1);
    assert_eq!(stats.anomalies(), 0);
}

#[test]
fn a_break_reaches_the_strategy_as_a_correction_by_match_number() {
    let e = OrderExecutedMsg {
        stock_locate: AAPL,
        order_ref: 1,
        executed_shares: 100,
        match_number: 42,
        ..Default::default()
    };
    let b = BrokenTradeMsg {
        stock_locate: AAPL,
        match_number: 42,
        ..Default::default()
    };
    let msgs = [
        directory(AAPL, "AAPL"),
        add(AAPL, 1, b'S', 300, 1_000_000),
        e.to_bytes().unwrap().to_vec(),
        b.to_bytes().unwrap().to_vec(),
    ];
    let (ups, _) = replay(&msgs);
    let brk = ups.last().unwrap();
    assert!(brk.trade.is_break());
    assert!(!brk.trade.is_print());
    assert_eq!(brk.trade.match_number, 42);
    assert_eq!(
        brk.top,
        ups[ups.len() - 2].top,
        "a break leaves the book as it is"
    );
}

#[test]
fn an_over_execution_still_publishes_the_book_change_with_the_error_counted() {
    let e = OrderExecutedMsg {
        stock_locate: AAPL,
        order_ref: 1,
        executed_shares: 500,
        match_number: 1,
        ..Default::default()
    };
    let msgs = [
        directory(AAPL, "AAPL"),
        add(AAPL, 1, b'S', 300, 1_000_000),
        e.to_bytes().unwrap().to_vec(),
    ];
    let (ups, stats) = replay(&msgs);
    assert_eq!(ups.len(), 2);
    let last = &ups[1];
    assert_eq!(last.top.ask_levels, 0, "the order left the book");
    assert_eq!(last.trade.qty, Qty::from_units(500).unwrap());
    assert_eq!((stats.book_errors, stats.book.excess_executions), (1, 1));
}

#[test]
fn halts_of_every_kind_reach_the_updates() {
    let h = |state| {
        StockTradingActionMsg {
            stock_locate: MSFT,
            trading_state: state,
            ..Default::default()
        }
        .to_bytes()
        .unwrap()
        .to_vec()
    };
    let op = |action| {
        OperationalHaltMsg {
            stock_locate: AAPL,
            market_code: b'Q',
            operational_halt_action: action,
            ..Default::default()
        }
        .to_bytes()
        .unwrap()
        .to_vec()
    };
    let w = MwcbStatusMsg {
        breached_level: b'1',
        ..Default::default()
    };
    let msgs = [
        directory(AAPL, "AAPL"),
        directory(MSFT, "MSFT"),
        op(b'H'),
        op(b'T'),
        w.to_bytes().unwrap().to_vec(),
        h(b'T'),
        add(AAPL, 1, b'S', 300, 1_000_000),
    ];
    let (ups, _) = replay(&msgs);
    let flags: Vec<(u32, bool)> = ups.iter().map(|u| (u.instrument.0, u.trading)).collect();
    assert_eq!(
        flags,
        [
            (0, false), // h halts AAPL
            (0, true),  // h resumes it
            (0, false), // W: one update per instrument, all halted
            (1, false),
            (1, true),  // MSFT's own H T resumes MSFT
            (0, false), // AAPL still under the circuit breaker
        ]
    );
}
