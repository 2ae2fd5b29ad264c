//! The consumer stage for now: counts the book updates and hashes their content (the output
//! hash that proves inline and threaded runs did the same thing). Strategy and gateway stages
//! take its place later.

use super::{Emit, Stage};
use crate::book::StableHasher;
use crate::top::{BookTop, BookUpdate, LevelView};

/// Event count and a 64-bit hash over every update's content, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutputHash {
    /// Updates seen.
    pub events: u64,
    /// A chain of folded multiplies, two 64-bit words per step: the state xor the first word
    /// times the second word xor a constant, as a full 128-bit product whose halves are xored
    /// back into 64 bits (the mixing step of wyhash and foldhash). Per update, in order: the
    /// instrument and sequence, exchange and receive time, the two sides' visible level
    /// counts, each visible level's price and quantity (bids best first, then asks), the
    /// trade's price and quantity, and its aggressor with the trading flag (not the latency
    /// stamps). Starts from the FNV-1a offset. About 25 multiplies per update on a ten-level
    /// book, half the one-word-per-step chain it replaced (before 2026-11-29 evening: FNV-style
    /// `(h ^ w) * prime` with a xor-shift, one word per step), so the same updates give a
    /// different value than before that date.
    pub hash: u64,
}

const FNV_OFFSET: u64 = StableHasher::OFFSET;
/// Odd constant xored into each step's second word (the fractional part of the golden ratio,
/// as in Fibonacci hashing): only a word equal to it would zero a product whatever the
/// state, and no price, quantity, count or time of an update is near it (its top bit is set).
const FOLD_KEY: u64 = 0x9e37_79b9_7f4a_7c15;

impl Default for OutputHash {
    fn default() -> Self {
        Self {
            events: 0,
            hash: FNV_OFFSET,
        }
    }
}

impl OutputHash {
    /// One step: two words folded into the state.
    #[inline(always)]
    fn pair(&mut self, a: u64, b: u64) {
        let m = u128::from(self.hash ^ a) * u128::from(b ^ FOLD_KEY);
        self.hash = (m as u64) ^ ((m >> 64) as u64);
    }

    #[inline(always)]
    fn levels(&mut self, levels: &[LevelView]) {
        for l in levels {
            self.pair(l.price.raw() as u64, l.qty.raw() as u64);
        }
    }

    /// Folds one update into the hash.
    #[inline]
    pub fn add(&mut self, u: &BookUpdate) {
        self.events += 1;
        self.pair(u64::from(u.instrument.0), u.seq);
        self.pair(u.exch_ts.nanos(), u.recv_ts.nanos());
        let top: &BookTop = &u.top;
        let bids = top.side(crate::side::Side::Buy);
        let asks = top.side(crate::side::Side::Sell);
        self.pair(bids.len() as u64, asks.len() as u64);
        self.levels(bids);
        self.levels(asks);
        self.pair(u.trade.price.raw() as u64, u.trade.qty.raw() as u64);
        self.pair(
            u64::from(u.trade.aggressor as u8) | (u64::from(u.trading) << 8),
            0,
        );
    }
}

/// The placeholder consumer stage: hashes every update, emits nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpdateHasher {
    out: OutputHash,
    batches: u64,
}

impl UpdateHasher {
    /// The count and hash so far.
    pub fn output(&self) -> OutputHash {
        self.out
    }

    /// Batches the ring delivered (end-of-batch signals seen).
    pub fn batches(&self) -> u64 {
        self.batches
    }
}

impl Stage for UpdateHasher {
    type In = BookUpdate;
    type Out = ();

    #[inline]
    fn on_event<E: Emit<()>>(&mut self, event: &BookUpdate, _out: &mut E) {
        self.out.add(event);
    }

    #[inline]
    fn on_end_of_batch<E: Emit<()>>(&mut self, _out: &mut E) {
        self.batches += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Stamps;
    use crate::time::Timestamp;

    /// Every field the hash covers changes it, a price moved between the sides or between
    /// levels too (the level counts keep the sides apart).
    #[test]
    fn every_hashed_field_changes_the_hash() {
        use crate::fixed::{Price, Qty};
        let mut base = BookUpdate {
            seq: 7,
            ..BookUpdate::default()
        };
        base.top.bids[0] = LevelView {
            price: Price::from_units(10).unwrap(),
            qty: Qty::from_units(3).unwrap(),
        };
        base.top.bids[1] = LevelView {
            price: Price::from_units(9).unwrap(),
            qty: Qty::from_units(4).unwrap(),
        };
        base.top.bid_levels = 2;
        base.top.asks[0] = LevelView {
            price: Price::from_units(11).unwrap(),
            qty: Qty::from_units(5).unwrap(),
        };
        base.top.ask_levels = 1;
        let h = |u: &BookUpdate| {
            let mut o = OutputHash::default();
            o.add(u);
            o.hash
        };
        let b = h(&base);
        let mut variants: Vec<BookUpdate> = Vec::new();
        let mut v = base;
        v.instrument.0 = 1;
        variants.push(v);
        let mut v = base;
        v.seq = 8;
        variants.push(v);
        let mut v = base;
        v.exch_ts = Timestamp(1);
        variants.push(v);
        let mut v = base;
        v.recv_ts = Timestamp(1);
        variants.push(v);
        let mut v = base;
        v.top.bids[1].qty = Qty::from_units(5).unwrap();
        variants.push(v);
        let mut v = base;
        v.top.bids[1].price = Price::from_units(8).unwrap();
        variants.push(v);
        // The second bid moved to the ask side.
        let mut v = base;
        v.top.asks[1] = v.top.bids[1];
        v.top.bids[1] = LevelView::default();
        v.top.bid_levels = 1;
        v.top.ask_levels = 2;
        variants.push(v);
        let mut v = base;
        v.top.bid_levels = 1;
        variants.push(v);
        let mut v = base;
        v.trade.price = Price::from_units(10).unwrap();
        variants.push(v);
        let mut v = base;
        v.trade.qty = Qty::from_units(1).unwrap();
        variants.push(v);
        let mut v = base;
        v.trade.aggressor = 1;
        variants.push(v);
        let mut v = base;
        v.trading = !v.trading;
        variants.push(v);
        let mut seen = vec![b];
        for (i, v) in variants.iter().enumerate() {
            let x = h(v);
            assert!(!seen.contains(&x), "variant {i} collides");
            seen.push(x);
        }
    }

    #[test]
    fn hash_depends_on_content_and_order_not_stamps() {
        let a = BookUpdate {
            seq: 1,
            ..BookUpdate::default()
        };
        let b = BookUpdate {
            seq: 2,
            ..BookUpdate::default()
        };
        let mut ab = OutputHash::default();
        ab.add(&a);
        ab.add(&b);
        let mut ba = OutputHash::default();
        ba.add(&b);
        ba.add(&a);
        assert_ne!(ab, ba);
        let mut stamped = OutputHash::default();
        let a2 = BookUpdate {
            stamps: Stamps {
                recv: Timestamp(5),
                ..Stamps::default()
            },
            ..a
        };
        stamped.add(&a2);
        stamped.add(&b);
        assert_eq!(stamped, ab);
        assert_eq!(ab.events, 2);
    }
}
