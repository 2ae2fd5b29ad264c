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

use kestrel_core::book::{L3Books, OrderLookup, PrefetchBatch};
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

/// Calls `each` with the look-up of every order message of one MoldUDP64 datagram, in order,
/// until it returns `false`. Reads the blocks without validating the packet (the sequencer
/// does that next) and stops at the first block that does not fit.
#[inline(always)]
fn for_each_lookup(
    datagram: &[u8],
    normalizer: &ItchNormalizer,
    mut each: impl FnMut(OrderLookup) -> bool,
) {
    let Some(&[hi, lo]) = datagram.get(HEADER_LEN - 2..HEADER_LEN) else {
        return;
    };
    let count = u16::from_be_bytes([hi, lo]);
    if count == END_OF_SESSION_COUNT {
        return;
    }
    let mut rest = &datagram[HEADER_LEN..];
    for _ in 0..count {
        let Some(&[hi, lo]) = rest.get(..BLOCK_PREFIX_LEN) else {
            break;
        };
        let end = BLOCK_PREFIX_LEN + usize::from(u16::from_be_bytes([hi, lo]));
        let Some(message) = rest.get(BLOCK_PREFIX_LEN..end) else {
            break;
        };
        rest = &rest[end..];
        if let Some(lookup) = order_lookup(message, normalizer)
            && !each(lookup)
        {
            return;
        }
    }
}

/// Prefetches for the order messages of one MoldUDP64 datagram, [`BATCH`] at a time (see
/// `for_each_lookup`).
#[inline]
pub(super) fn prefetch_datagram(datagram: &[u8], normalizer: &ItchNormalizer, books: &L3Books) {
    let mut batch = [OrderLookup::Resting {
        instrument: InstrumentId(0),
        order_id: OrderId(0),
    }; BATCH];
    let mut n = 0;
    for_each_lookup(datagram, normalizer, |lookup| {
        batch[n] = lookup;
        n += 1;
        if n == BATCH {
            books.prefetch_batch(&batch);
            n = 0;
        }
        true
    });
    books.prefetch_batch(&batch[..n]);
}

/// Datagrams a [`LookAhead`] holds: one pass each of the four of a prefetch
/// ([`L3Books::prefetch_step`]) runs between two applied datagrams, so a datagram announced
/// this many datagrams before it is applied has every pass a datagram apart.
pub(super) const LOOKAHEAD: usize = 4;

/// One announced datagram: its identity (address and length: the caller passes the same
/// slice to be applied) and its look-ups' prefetch.
#[derive(Debug)]
struct Ahead {
    key: (usize, usize),
    batch: PrefetchBatch,
    /// Its order messages did not all fit the batch: it is prefetched whole when applied.
    overflow: bool,
}

/// The datagrams announced before they are applied, oldest first, with their prefetch under
/// way: a software pipeline across datagrams (pass 1 of the newest, pass 2 of the one before,
/// ..., while the oldest is applied), so the passes no longer wait on their own misses.
#[derive(Debug)]
pub(super) struct LookAhead {
    ring: Box<[Ahead; LOOKAHEAD]>,
    head: usize,
    len: usize,
}

impl Default for LookAhead {
    fn default() -> Self {
        Self {
            ring: Box::new(core::array::from_fn(|_| Ahead {
                key: (0, 0),
                batch: PrefetchBatch::new(),
                overflow: false,
            })),
            head: 0,
            len: 0,
        }
    }
}

/// A datagram's identity in a [`LookAhead`]: its address and length (compared, never read).
#[inline(always)]
fn key_of(datagram: &[u8]) -> (usize, usize) {
    (datagram.as_ptr() as usize, datagram.len())
}

impl LookAhead {
    /// Whether no datagram is announced.
    #[inline(always)]
    pub(super) const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every announced datagram.
    pub(super) fn clear(&mut self) {
        self.len = 0;
    }

    /// Announces `datagram` as the next to be applied after those announced before it, and
    /// runs the first pass of its prefetch. When the ring is full the oldest announcement is
    /// dropped (that datagram is then prefetched whole when applied, if at all).
    #[inline]
    pub(super) fn announce(
        &mut self,
        datagram: &[u8],
        normalizer: &ItchNormalizer,
        books: &L3Books,
    ) {
        if self.len == LOOKAHEAD {
            self.head = (self.head + 1) % LOOKAHEAD;
            self.len -= 1;
        }
        let e = &mut self.ring[(self.head + self.len) % LOOKAHEAD];
        self.len += 1;
        e.key = key_of(datagram);
        e.batch.clear();
        e.overflow = false;
        let (batch, overflow) = (&mut e.batch, &mut e.overflow);
        for_each_lookup(datagram, normalizer, |lookup| {
            *overflow = !batch.push(lookup);
            !*overflow
        });
        books.prefetch_step(&mut e.batch);
    }

