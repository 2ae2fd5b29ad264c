//! OUCH 4.2 golden tests: every inbound and outbound message against bytes laid out by hand
//! from the specification's tables (big-endian integers, alpha left-justified and space padded,
//! prices in 1/10,000, timestamps in nanoseconds since midnight).

use kestrel_gateway::ouch::{
    Accepted, AiqCanceled, BrokenTrade, BuySell, CancelOrder, CancelPending, CancelReject,
    Canceled, ClientMessage, ClientMessageView, EncodeError, EnterOrder, EventCode, Executed,
    ExecutedView, Firm, IsoEligibility, ModifyOrder, OrderModified, OrderState, OuchError, Price4,
    PriorityUpdate, Rejected, ReplaceOrder, Replaced, ServerMessage, ServerMessageView, Stock,
    SystemEvent, Token,
};

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// 09:30:00.000000000 in nanoseconds since midnight: 34,200,000,000,000.
const TS: [u8; 8] = [0x00, 0x00, 0x1F, 0x1A, 0xCE, 0xD9, 0xF0, 0x00];
const TS_NS: u64 = 34_200_000_000_000;

fn tok(s: &str) -> Token {
    Token::new(s).unwrap()
}

fn check_client(msg: ClientMessage, expected: &[u8]) {
    let mut buf = [0u8; 128];
    let n = msg.encode(&mut buf).unwrap();
    assert_eq!(&buf[..n], expected, "encoding {msg:?}");
    assert_eq!(n, msg.encoded_len());
    let view = ClientMessageView::decode(expected).unwrap();
    assert_eq!(view.to_msg(), msg);
    assert_eq!(view.as_bytes(), expected);
    // Every truncation and every extension is a length error, never a panic.
    for cut in 1..expected.len() {
        assert!(matches!(
            ClientMessageView::decode(&expected[..cut]),
            Err(OuchError::BadLength { .. })
        ));
    }
    let mut longer = expected.to_vec();
    longer.push(b' ');
    assert!(matches!(
        ClientMessageView::decode(&longer),
        Err(OuchError::BadLength { .. })
    ));
}

fn check_server(msg: ServerMessage, expected: &[u8]) {
    let mut buf = [0u8; 128];
    let n = msg.encode(&mut buf).unwrap();
    assert_eq!(&buf[..n], expected, "encoding {msg:?}");
    assert_eq!(n, msg.encoded_len());
    let view = ServerMessageView::decode(expected).unwrap();
    assert_eq!(view.to_msg(), msg);
    for cut in 1..expected.len() {
        assert!(matches!(
            ServerMessageView::decode(&expected[..cut]),
            Err(OuchError::BadLength { .. })
        ));
    }
}

#[test]
fn enter_order() {
    let expected = cat(&[
        b"O",                      // 0  Type
        b"KS00000000001A",         // 1  Order Token (14)
        b"B",                      // 15 Buy/Sell Indicator
        &[0x00, 0x00, 0x00, 0x64], // 16 Shares = 100
        b"AAPL    ",               // 20 Stock (8)
        &[0x00, 0x16, 0xED, 0x24], // 28 Price = 150.2500 -> 1,502,500
        &[0x00, 0x01, 0x86, 0x9F], // 32 Time in Force = 99,999 (system hours)
        b"KSTR",                   // 36 Firm (4)
        b"Y",                      // 40 Display: anonymous
        b"P",                      // 41 Capacity: principal
        b"N",                      // 42 Intermarket Sweep Eligibility: no
        &[0x00, 0x00, 0x00, 0x00], // 43 Minimum Quantity
        b"N",                      // 47 Cross Type: none
        b" ",                      // 48 Customer Type: port default
    ]);
    assert_eq!(expected.len(), 49);
    check_client(
        ClientMessage::EnterOrder(EnterOrder {
            token: tok("KS00000000001A"),
            side: BuySell::Buy,
            shares: 100,
            stock: Stock::new("AAPL").unwrap(),
            price: Price4(1_502_500),
            time_in_force: 99_999,
            firm: Firm::new("KSTR").unwrap(),
            display: b'Y',
            capacity: b'P',
            iso: IsoEligibility::NotEligible,
            min_qty: 0,
            cross_type: b'N',
            customer_type: b' ',
        }),
        &expected,
    );
}

