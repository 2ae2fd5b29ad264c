//! Property tests: the decoders never panic on arbitrary bytes, and every encodable message
//! decodes back to itself.

use kestrel_gateway::ouch::{
    BuySell, ClientMessage, ClientMessageView, EnterOrder, Executed, Firm, IsoEligibility, Price4,
    ServerMessage, ServerMessageView, Stock, Token,
};
use kestrel_gateway::soupbin::{ClientPacket, RecvBuffer, ServerPacket};
use proptest::prelude::*;

fn alnum(len: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9]{{0,{len}}}")).unwrap()
}

fn side() -> impl Strategy<Value = BuySell> {
    prop_oneof![
        Just(BuySell::Buy),
        Just(BuySell::Sell),
        Just(BuySell::SellShort),
        Just(BuySell::SellShortExempt)
    ]
}

proptest! {
    #[test]
    fn ouch_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = ServerMessageView::decode(&bytes).map(|v| v.to_msg());
        let _ = ClientMessageView::decode(&bytes).map(|v| v.to_msg());
    }

    #[test]
    fn soupbin_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = ServerPacket::decode(&bytes);
        let _ = ClientPacket::decode(&bytes);
        let mut rb = RecvBuffer::new(0);
        rb.extend_from_slice(&bytes);
        while let Ok(Some(p)) = rb.next_packet() {
            let _ = ServerPacket::decode(p);
        }
    }

    #[test]
    fn enter_order_round_trips(
        token in alnum(14), side in side(), shares in any::<u32>(), stock in alnum(8),
        price in any::<u32>(), tif in any::<u32>(), firm in alnum(4), min_qty in any::<u32>(),
    ) {
        let msg = ClientMessage::EnterOrder(EnterOrder {
            token: Token::new(&token).unwrap(),
            side,
            shares,
            stock: Stock::new(&stock).unwrap(),
            price: Price4(price),
            time_in_force: tif,
            firm: Firm::new(&firm).unwrap(),
            display: b'Y',
            capacity: b'P',
            iso: IsoEligibility::NotEligible,
            min_qty,
            cross_type: b'N',
            customer_type: b' ',
        });
        let mut buf = [0u8; 64];
        let n = msg.encode(&mut buf).unwrap();
        prop_assert_eq!(ClientMessageView::decode(&buf[..n]).unwrap().to_msg(), msg);
    }

    #[test]
    fn executed_round_trips(
        ts in any::<u64>(), token in alnum(14), shares in any::<u32>(), price in any::<u32>(),
        flag in any::<u8>(), m in any::<u64>(),
    ) {
        let msg = ServerMessage::Executed(Executed {
            timestamp: ts,
            token: Token::new(&token).unwrap(),
            executed_shares: shares,
            execution_price: Price4(price),
            liquidity_flag: flag,
            match_number: m,
        });
        let mut buf = [0u8; 64];
        let n = msg.encode(&mut buf).unwrap();
        prop_assert_eq!(ServerMessageView::decode(&buf[..n]).unwrap().to_msg(), msg);
    }
}
