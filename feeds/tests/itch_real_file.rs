//! The bundled NASDAQ ITCH 5.0 test file as a golden input: every message decodes, the per-type
//! counts match an independent walk, hand-read fields match, and corrupted copies keep flowing.

use kestrel_core::{
    BookEventKind, InstrumentId, MarketEvent, OrderId, Price, Qty, Side, Timestamp,
};
use kestrel_feeds::itch::{
    Frame, ItchFramer, ItchNormalizer, Message, MessageType, PREFIX_LEN, decode, message_len,
};

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);

fn file() -> Vec<u8> {
    std::fs::read(ITCH_FILE).expect("bundled ITCH test file")
}

/// Frames and decodes everything, failing on any error.
fn decode_all(data: &[u8]) -> Vec<(usize, Message<'_>)> {
    ItchFramer::new(data)
        .map(|frame| {
            let frame = frame.expect("frame");
            (frame.offset, decode(frame.message).expect("decode"))
        })
        .collect()
}

/// The same file with every zero prefix replaced by the message's real length.
fn length_prefixed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for frame in ItchFramer::new(data) {
        let frame = frame.expect("frame");
        let len = u16::try_from(frame.message.len()).expect("short message");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(frame.message);
    }
    out
}

// Expected counts come from an independent throwaway Python script (not this crate): it walks
// the file as `2-byte prefix (asserted 0) + type byte + fixed length from the spec table`,
// reaching exactly the end of the file (465,048 bytes) after 12,012 messages:
//   A 4997, D 1745, E 198, F 3, H 3, P 5000, R 3, S 6, U 12, X 45 (no other types).
// Per locate: R/H one each for locates 1 (ALC), 2 (BOB), 3 (CHAR); S on locate 0; all book
// messages on locates 1..=3.
const EXPECTED_COUNTS: [(MessageType, u64); 10] = [
    (MessageType::AddOrder, 4997),
    (MessageType::OrderDelete, 1745),
    (MessageType::OrderExecuted, 198),
    (MessageType::AddOrderMpid, 3),
    (MessageType::StockTradingAction, 3),
    (MessageType::Trade, 5000),
    (MessageType::StockDirectory, 3),
    (MessageType::SystemEvent, 6),
    (MessageType::OrderReplace, 12),
    (MessageType::OrderCancel, 45),
];

#[test]
fn every_message_decodes_with_the_expected_type_counts() {
    let data = file();
    assert_eq!(data.len(), 465_048);
    let mut framer = ItchFramer::new(&data);
    let mut counts = [0u64; 256];
    let mut total = 0u64;
    for frame in framer.by_ref() {
        let frame = frame.expect("no framing errors");
        let msg = decode(frame.message).expect("no decode errors");
        counts[usize::from(msg.msg_type().as_byte())] += 1;
        total += 1;
    }
    assert_eq!(total, 12_012);
    let stats = framer.stats();
    assert_eq!(
        (stats.frames, stats.errors, stats.bytes_skipped),
        (12_012, 0, 0)
    );
    for (t, expected) in EXPECTED_COUNTS {
        assert_eq!(counts[usize::from(t.as_byte())], expected, "{t:?}");
    }
    assert_eq!(
        EXPECTED_COUNTS.iter().map(|(_, n)| n).sum::<u64>(),
        total,
        "no other types"
    );
}

