//! Property tests: encode/decode round trips for every message type, event encoding against
//! the normaliser, and arbitrary bytes through the decoder, framer and normaliser.

use kestrel_core::{
    BookEventKind, MarketEvent, OrderId, Price, Qty, Side, Timestamp, TradeKind, TradingStatus,
};
use kestrel_feeds::itch::{
    AddOrderMsg, CrossTradeMsg, ItchError, ItchFramer, ItchNormalizer, MAX_TIMESTAMP, Message,
    MessageType, OrderReplaceMsg, PREFIX_LEN, StockDirectoryMsg, decode, encode_event, message_len,
    stock_field,
};
use proptest::prelude::*;

/// One well-formed message of any type: the type byte and random bytes for the rest.
fn any_message() -> impl Strategy<Value = Vec<u8>> {
    proptest::sample::select(MessageType::ALL.to_vec()).prop_flat_map(|t| {
        proptest::collection::vec(any::<u8>(), t.message_len() - 1).prop_map(move |body| {
            let mut bytes = vec![t.as_byte()];
            bytes.extend(body);
            bytes
        })
    })
}

fn any_side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn price4() -> impl Strategy<Value = Price> {
    any::<u32>().prop_map(|raw| Price::from_scaled(i64::from(raw), 4).unwrap())
}

fn shares32() -> impl Strategy<Value = Qty> {
    any::<u32>().prop_map(|n| Qty::from_units(i64::from(n)).unwrap())
}

/// Every book event kind that has an ITCH message, with ITCH-representable values.
fn any_itch_event_kind() -> impl Strategy<Value = BookEventKind> {
    let id = || any::<u64>().prop_map(OrderId);
    prop_oneof![
        (id(), any_side(), price4(), shares32()).prop_map(|(order_id, side, price, qty)| {
            BookEventKind::Add {
                order_id,
                side,
                price,
                qty,
            }
        }),
        (id(), shares32(), any::<u64>()).prop_map(|(order_id, qty, match_number)| {
            BookEventKind::Execute {
                order_id,
                qty,
                match_number,
            }
        }),
        (id(), shares32(), price4(), any::<u64>()).prop_map(
            |(order_id, qty, price, match_number)| BookEventKind::ExecuteAtPrice {
                order_id,
                qty,
                price,
                match_number,
            }
        ),
        (id(), shares32(), price4(), any::<u64>()).prop_map(
            |(order_id, qty, price, match_number)| BookEventKind::ExecuteNonPrintable {
                order_id,
                qty,
                price,
                match_number,
            }
        ),
        (id(), shares32()).prop_map(|(order_id, qty)| BookEventKind::Cancel { order_id, qty }),
        id().prop_map(|order_id| BookEventKind::Delete { order_id }),
        (id(), id(), price4(), shares32()).prop_map(|(old_order_id, new_order_id, price, qty)| {
            BookEventKind::Replace {
                old_order_id,
                new_order_id,
                price,
                qty,
            }
        }),
        // P: the aggressor is unknown whatever the side byte says.
        (price4(), shares32(), any::<u64>()).prop_map(|(price, qty, match_number)| {
            BookEventKind::Trade {
                side: None,
                kind: TradeKind::NonDisplayed,
                price,
                qty,
                match_number,
            }
        }),
        // Q carries 8-byte share counts; a Qty holds up to ~92 billion whole shares. A cross
        // of zero shares prints nothing.
        (price4(), 1i64..=i64::MAX / 100_000_000, any::<u64>()).prop_map(
            |(price, n, match_number)| BookEventKind::Trade {
                side: None,
                kind: TradeKind::Cross,
                price,
                qty: Qty::from_units(n).unwrap(),
                match_number,
            }
        ),
        any::<u64>().prop_map(|match_number| BookEventKind::Break { match_number }),
        any::<bool>().prop_map(|halted| BookEventKind::OperationalHalt { halted }),
        prop_oneof![
            Just(TradingStatus::Trading),
            Just(TradingStatus::Halted),
            Just(TradingStatus::Paused),
            Just(TradingStatus::QuotationOnly),
        ]
        .prop_map(BookEventKind::Status),
    ]
}