#[test]
fn replace_order() {
    let expected = cat(&[
        b"U",                      // 0  Type
        b"TOKEN1        ",         // 1  Existing Order Token
        b"TOKEN2        ",         // 15 Replacement Order Token
        &[0x00, 0x00, 0x01, 0xF4], // 29 Shares = 500
        &[0x77, 0x35, 0x93, 0x9C], // 33 Price = 199,999.9900 (the largest limit price)
        &[0x00, 0x00, 0x00, 0x00], // 37 Time in Force = IOC
        b"A",                      // 41 Display: attributable
        b"Y",                      // 42 ISO eligible
        &[0x00, 0x00, 0x00, 0x64], // 43 Minimum Quantity = 100
    ]);
    assert_eq!(expected.len(), 47);
    check_client(
        ClientMessage::ReplaceOrder(ReplaceOrder {
            existing_token: tok("TOKEN1"),
            replacement_token: tok("TOKEN2"),
            shares: 500,
            price: Price4::MAX_LIMIT,
            time_in_force: 0,
            display: b'A',
            iso: IsoEligibility::Eligible,
            min_qty: 100,
        }),
        &expected,
    );
}

#[test]
fn cancel_and_modify_order() {
    let cancel = cat(&[
        b"X",                      // 0  Type
        b"TOKEN1        ",         // 1  Order Token
        &[0x00, 0x00, 0x00, 0x00], // 15 Shares = 0: cancel all
    ]);
    assert_eq!(cancel.len(), 19);
    check_client(
        ClientMessage::CancelOrder(CancelOrder {
            token: tok("TOKEN1"),
            shares: 0,
        }),
        &cancel,
    );
    let modify = cat(&[
        b"M",                      // 0  Type
        b"TOKEN1        ",         // 1  Order Token
        b"T",                      // 15 Buy/Sell Indicator: sell short
        &[0x00, 0x00, 0x00, 0x32], // 16 Shares = 50
    ]);
    assert_eq!(modify.len(), 20);
    check_client(
        ClientMessage::ModifyOrder(ModifyOrder {
            token: tok("TOKEN1"),
            side: BuySell::SellShort,
            shares: 50,
        }),
        &modify,
    );
}

#[test]
fn system_event() {
    let expected = cat(&[b"S", &TS, b"S"]);
    assert_eq!(expected.len(), 10);
    check_server(
        ServerMessage::SystemEvent(SystemEvent {
            timestamp: TS_NS,
            event: EventCode::StartOfDay,
        }),
        &expected,
    );
}

#[test]
fn accepted() {
    let expected = cat(&[
        b"A",                                              // 0  Type
        &TS,                                               // 1  Timestamp
        b"KS00000000001A",                                 // 9  Order Token
        b"S",                                              // 23 Buy/Sell Indicator
        &[0x00, 0x00, 0x00, 0x64],                         // 24 Shares = 100
        b"MSFT    ",                                       // 28 Stock
        &[0x00, 0x16, 0xED, 0x24],                         // 36 Price = 150.25
        &[0x00, 0x01, 0x86, 0x9E], // 40 Time in Force = 99,998 (market hours)
        b"KSTR",                   // 44 Firm
        b"Y",                      // 48 Display
        &[0x00, 0x00, 0x00, 0x00, 0x07, 0x5B, 0xCD, 0x15], // 49 Order Reference Number = 123,456,789
        b"P",                                              // 57 Capacity
        b"N",                                              // 58 ISO
        &[0x00, 0x00, 0x00, 0x00],                         // 59 Minimum Quantity
        b"N",                                              // 63 Cross Type
        b"L",                                              // 64 Order State: live
        b" ",                                              // 65 BBO Weight Indicator: unspecified
    ]);
    assert_eq!(expected.len(), 66);
    check_server(
        ServerMessage::Accepted(Accepted {
            timestamp: TS_NS,
            token: tok("KS00000000001A"),
            side: BuySell::Sell,
            shares: 100,
            stock: Stock::new("MSFT").unwrap(),
            price: Price4(1_502_500),
            time_in_force: 99_998,
            firm: Firm::new("KSTR").unwrap(),
            display: b'Y',
            order_ref: 123_456_789,
            capacity: b'P',
            iso: IsoEligibility::NotEligible,
            min_qty: 0,
            cross_type: b'N',
            order_state: OrderState::Live,
            bbo_weight: b' ',
        }),
        &expected,
    );
}