#[test]
fn golden_fields_of_known_messages() {
    let data = file();
    let msgs = decode_all(&data);

    // Offset 0: `00 00 | 53 0000 0000 0a30478f8f96 4f` -> S, start of messages.
    let (off, Message::SystemEvent(s)) = msgs[0] else {
        panic!("first message is not S")
    };
    assert_eq!(off, 0);
    assert_eq!((s.stock_locate(), s.tracking_number()), (0, 0));
    assert_eq!(s.timestamp(), 0x0a30_478f_8f96);
    assert_eq!(s.event_code(), b'O');

    // Offset 14: `00 00 | 52 0001 0000 0a66a2943614 "ALC     " 4e 4e 00000064 4e 41 "Z "
    // 50 4e 4e 32 4e 00000000 4e` -> R for ALC, locate 1, round lot 100.
    let (off, Message::StockDirectory(r)) = msgs[1] else {
        panic!("second message is not R")
    };
    assert_eq!(off, 14);
    assert_eq!(r.stock_locate(), 1);
    assert_eq!(r.tracking_number(), 0);
    assert_eq!(r.timestamp(), 11_435_930_564_116); // 0x0a66a2943614
    assert_eq!(&r.stock(), b"ALC     ");
    assert_eq!(r.market_category(), b'N');
    assert_eq!(r.financial_status_indicator(), b'N');
    assert_eq!(r.round_lot_size(), 100);
    assert_eq!(r.round_lots_only(), b'N');
    assert_eq!(r.issue_classification(), b'A');
    assert_eq!(&r.issue_sub_type(), b"Z ");
    assert_eq!(r.authenticity(), b'P');
    assert_eq!(r.short_sale_threshold_indicator(), b'N');
    assert_eq!(r.ipo_flag(), b'N');
    assert_eq!(r.luld_reference_price_tier(), b'2');
    assert_eq!(r.etp_flag(), b'N');
    assert_eq!(r.etp_leverage_factor(), 0);
    assert_eq!(r.inverse_indicator(), b'N');

    // Offset 137: `00 00 | 48 0001 0000 0a66ac59a569 "ALC     " 54 20 "    "` -> H, trading.
    let (off, Message::StockTradingAction(h)) = msgs[4] else {
        panic!("fifth message is not H")
    };
    assert_eq!(off, 137);
    assert_eq!(h.stock_locate(), 1);
    assert_eq!(&h.stock(), b"ALC     ");
    assert_eq!(h.trading_state(), b'T');
    assert_eq!(&h.reason(), b"    ");

    // Offset 232: `00 00 | 41 0002 0000 1c522027c055 0000000000000000 42 000003e8 "BOB     "
    // 0000cfaf` -> the first A: BOB buy 1000 @ 5.3167, order reference 0.
    let (off, Message::AddOrder(a)) = msgs[8] else {
        panic!("ninth message is not A")
    };
    assert_eq!(off, 232);
    assert_eq!(a.stock_locate(), 2);
    assert_eq!(a.timestamp(), 31_139_052_372_053); // 0x1c522027c055
    assert_eq!(a.order_ref(), 0);
    assert_eq!(a.side(), Some(Side::Buy));
    assert_eq!(a.shares(), 1000);
    assert_eq!(&a.stock(), b"BOB     ");
    assert_eq!(a.price(), 53_167); // 0xcfaf

    // Offset 270: the second A, order reference 0x64.
    let (off, Message::AddOrder(a2)) = msgs[9] else {
        panic!("tenth message is not A")
    };
    assert_eq!(off, 270);
    assert_eq!(a2.order_ref(), 100);
    assert_eq!(a2.timestamp(), 31_141_354_532_167); // 0x1c52a95fed47

    // Offset 308: `00 00 | 46 0002 0000 1dd7f895fa87 00000000_00014b64 42 00000064 "BOB     "
    // 0000ceb5 "VIRT"` -> the first F.
    let (off, Message::AddOrderMpid(f)) = msgs[10] else {
        panic!("eleventh message is not F")
    };
    assert_eq!(off, 308);
    assert_eq!(f.order_ref(), 0x14b64);
    assert_eq!(f.shares(), 100);
    assert_eq!(f.price(), 0xceb5);
    assert_eq!(&f.attribution(), b"VIRT");

    // Offset 1077: `00 00 | 50 0002 0002 1f1d2a8ff961 0000000000000000 42 000000c8 "BOB     "
    // 0000d055 0000000000004bf7` -> the first P.
    let p = msgs
        .iter()
        .find_map(|(off, m)| match m {
            Message::Trade(p) => Some((*off, *p)),
            _ => None,
        })
        .expect("a P message");
    assert_eq!(p.0, 1077);
    let p = p.1;
    assert_eq!((p.stock_locate(), p.tracking_number()), (2, 2));
    assert_eq!(p.timestamp(), 0x1f1d_2a8f_f961);
    assert_eq!(p.side(), Some(Side::Buy));
    assert_eq!(p.shares(), 200);
    assert_eq!(p.price(), 0xd055);
    assert_eq!(p.match_number(), 0x4bf7);

    // The last message (offset 465,034) is S, end of messages.
    let (off, Message::SystemEvent(last)) = msgs[msgs.len() - 1] else {
        panic!("last message is not S")
    };
    assert_eq!(off, 465_034);
    assert_eq!(last.event_code(), b'C');
}

#[test]
fn normalises_the_whole_file() {
    let data = file();
    let mut norm = ItchNormalizer::new();
    let mut events = Vec::new();
    let mut per_instrument = [0u64; 3];
    for (_, msg) in decode_all(&data) {
        if let Some(ev) = norm.normalize(&msg) {
            per_instrument[ev.instrument.index()] += 1;
            events.push(ev);
        }
    }
    let stats = norm.stats();
    assert_eq!(stats.messages, 12_012);
    // Every message except the 3 R and 6 S becomes a book event.
    assert_eq!(stats.events, 12_003);
    assert_eq!(stats.anomalies(), 0);
    assert_eq!(stats.placeholders, 0);
    assert_eq!(stats.instruments_registered, 3);
    for (t, expected) in EXPECTED_COUNTS {
        assert_eq!(stats.count(t), expected, "{t:?}");
    }
    let symbols: Vec<_> = norm
        .instruments()
        .iter()
        .map(|i| i.symbol.as_str())
        .collect();
    assert_eq!(symbols, ["ALC", "BOB", "CHAR"]);
    // Per locate, from the same Python walk: ALC 3210, BOB 5164, CHAR 3629 book messages.
    assert_eq!(per_instrument, [3210, 5164, 3629]);

    // The first A (offset 232) as a normalised event.
    let first_add = events
        .iter()
        .find(|e| matches!(e.kind, BookEventKind::Add { .. }))
        .expect("an add");
    assert_eq!(
        *first_add,
        MarketEvent {
            instrument: InstrumentId(1),
            exch_ts: Timestamp(31_139_052_372_053),
            kind: BookEventKind::Add {
                order_id: OrderId(0),
                side: Side::Buy,
                price: "5.3167".parse::<Price>().unwrap(),
                qty: Qty::from_units(1000).unwrap(),
            },
        }
    );
}

#[test]
fn length_prefixed_copy_frames_identically() {
    let data = file();
    let prefixed = length_prefixed(&data);
    assert_eq!(prefixed.len(), data.len());
    // The first message is S: 12 bytes.
    assert_eq!(&prefixed[..3], &[0, 12, b'S']);
    let original: Vec<Frame<'_>> = ItchFramer::new(&data).map(Result::unwrap).collect();
    let mut framer = ItchFramer::new(&prefixed);
    let reframed: Vec<Frame<'_>> = framer.by_ref().map(Result::unwrap).collect();
    assert_eq!(framer.stats().errors, 0);
    assert_eq!(original, reframed);
    for frame in &reframed {
        let prefix = u16::from_be_bytes([prefixed[frame.offset], prefixed[frame.offset + 1]]);
        assert_eq!(Some(usize::from(prefix)), message_len(frame.message[0]));
        assert_eq!(frame.message_offset(), frame.offset + PREFIX_LEN);
    }
}
