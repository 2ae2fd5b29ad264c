//! A deterministic generated feed of book updates, for tests and benchmarks that must not
//! depend on a capture file.

use super::{Emit, Source, SourceStatus};
use crate::clock::{Clock, Stamps, TscClock};
use crate::fixed::{Price, Qty};
use crate::ids::InstrumentId;
use crate::time::Timestamp;
use crate::top::{BookTop, BookUpdate, LevelView, TOP_LEVELS, TradeKind, TradePrint};

/// Generates `records` input records from a seed; about two in three change a book and emit a
/// [`BookUpdate`] (the rest emit nothing, like a feed's non-book messages). The same seed and
/// count always give the same updates (apart from their latency stamps).
#[derive(Debug)]
pub struct SyntheticSource {
    state: u64,
    remaining: u64,
    seq: u64,
    instruments: u32,
    clock: TscClock,
    books: Vec<BookTop>,
}

impl SyntheticSource {
    /// A source of `records` records over `instruments` instruments (at least one).
    pub fn new(seed: u64, records: u64, instruments: u32, clock: TscClock) -> Self {
        let instruments = instruments.max(1);
        Self {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
            remaining: records,
            seq: 0,
            instruments,
            clock,
            books: (0..instruments).map(|_| BookTop::default()).collect(),
        }
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        // xorshift64*: deterministic, allocation-free.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl Source for SyntheticSource {
    type Out = BookUpdate;

    #[inline]
    fn poll<E: Emit<BookUpdate>>(&mut self, out: &mut E) -> SourceStatus {
        if self.remaining == 0 {
            return SourceStatus::Done;
        }
        self.remaining -= 1;
        let recv = self.clock.now();
        let r = self.next_u64();
        if r.is_multiple_of(3) {
            return SourceStatus::Busy;
        }
        let instrument = (r >> 8) as u32 % self.instruments;
        let Some(book) = self.books.get_mut(instrument as usize) else {
            return SourceStatus::Busy;
        };
        let depth = 1 + ((r >> 16) as usize % TOP_LEVELS);
        let mid = 10_000 + ((r >> 24) % 200) as i64;
        for i in 0..depth {
            let off = i as i64 + 1;
            let qty = Qty::from_raw(((r >> (i % 8)) % 1_000 + 1) as i64 * 100_000_000);
            book.bids[i] = LevelView {
                price: Price::from_raw((mid - off) * 1_000_000),
                qty,
            };
            book.asks[i] = LevelView {
                price: Price::from_raw((mid + off) * 1_000_000),
                qty,
            };
        }
        book.bid_levels = depth as u8;
        book.ask_levels = depth as u8;
        let trade = if r.is_multiple_of(7) {
            TradePrint {
                price: book.asks[0].price,
                qty: Qty::from_raw(100_000_000),
                match_number: self.seq + 1,
                aggressor: 1,
                kind: TradeKind::Execution,
            }
        } else {
            TradePrint::default()
        };
        self.seq += 1;
        let top = *book;
        let decoded = self.clock.now();
        out.emit(BookUpdate {
            instrument: InstrumentId(instrument),
            seq: self.seq,
            exch_ts: Timestamp(self.seq * 1_000),
            recv_ts: Timestamp(1_000_000_000 + self.seq * 1_000),
            top,
            trade,
            trading: true,
            more_in_packet: false,
            stamps: Stamps {
                recv,
                decoded,
                booked: decoded,
                published: Timestamp::ZERO,
            },
        });
        SourceStatus::Busy
    }
}