#[test]
fn replaced() {
    let expected = cat(&[
        b"U",                                              // 0  Type
        &TS,                                               // 1  Timestamp
        b"TOKEN2        ",                                 // 9  Replacement Order Token
        b"B",                                              // 23 Buy/Sell
        &[0x00, 0x00, 0x01, 0xF4],                         // 24 Shares = 500
        b"AAPL    ",                                       // 28 Stock
        &[0x00, 0x16, 0xED, 0x24],                         // 36 Price
        &[0x00, 0x01, 0x86, 0x9F],                         // 40 Time in Force
        b"    ",                                           // 44 Firm: blank
        b"A",                                              // 48 Display
        &[0x00, 0x00, 0x00, 0xE5, 0xF4, 0xC8, 0xF3, 0x74], // 49 Order Reference Number = 987,654,321,012
        b"A",                                              // 57 Capacity: agency
        b"N",                                              // 58 ISO
        &[0x00, 0x00, 0x00, 0x00],                         // 59 Minimum Quantity
        b"N",                                              // 63 Cross Type
        b"D",                                              // 64 Order State: dead
        b"TOKEN1        ",                                 // 65 Previous Order Token
        b"1",                                              // 79 BBO Weight Indicator
    ]);
    assert_eq!(expected.len(), 80);
    check_server(
        ServerMessage::Replaced(Replaced {
            timestamp: TS_NS,
            token: tok("TOKEN2"),
            side: BuySell::Buy,
            shares: 500,
            stock: Stock::new("AAPL").unwrap(),
            price: Price4(1_502_500),
            time_in_force: 99_999,
            firm: Firm::BLANK,
            display: b'A',
            order_ref: 987_654_321_012,
            capacity: b'A',
            iso: IsoEligibility::NotEligible,
            min_qty: 0,
            cross_type: b'N',
            order_state: OrderState::Dead,
            previous_token: tok("TOKEN1"),
            bbo_weight: b'1',
        }),
        &expected,
    );
}

#[test]
fn canceled_and_aiq_canceled() {
    let canceled = cat(&[
        b"C",                      // 0  Type
        &TS,                       // 1  Timestamp
        b"TOKEN1        ",         // 9  Order Token
        &[0x00, 0x00, 0x00, 0x64], // 23 Decrement Shares = 100
        b"U",                      // 27 Reason: user requested
    ]);
    assert_eq!(canceled.len(), 28);
    check_server(
        ServerMessage::Canceled(Canceled {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
            decrement_shares: 100,
            reason: b'U',
        }),
        &canceled,
    );
    let aiq = cat(&[
        b"D",                      // 0  Type
        &TS,                       // 1  Timestamp
        b"TOKEN1        ",         // 9  Order Token
        &[0x00, 0x00, 0x00, 0x64], // 23 Decrement Shares
        b"Q",                      // 27 Reason: self-match prevention
        &[0x00, 0x00, 0x00, 0x32], // 28 Quantity Prevented from Trading = 50
        &[0x00, 0x16, 0xED, 0x24], // 32 Execution Price
        b"R",                      // 36 Liquidity Flag
    ]);
    assert_eq!(aiq.len(), 37);
    check_server(
        ServerMessage::AiqCanceled(AiqCanceled {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
            decrement_shares: 100,
            reason: b'Q',
            quantity_prevented: 50,
            execution_price: Price4(1_502_500),
            liquidity_flag: b'R',
        }),
        &aiq,
    );
}

#[test]
fn executed() {
    let expected = cat(&[
        b"E",                                              // 0  Type
        &TS,                                               // 1  Timestamp
        b"KS00000000001A",                                 // 9  Order Token
        &[0x00, 0x00, 0x00, 0x32],                         // 23 Executed Shares = 50
        &[0x00, 0x16, 0xED, 0x24],                         // 27 Execution Price = 150.25
        b"A",                                              // 31 Liquidity Flag: added
        &[0x00, 0x00, 0x00, 0x00, 0x07, 0x5B, 0xCD, 0x15], // 32 Match Number = 123,456,789
    ]);
    assert_eq!(expected.len(), 40);
    let msg = Executed {
        timestamp: TS_NS,
        token: tok("KS00000000001A"),
        executed_shares: 50,
        execution_price: Price4(1_502_500),
        liquidity_flag: b'A',
        match_number: 123_456_789,
    };
    check_server(ServerMessage::Executed(msg), &expected);
    let view = ExecutedView::new(&expected).unwrap();
    assert_eq!(view.execution_price().to_price(), "150.25".parse().unwrap());
    assert_eq!(view.match_number(), 123_456_789);
}