    /// Before `datagram` is applied: if it was announced, finishes its prefetch (announcements
    /// older than it, never applied, are dropped) and returns `true`; then advances every later
    /// announcement by one pass. `false` when it was not announced (nothing changes).
    #[inline]
    pub(super) fn before_apply(
        &mut self,
        datagram: &[u8],
        normalizer: &ItchNormalizer,
        books: &L3Books,
    ) -> bool {
        let key = key_of(datagram);
        let Some(at) = (0..self.len).find(|&k| self.ring[(self.head + k) % LOOKAHEAD].key == key)
        else {
            return false;
        };
        let e = &mut self.ring[(self.head + at) % LOOKAHEAD];
        if e.overflow {
            prefetch_datagram(datagram, normalizer, books);
        } else {
            books.prefetch_rest(&mut e.batch);
        }
        self.head = (self.head + at + 1) % LOOKAHEAD;
        self.len -= at + 1;
        for k in 0..self.len {
            books.prefetch_step(&mut self.ring[(self.head + k) % LOOKAHEAD].batch);
        }
        true
    }
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

    /// A MoldUDP64 datagram of `messages`.
    fn datagram(messages: &[Vec<u8>]) -> Vec<u8> {
        let mut builder = crate::moldudp64::MoldPacketBuilder::with_max_packet(
            crate::moldudp64::MoldSession::from_name("LA").unwrap(),
            1,
            8192,
        );
        let mut out = Vec::new();
        for m in messages {
            assert!(!builder.push(m, &mut out).unwrap());
        }
        builder.finish_into(&mut out);
        out
    }

    fn delete(order_ref: u64) -> Vec<u8> {
        OrderDeleteMsg {
            stock_locate: 7,
            order_ref,
            ..OrderDeleteMsg::default()
        }
        .to_bytes()
        .unwrap()
        .to_vec()
    }

    #[test]
    fn the_look_ahead_pipelines_announced_datagrams_in_order() {
        let n = normalizer();
        let books = L3Books::new(kestrel_core::book::BookConfig::default());
        let d: Vec<Vec<u8>> = (0..LOOKAHEAD as u64 + 2)
            .map(|k| datagram(&[delete(k), delete(k + 100)]))
            .collect();
        let mut ahead = LookAhead::default();
        assert!(ahead.is_empty());
        assert!(!ahead.before_apply(&d[0], &n, &books), "not announced");
        for x in &d[..3] {
            ahead.announce(x, &n, &books);
        }
        let passes = |a: &LookAhead| -> Vec<u8> {
            (0..a.len)
                .map(|k| a.ring[(a.head + k) % LOOKAHEAD].batch.passes())
                .collect()
        };
        assert_eq!(passes(&ahead), [1, 1, 1]);
        assert_eq!(ahead.ring[ahead.head].batch.lookups().len(), 2);
        // Applying the first finishes it and moves the others one pass on.
        assert!(ahead.before_apply(&d[0], &n, &books));
        assert_eq!(passes(&ahead), [2, 2]);
        // An equal copy at another address is another datagram.
        assert!(!ahead.before_apply(&d[1].clone(), &n, &books));
        assert_eq!(passes(&ahead), [2, 2]);
        // Applying the third drops the second (announced, never applied).
        assert!(ahead.before_apply(&d[2], &n, &books));
        assert!(ahead.is_empty());
        // A full ring drops its oldest announcement.
        for x in &d {
            ahead.announce(x, &n, &books);
        }
        assert_eq!(ahead.len, LOOKAHEAD);
        assert!(!ahead.before_apply(&d[1], &n, &books));
        assert!(ahead.before_apply(&d[2], &n, &books));
        ahead.clear();
        assert!(ahead.is_empty());
    }

    #[test]
    fn a_datagram_with_more_order_messages_than_a_batch_is_prefetched_whole() {
        let n = normalizer();
        let books = L3Books::new(kestrel_core::book::BookConfig::default());
        let many: Vec<Vec<u8>> = (0..PrefetchBatch::CAPACITY as u64 + 1)
            .map(delete)
            .collect();
        let big = datagram(&many);
        let mut ahead = LookAhead::default();
        ahead.announce(&big, &n, &books);
        let e = &ahead.ring[ahead.head];
        assert!(e.overflow);
        assert_eq!(e.batch.lookups().len(), PrefetchBatch::CAPACITY);
        assert!(ahead.before_apply(&big, &n, &books));
        let small = datagram(&many[..PrefetchBatch::CAPACITY]);
        ahead.announce(&small, &n, &books);
        assert!(!ahead.ring[ahead.head].overflow);
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
