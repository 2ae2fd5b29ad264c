//! Bad Binance input: every case is a typed error with its record number and a counter; the
//! stream keeps going and the book is invalid exactly when it must be.

use kestrel_core::book::L2Books;
use kestrel_core::{FixedError, InstrumentId, Timestamp};
use kestrel_feeds::binance::{
    BinanceConfig, BinanceErrorKind, BinanceFeed, Market, SNAPSHOT_CHANNEL_BASE, builtin_spec,
    spec_table,
};
use kestrel_feeds::venue::VenueEvent;

const ID: InstrumentId = InstrumentId(0);

fn feed(market: Market) -> BinanceFeed {
    let table = spec_table(&[builtin_spec(market, "BTCUSDT").unwrap()]).unwrap();
    BinanceFeed::new(BinanceConfig::new(market), table)
}

/// Runs messages; returns each message's result and the `shown` flag of each book event.
fn run(f: &mut BinanceFeed, msgs: &[&str]) -> (Vec<Result<(), BinanceErrorKind>>, Vec<bool>) {
    let mut shown = Vec::new();
    let mut results = Vec::new();
    for m in msgs {
        let channel = if m.contains("lastUpdateId") {
            SNAPSHOT_CHANNEL_BASE
        } else {
            0
        };
        let mut sink = |e: &VenueEvent, _: &L2Books| {
            if let VenueEvent::Book { shown: s, .. } = e {
                shown.push(*s);
            }
        };
        results.push(
            f.on_message(Timestamp(1), channel, m.as_bytes(), &mut sink)
                .map_err(|e| e.kind),
        );
    }
    (results, shown)
}

fn spot_diff(first: u64, last: u64, bid: &str, ask: &str) -> String {
    format!(
        r#"{{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":{first},"u":{last},"b":[["{bid}","1.00000000"]],"a":[["{ask}","1.00000000"]]}}"#
    )
}

const SNAP_10: &str = r#"{"lastUpdateId":10,"bids":[["100.00","1"]],"asks":[["101.00","1"]]}"#;