#[test]
fn broken_trade_rejected_and_cancel_answers() {
    let broken = cat(&[
        b"B",
        &TS,
        b"TOKEN1        ",
        &[0x00, 0x00, 0x00, 0x00, 0x07, 0x5B, 0xCD, 0x15], // 23 Match Number
        b"E",                                              // 31 Reason: erroneous
    ]);
    assert_eq!(broken.len(), 32);
    check_server(
        ServerMessage::BrokenTrade(BrokenTrade {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
            match_number: 123_456_789,
            reason: b'E',
        }),
        &broken,
    );
    let rejected = cat(&[b"J", &TS, b"TOKEN1        ", b"X"]); // 23 Reason: invalid price
    assert_eq!(rejected.len(), 24);
    check_server(
        ServerMessage::Rejected(Rejected {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
            reason: b'X',
        }),
        &rejected,
    );
    let pending = cat(&[b"P", &TS, b"TOKEN1        "]);
    assert_eq!(pending.len(), 23);
    check_server(
        ServerMessage::CancelPending(CancelPending {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
        }),
        &pending,
    );
    let reject = cat(&[b"I", &TS, b"TOKEN1        "]);
    check_server(
        ServerMessage::CancelReject(CancelReject {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
        }),
        &reject,
    );
}

#[test]
fn priority_update_and_order_modified() {
    let update = cat(&[
        b"T",                                              // 0  Type
        &TS,                                               // 1  Timestamp
        b"TOKEN1        ",                                 // 9  Order Token
        &[0x00, 0x16, 0xED, 0x24],                         // 23 Price
        b"A",                                              // 27 Display
        &[0x00, 0x00, 0x00, 0x00, 0x07, 0x5B, 0xCD, 0x15], // 28 Order Reference Number
    ]);
    assert_eq!(update.len(), 36);
    check_server(
        ServerMessage::PriorityUpdate(PriorityUpdate {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
            price: Price4(1_502_500),
            display: b'A',
            order_ref: 123_456_789,
        }),
        &update,
    );
    let modified = cat(&[
        b"M",                      // 0  Type
        &TS,                       // 1  Timestamp
        b"TOKEN1        ",         // 9  Order Token
        b"S",                      // 23 Buy/Sell
        &[0x00, 0x00, 0x00, 0x32], // 24 Shares
    ]);
    assert_eq!(modified.len(), 28);
    check_server(
        ServerMessage::OrderModified(OrderModified {
            timestamp: TS_NS,
            token: tok("TOKEN1"),
            side: BuySell::Sell,
            shares: 50,
        }),
        &modified,
    );
}

#[test]
fn same_type_byte_means_different_messages_by_direction() {
    // 'U' and 'M' are Replace Order / Modify Order inbound and Replaced / Order Modified
    // outbound: the direction decides.
    let modify = cat(&[b"M", b"TOKEN1        ", b"S", &[0, 0, 0, 1]]);
    assert!(matches!(
        ClientMessageView::decode(&modify),
        Ok(ClientMessageView::ModifyOrder(_))
    ));
    assert!(matches!(
        ServerMessageView::decode(&modify),
        Err(OuchError::BadLength {
            msg_type: b'M',
            expected: 28,
            actual: 20
        })
    ));
}

#[test]
fn bad_codes_unknown_types_and_small_buffers_are_typed_errors() {
    let mut exec = cat(&[
        b"E",
        &TS,
        b"TOKEN1        ",
        &[0, 0, 0, 1],
        &[0, 0, 0, 1],
        b"A",
    ]);
    exec.extend_from_slice(&[0; 8]);
    assert!(ServerMessageView::decode(&exec).is_ok());
    let mut accepted = vec![b'A'];
    accepted.extend_from_slice(&[b' '; 65]);
    // Side ' ' at offset 23 is not B/S/T/E.
    assert_eq!(
        ServerMessageView::decode(&accepted),
        Err(OuchError::BadField {
            msg_type: b'A',
            field: "side",
            offset: 23,
            value: b' '
        })
    );
    assert_eq!(
        ServerMessageView::decode(b"Q123"),
        Err(OuchError::UnknownType {
            msg_type: b'Q',
            direction: "outbound"
        })
    );
    assert_eq!(
        ClientMessageView::decode(b"A"),
        Err(OuchError::UnknownType {
            msg_type: b'A',
            direction: "inbound"
        })
    );
    assert_eq!(ServerMessageView::decode(b""), Err(OuchError::Empty));
    let cancel = ClientMessage::CancelOrder(CancelOrder {
        token: tok("T"),
        shares: 0,
    });
    let mut small = [0u8; 18];
    assert_eq!(
        cancel.encode(&mut small),
        Err(EncodeError::BufferTooSmall {
            needed: 19,
            available: 18
        })
    );
}