proptest! {
    #[test]
    fn every_type_round_trips_bytes_to_fields_to_bytes(bytes in any_message()) {
        let msg = decode(&bytes).unwrap();
        prop_assert_eq!(msg.as_bytes(), &bytes[..]);
        prop_assert_eq!(msg.msg_type().as_byte(), bytes[0]);
        let owned = msg.to_msg();
        prop_assert_eq!(owned.msg_type(), msg.msg_type());
        let mut buf = [0u8; 64];
        let n = owned.encode(&mut buf).unwrap();
        prop_assert_eq!(&buf[..n], &bytes[..]);
        // And back again: the re-decoded message has the same fields.
        prop_assert_eq!(decode(&buf[..n]).unwrap().to_msg(), owned);
    }

    #[test]
    fn add_order_fields_round_trip(
        locate in any::<u16>(), tracking in any::<u16>(), ts in 0..=MAX_TIMESTAMP,
        order_ref in any::<u64>(), side in prop_oneof![Just(b'B'), Just(b'S')],
        shares in any::<u32>(), stock in any::<[u8; 8]>(), price in any::<u32>(),
    ) {
        let msg = AddOrderMsg {
            stock_locate: locate, tracking_number: tracking, timestamp: ts,
            order_ref, side_code: side, shares, stock, price,
        };
        let bytes = msg.to_bytes().unwrap();
        let Ok(Message::AddOrder(a)) = decode(&bytes) else { panic!("not A") };
        prop_assert_eq!(
            (a.stock_locate(), a.tracking_number(), a.timestamp()),
            (locate, tracking, ts)
        );
        prop_assert_eq!((a.order_ref(), a.side_code(), a.shares()), (order_ref, side, shares));
        prop_assert_eq!((a.stock(), a.price()), (stock, price));
        prop_assert_eq!(a.side().map(|s| s == Side::Buy), Some(side == b'B'));
    }

    #[test]
    fn replace_and_cross_fields_round_trip(
        ts in 0..=MAX_TIMESTAMP, old in any::<u64>(), new in any::<u64>(),
        shares in any::<u32>(), price in any::<u32>(), cross_shares in any::<u64>(),
        match_number in any::<u64>(), cross_type in any::<u8>(),
    ) {
        let u = OrderReplaceMsg {
            timestamp: ts, original_order_ref: old, new_order_ref: new, shares, price,
            ..Default::default()
        };
        let bytes = u.to_bytes().unwrap();
        let Ok(Message::OrderReplace(v)) = decode(&bytes) else { panic!("not U") };
        prop_assert_eq!(
            (v.timestamp(), v.original_order_ref(), v.new_order_ref(), v.shares(), v.price()),
            (ts, old, new, shares, price)
        );
        let q = CrossTradeMsg {
            timestamp: ts, shares: cross_shares, stock: *b"AAPL    ", cross_price: price,
            match_number, cross_type, ..Default::default()
        };
        let bytes = q.to_bytes().unwrap();
        let Ok(Message::CrossTrade(v)) = decode(&bytes) else { panic!("not Q") };
        prop_assert_eq!(
            (v.shares(), v.cross_price(), v.match_number(), v.cross_type()),
            (cross_shares, price, match_number, cross_type)
        );
    }

    #[test]
    fn timestamps_beyond_48_bits_are_refused(ts in (MAX_TIMESTAMP + 1)..=u64::MAX) {
        let msg = AddOrderMsg { timestamp: ts, ..Default::default() };
        prop_assert!(msg.to_bytes().is_err());
    }

    #[test]
    fn encoded_events_normalise_back_to_the_same_event(
        kind in any_itch_event_kind(), locate in any::<u16>(), tracking in any::<u16>(),
        ts in 0..=MAX_TIMESTAMP,
    ) {
        let mut norm = ItchNormalizer::new();
        let directory = StockDirectoryMsg {
            stock_locate: locate, stock: stock_field("KSTRL").unwrap(), ..Default::default()
        };
        prop_assert_eq!(norm.normalize_bytes(&directory.to_bytes().unwrap()), Ok(None));
        let instrument = norm.instrument_for_locate(locate).unwrap();

        let event = MarketEvent { instrument, exch_ts: Timestamp(ts), kind };
        let mut buf = [0u8; 64];
        let stock = stock_field("KSTRL").unwrap();
        let n = encode_event(&event, stock, locate, tracking, Timestamp(ts), &mut buf).unwrap();
        let msg = decode(&buf[..n]).unwrap();
        prop_assert_eq!(msg.stock_locate(), locate);
        prop_assert_eq!(msg.tracking_number(), tracking);
        prop_assert_eq!(norm.normalize(&msg), Some(event));
        prop_assert_eq!(norm.stats().anomalies(), 0);
    }

    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        match decode(&bytes) {
            Ok(msg) => {
                // At least the type's length; bytes beyond it are ignored.
                let len = message_len(bytes[0]).unwrap();
                prop_assert!(bytes.len() >= len);
                prop_assert_eq!(msg.as_bytes(), &bytes[..len]);
            }
            Err(ItchError::Empty { offset: 0 }) => prop_assert!(bytes.is_empty()),
            Err(ItchError::UnknownType { offset: 0, msg_type }) => {
                prop_assert_eq!(message_len(msg_type), None);
            }
            Err(ItchError::BadLength { offset: 0, expected, actual, .. }) => {
                prop_assert!(actual < expected);
                prop_assert_eq!(actual, bytes.len());
            }
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn framer_never_panics_and_accounts_for_every_byte(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        check_framer_invariants(&bytes)?;
    }

    #[test]
    fn framer_on_messages_mixed_with_junk(
        parts in proptest::collection::vec(
            prop_oneof![
                (any_message(), any::<bool>()).prop_map(|(m, zero)| framed(&m, zero)),
                proptest::collection::vec(any::<u8>(), 1..8),
            ],
            0..40,
        ),
    ) {
        check_framer_invariants(&parts.concat())?;
    }

    #[test]
    fn framer_recovers_exact_messages_in_either_prefix_mode(
        msgs in proptest::collection::vec(any_message(), 0..40),
        zero_prefix in any::<bool>(),
    ) {
        let data: Vec<u8> = msgs.iter().flat_map(|m| framed(m, zero_prefix)).collect();
        let mut framer = ItchFramer::new(&data);
        let got: Vec<&[u8]> = framer.by_ref().map(|f| f.unwrap().message).collect();
        let expected: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(framer.stats().errors, 0);
    }

    #[test]
    fn normaliser_never_panics_on_arbitrary_messages(
        msgs in proptest::collection::vec(
            prop_oneof![any_message(), proptest::collection::vec(any::<u8>(), 0..60)],
            0..60,
        ),
    ) {
        let mut norm = ItchNormalizer::new();
        let mut decoded = 0u64;
        let mut events = 0u64;
        for bytes in &msgs {
            match norm.normalize_bytes(bytes) {
                Ok(Some(ev)) => {
                    events += 1;
                    let market_wide = ev.instrument == kestrel_core::MARKET_WIDE
                        && matches!(ev.kind, BookEventKind::MarketWideHalt { .. });
                    prop_assert!(norm.instruments().get(ev.instrument).is_some() || market_wide);
                    decoded += 1;
                }
                Ok(None) => decoded += 1,
                Err(_) => {}
            }
        }
        let stats = norm.stats();
        prop_assert_eq!(stats.messages, decoded);
        prop_assert_eq!(stats.events, events);
        prop_assert_eq!(stats.per_type.iter().sum::<u64>(), decoded);
        prop_assert_eq!(stats.decode_errors, msgs.len() as u64 - decoded);
    }
}

/// A message with its 2-byte prefix: zero, or the real length.
fn framed(msg: &[u8], zero_prefix: bool) -> Vec<u8> {
    let prefix = if zero_prefix {
        0
    } else {
        u16::try_from(msg.len()).unwrap()
    };
    let mut out = prefix.to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    out
}

fn check_framer_invariants(data: &[u8]) -> Result<(), TestCaseError> {
    let mut framer = ItchFramer::new(data);
    let mut consumed = 0usize;
    let mut last_offset = None;
    for item in framer.by_ref() {
        let offset = match item {
            Ok(frame) => {
                let start = frame.message_offset();
                prop_assert_eq!(
                    Some(frame.message),
                    data.get(start..start + frame.message.len())
                );
                prop_assert!(decode(frame.message).is_ok());
                consumed += PREFIX_LEN + frame.message.len();
                frame.offset
            }
            Err(e) => {
                prop_assert!(e.offset() < data.len());
                e.offset()
            }
        };
        // Strictly forward: the framer always makes progress.
        prop_assert!(last_offset.is_none_or(|last| offset > last));
        last_offset = Some(offset);
    }
    prop_assert_eq!(
        consumed as u64 + framer.stats().bytes_skipped,
        data.len() as u64
    );
    prop_assert_eq!(framer.position(), data.len());
    Ok(())
}
