//! Packet-batched prefetch: before a MoldUDP64 packet is sequenced and its messages applied one
//! by one, its order messages are read for what they will look up
//! ([`OrderLookup`]) and the books prefetch that in a few passes
//! ([`L3Books::prefetch_batch`]), so that the cache misses of a packet's messages overlap
//! instead of following one another.
//!
//! Only reads: the packet then goes through the sequencer, the decoder and the books exactly
//! as without it (a duplicate or held packet is prefetched for nothing). Messages that cannot
//! be read here (a bad block, a short message, a locate with no instrument yet) are skipped;
//! the ordinary path counts them as it always does.

use kestrel_core::book::{L3Books, OrderLookup};
use kestrel_core::{InstrumentId, OrderId, Price};

use crate::itch::{
    AddOrder, AddOrderMpid, ItchNormalizer, OrderCancel, OrderDelete, OrderExecuted,
    OrderExecutedWithPrice, OrderReplace,
};
use crate::moldudp64::packet::BLOCK_PREFIX_LEN;
use crate::moldudp64::{END_OF_SESSION_COUNT, HEADER_LEN};

/// Order messages prefetched together: more than a busy feed's packet carries (about 44 in the
/// synthetic full-market day), few enough that what the first pass brings in is still cached
/// when the messages are applied.
pub(super) const BATCH: usize = 64;

/// An ITCH `Price(4)` as the normaliser reads it (a hint: a price it reads otherwise only
/// costs a wasted prefetch).
#[inline(always)]
fn price4(raw: u32) -> Price {
    Price::from_scaled(i64::from(raw), 4).unwrap_or(Price::MAX)
}

/// What the order message `bytes` will look up, if it is one the books can prefetch for.
#[inline(always)]
pub(super) fn order_lookup(bytes: &[u8], normalizer: &ItchNormalizer) -> Option<OrderLookup> {
    let instrument = |locate: u16| normalizer.instrument_for_locate(locate);
    let resting = |instrument: InstrumentId, order_ref: u64| OrderLookup::Resting {
        instrument,
        order_id: OrderId(order_ref),
    };
    match *bytes.first()? {
        AddOrder::TYPE => {
            let m = AddOrder::new(bytes).ok()?;
            Some(OrderLookup::Add {
                instrument: instrument(m.stock_locate())?,
                order_id: OrderId(m.order_ref()),
                side: m.side()?,
                price: price4(m.price()),
            })
        }
        AddOrderMpid::TYPE => {
            let m = AddOrderMpid::new(bytes).ok()?;
            Some(OrderLookup::Add {
                instrument: instrument(m.stock_locate())?,
                order_id: OrderId(m.order_ref()),
                side: m.side()?,
                price: price4(m.price()),
            })
        }
        OrderExecuted::TYPE => {
            let m = OrderExecuted::new(bytes).ok()?;
            Some(resting(instrument(m.stock_locate())?, m.order_ref()))
        }
        OrderExecutedWithPrice::TYPE => {
            let m = OrderExecutedWithPrice::new(bytes).ok()?;
            Some(resting(instrument(m.stock_locate())?, m.order_ref()))
        }
        OrderCancel::TYPE => {
            let m = OrderCancel::new(bytes).ok()?;
            Some(resting(instrument(m.stock_locate())?, m.order_ref()))
        }
        OrderDelete::TYPE => {
            let m = OrderDelete::new(bytes).ok()?;
            Some(resting(instrument(m.stock_locate())?, m.order_ref()))
        }
        OrderReplace::TYPE => {
            let m = OrderReplace::new(bytes).ok()?;
            Some(OrderLookup::Replace {
                instrument: instrument(m.stock_locate())?,
                old_order_id: OrderId(m.original_order_ref()),
                new_order_id: OrderId(m.new_order_ref()),
                price: price4(m.price()),
            })
        }
        _ => None,
    }
}

/// Prefetches for the order messages of one MoldUDP64 datagram, [`BATCH`] at a time. Reads
/// the blocks without validating the packet (the sequencer does that next) and stops at the
/// first block that does not fit.
#[inline]
pub(super) fn prefetch_datagram(datagram: &[u8], normalizer: &ItchNormalizer, books: &L3Books) {
    let Some(&[hi, lo]) = datagram.get(HEADER_LEN - 2..HEADER_LEN) else {
        return;
    };
    let count = u16::from_be_bytes([hi, lo]);
    if count == END_OF_SESSION_COUNT {
        return;
    }
    let mut rest = &datagram[HEADER_LEN..];
    let mut batch = [OrderLookup::Resting {
        instrument: InstrumentId(0),
        order_id: OrderId(0),
    }; BATCH];
    let mut n = 0;
    for _ in 0..count {
        let Some(&[hi, lo]) = rest.get(..BLOCK_PREFIX_LEN) else {
            break;
        };
        let end = BLOCK_PREFIX_LEN + usize::from(u16::from_be_bytes([hi, lo]));
        let Some(message) = rest.get(BLOCK_PREFIX_LEN..end) else {
            break;
        };
        rest = &rest[end..];
        if let Some(lookup) = order_lookup(message, normalizer) {
            batch[n] = lookup;
            n += 1;
            if n == BATCH {
                books.prefetch_batch(&batch);
                n = 0;
            }
        }
    }
    books.prefetch_batch(&batch[..n]);
}