#[test]
fn malformed_json_is_an_error_with_its_record_and_the_stream_goes_on() {
    let mut f = feed(Market::Spot);
    let d11 = spot_diff(11, 12, "100.50", "101.50");
    let mut shown = Vec::new();
    let mut sink = |e: &VenueEvent, _: &L2Books| {
        if let VenueEvent::Book { shown: s, .. } = e {
            shown.push(*s);
        }
    };
    f.on_message(Timestamp(1), 1, SNAP_10.as_bytes(), &mut sink)
        .unwrap();
    let err = f
        .on_message(
            Timestamp(2),
            0,
            br#"{"e":"depthUpdate","E":1,"s":"BTC"#,
            &mut sink,
        )
        .unwrap_err();
    assert_eq!(err.record, 2);
    assert!(matches!(err.kind, BinanceErrorKind::Json { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("record 2: malformed JSON at byte")
    );
    f.on_message(Timestamp(3), 0, d11.as_bytes(), &mut sink)
        .unwrap();
    assert_eq!(f.books().best_bid(ID).unwrap().price.to_string(), "100.5");
    assert_eq!(f.stats().json_errors, 1);
    assert_eq!(shown, [true, true]);
}

#[test]
fn too_many_decimals_and_off_tick_values_are_refused_and_leave_a_gap() {
    let mut f = feed(Market::Spot);
    let (r, shown) = run(
        &mut f,
        &[
            SNAP_10,
            // 9 significant decimals: not representable.
            &spot_diff(11, 11, "100.000000001", "101.00"),
            // Off the 0.01 tick: more decimals than BTCUSDT allows.
            &spot_diff(11, 11, "100.001", "101.00"),
            // The next diff no longer continues the book: a gap, the book is invalid.
            &spot_diff(12, 12, "100.10", "101.00"),
        ],
    );
    assert_eq!(
        r[1],
        Err(BinanceErrorKind::Number {
            field: "b",
            level: 0,
            error: FixedError::TooPrecise
        })
    );
    assert!(matches!(
        &r[2],
        Err(BinanceErrorKind::OffGrid {
            field: "b",
            what: "tick size",
            ..
        })
    ));
    assert!(matches!(
        r[3],
        Err(BinanceErrorKind::Gap {
            after: Some(10),
            first: 12,
            ..
        })
    ));
    assert_eq!(shown, [true, false]);
    assert!(!f.is_shown(ID));
    let s = f.stats();
    assert_eq!((s.number_errors, s.gaps), (2, 1));
    // A ticker with a price off the tick grid is refused too.
    let (r, _) = run(
        &mut f,
        &[r#"{"u":5,"s":"BTCUSDT","b":"1.001","B":"0.000001","a":"2.00","A":"1"}"#],
    );
    assert!(matches!(
        &r[0],
        Err(BinanceErrorKind::OffGrid {
            what: "tick size",
            ..
        })
    ));
    // A new snapshot resynchronises; the diff buffered after the gap is stale by then.
    let (r, shown) = run(
        &mut f,
        &[
            r#"{"lastUpdateId":20,"bids":[["99.00","2"]],"asks":[["102.00","2"]]}"#,
            &spot_diff(21, 22, "99.50", "101.50"),
        ],
    );
    assert_eq!(r, [Ok(()), Ok(())]);
    assert_eq!(shown, [true, true]);
    assert_eq!(f.books().best_bid(ID).unwrap().price.to_string(), "99.5");
}

#[test]
fn missing_fields_and_unknown_messages_are_counted() {
    let mut f = feed(Market::Spot);
    let (r, _) = run(
        &mut f,
        &[
            r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"b":[],"a":[]}"#,
            r#"{"e":"trade","E":1,"T":1,"s":"BTCUSDT","t":1,"p":"1.00","q":"1"}"#,
            r#"{"e":"kline","E":1,"s":"BTCUSDT"}"#,
            r#"{"e":"trade","E":1,"T":1,"s":"ETHUSDT","t":1,"p":"1.00","q":"1","m":true}"#,
            r#"{"lastUpdateId":1,"bids":[]}"#,
        ],
    );
    assert_eq!(
        r[0],
        Err(BinanceErrorKind::MissingField {
            message: "depthUpdate",
            field: "u"
        })
    );
    assert_eq!(
        r[1],
        Err(BinanceErrorKind::MissingField {
            message: "trade",
            field: "m"
        })
    );
    assert_eq!(r[2], Err(BinanceErrorKind::UnknownEvent("kline".into())));
    assert_eq!(r[3], Err(BinanceErrorKind::UnknownSymbol("ETHUSDT".into())));
    assert_eq!(
        r[4],
        Err(BinanceErrorKind::MissingField {
            message: "depth snapshot",
            field: "asks"
        })
    );
    let s = f.stats();
    assert_eq!(
        (s.missing_fields, s.unknown_messages, s.unknown_symbols),
        (3, 1, 1)
    );
    assert_eq!(s.anomalies(), 5);
}

#[test]
fn buffered_diffs_stale_drops_out_of_order_and_skipped_ids() {
    let mut f = feed(Market::Spot);
    let (r, shown) = run(
        &mut f,
        &[
            // Before the snapshot: buffered.
            &spot_diff(5, 8, "90.00", "110.00"),
            &spot_diff(9, 12, "100.20", "101.20"),
            SNAP_10,
            // Out of order / duplicate: stale, dropped.
            &spot_diff(11, 12, "1.00", "200.00"),
            &spot_diff(13, 13, "100.30", "101.30"),
            // Skipped ids: 14 never came.
            &spot_diff(15, 15, "100.40", "101.40"),
        ],
    );
    assert_eq!(&r[..5], [Ok(()), Ok(()), Ok(()), Ok(()), Ok(())]);
    assert!(matches!(
        r[5],
        Err(BinanceErrorKind::Gap {
            after: Some(13),
            first: 15,
            last: 15,
            ..
        })
    ));
    // The snapshot's bridge (9..12) was applied with it; then 13; then the gap.
    assert_eq!(shown, [true, true, true, false]);
    let s = f.stats();
    assert_eq!(
        (s.diffs_buffered, s.diffs_applied, s.stale_diffs, s.gaps),
        (2, 2, 2, 1)
    );
    // The buffered diff 5..8 was stale; the snapshot's own levels and the bridge are there.
    assert!(
        f.books()
            .level_qty(ID, kestrel_core::Side::Buy, "90".parse().unwrap())
            .is_none()
    );
    assert_eq!(f.books().best_bid(ID), None, "an invalid book is emptied");
    assert_eq!(f.last_applied_update(ID), None);
}

#[test]
fn a_snapshot_older_than_the_buffered_diffs_is_refused() {
    let mut f = feed(Market::Spot);
    let (r, shown) = run(
        &mut f,
        &[
            &spot_diff(15, 18, "100.20", "101.20"),
            SNAP_10,
            r#"{"lastUpdateId":16,"bids":[["100.00","1"]],"asks":[["101.00","1"]]}"#,
            &spot_diff(19, 19, "100.30", "101.30"),
        ],
    );
    assert_eq!(
        r[1],
        Err(BinanceErrorKind::SnapshotTooOld {
            last_update_id: 10,
            first_buffered: 15
        })
    );
    assert_eq!(&r[2..], [Ok(()), Ok(())]);
    assert_eq!(shown, [false, true, true, true]);
    assert_eq!(f.books().best_bid(ID).unwrap().price.to_string(), "100.3");
    assert_eq!(f.stats().snapshots_too_old, 1);
}

#[test]
fn futures_continuity_is_by_pu() {
    let mut f = feed(Market::UsdM);
    let diff = |u0: u64, u1: u64, pu: u64, bid: &str| {
        format!(
            r#"{{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":{u0},"u":{u1},"pu":{pu},"b":[["{bid}","1.000"]],"a":[]}}"#
        )
    };
    let (r, shown) = run(
        &mut f,
        &[
            r#"{"lastUpdateId":100,"E":1,"T":1,"bids":[["50000.0","1.000"]],"asks":[["50001.0","1.000"]]}"#,
            &diff(95, 105, 94, "50000.1"),
            // Ids jump (futures ids are not contiguous) but pu chains: fine.
            &diff(200, 210, 105, "50000.2"),
            &diff(220, 230, 215, "50000.3"),
        ],
    );
    assert_eq!(&r[..3], [Ok(()), Ok(()), Ok(())]);
    assert!(matches!(
        r[3],
        Err(BinanceErrorKind::Gap {
            prev: Some(215),
            ..
        })
    ));
    assert_eq!(shown, [true, true, true, false]);
}

#[test]
fn a_crossed_book_is_never_shown() {
    let mut f = feed(Market::Spot);
    let (r, shown) = run(
        &mut f,
        &[
            SNAP_10,
            &spot_diff(11, 11, "101.50", "102.00"),
            &spot_diff(12, 12, "100.00", "101.00"),
        ],
    );
    assert!(r.iter().all(Result::is_ok));
    // Bid 101.50 over ask 101.00: crossed, withheld (counted once) until a diff removes it.
    assert_eq!(shown, [true, false, false]);
    assert!(!f.is_shown(ID));
    assert_eq!(f.stats().crossed_withheld, 1);
    let (_, shown) = run(
        &mut f,
        &[r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":13,"u":13,"b":[["101.50","0"]],"a":[]}"#],
    );
    assert_eq!(shown, [true]);
}