#[cfg(test)]
mod tests {
    use kestrel_core::Side;

    use super::*;
    use crate::itch::{
        AddOrderMpidMsg, AddOrderMsg, OrderDeleteMsg, OrderExecutedMsg, OrderReplaceMsg,
        StockDirectoryMsg, TradeMsg, decode, stock_field,
    };

    /// A normaliser with locate 7 bound to its first instrument.
    fn normalizer() -> ItchNormalizer {
        let mut n = ItchNormalizer::new();
        let r = StockDirectoryMsg {
            stock_locate: 7,
            stock: stock_field("TEST").unwrap(),
            ..StockDirectoryMsg::default()
        }
        .to_bytes()
        .unwrap();
        n.normalize(&decode(&r).unwrap());
        n
    }

    #[test]
    fn order_messages_name_their_look_ups() {
        let n = normalizer();
        let i = n.instrument_for_locate(7).unwrap();
        let add = AddOrderMsg {
            stock_locate: 7,
            order_ref: 11,
            side_code: b'S',
            shares: 100,
            price: 12_345,
            ..AddOrderMsg::default()
        }
        .to_bytes()
        .unwrap();
        assert_eq!(
            order_lookup(&add, &n),
            Some(OrderLookup::Add {
                instrument: i,
                order_id: OrderId(11),
                side: Side::Sell,
                price: Price::from_scaled(12_345, 4).unwrap()
            })
        );
        let add_f = AddOrderMpidMsg {
            stock_locate: 7,
            order_ref: 12,
            side_code: b'B',
            ..AddOrderMpidMsg::default()
        }
        .to_bytes()
        .unwrap();
        assert_eq!(
            order_lookup(&add_f, &n),
            Some(OrderLookup::Add {
                instrument: i,
                order_id: OrderId(12),
                side: Side::Buy,
                price: Price::ZERO
            })
        );
        let exec = OrderExecutedMsg {
            stock_locate: 7,
            order_ref: 13,
            ..OrderExecutedMsg::default()
        }
        .to_bytes()
        .unwrap();
        assert_eq!(
            order_lookup(&exec, &n),
            Some(OrderLookup::Resting {
                instrument: i,
                order_id: OrderId(13)
            })
        );
        let replace = OrderReplaceMsg {
            stock_locate: 7,
            original_order_ref: 14,
            new_order_ref: 15,
            price: 99,
            ..OrderReplaceMsg::default()
        }
        .to_bytes()
        .unwrap();
        assert_eq!(
            order_lookup(&replace, &n),
            Some(OrderLookup::Replace {
                instrument: i,
                old_order_id: OrderId(14),
                new_order_id: OrderId(15),
                price: Price::from_scaled(99, 4).unwrap()
            })
        );
        // Over-length is read (the block length is authoritative), short is skipped.
        let mut long = replace.to_vec();
        long.extend_from_slice(&[1, 2]);
        assert!(order_lookup(&long, &n).is_some());
        assert_eq!(order_lookup(&replace[..34], &n), None);
    }

    #[test]
    fn other_messages_bad_sides_and_unbound_locates_name_nothing() {
        let n = normalizer();
        let delete_elsewhere = OrderDeleteMsg {
            stock_locate: 8,
            order_ref: 1,
            ..OrderDeleteMsg::default()
        }
        .to_bytes()
        .unwrap();
        assert_eq!(order_lookup(&delete_elsewhere, &n), None);
        let bad_side = AddOrderMsg {
            stock_locate: 7,
            order_ref: 1,
            side_code: b'X',
            ..AddOrderMsg::default()
        }
        .to_bytes()
        .unwrap();
        assert_eq!(order_lookup(&bad_side, &n), None);
        let trade = TradeMsg {
            stock_locate: 7,
            ..TradeMsg::default()
        }
        .to_bytes()
        .unwrap();
        assert_eq!(order_lookup(&trade, &n), None);
        assert_eq!(order_lookup(&[], &n), None);
    }
}
