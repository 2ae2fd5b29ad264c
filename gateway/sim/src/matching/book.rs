//! The engine's storage: one order pool and one level pool shared by every instrument, and per
//! instrument two ladders of levels, each level a FIFO queue threaded through the order pool.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use kestrel_core::{Price, Side, TradingStatus};

use super::ladder::Ladder;
use super::types::Owner;

/// "No index".
pub(crate) const NIL: u32 = u32::MAX;

/// One order in the pool.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OrderSlot {
    pub(crate) order_ref: u64,
    pub(crate) owner: Owner,
    pub(crate) tag: u64,
    pub(crate) generation: u32,
    pub(crate) instrument: u32,
    pub(crate) side: Side,
    /// Allocated (between entry and the end of the order).
    pub(crate) live: bool,
    /// Linked into a level.
    pub(crate) on_book: bool,
    pub(crate) price: Price,
    /// Open (unexecuted, uncancelled) quantity, raw.
    pub(crate) open: i64,
    /// Visible quantity ahead of it when it joined its level, raw.
    pub(crate) queue_ahead: i64,
    pub(crate) level: u32,
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl OrderSlot {
    pub(crate) const EMPTY: Self = Self {
        order_ref: 0,
        owner: Owner::Background,
        tag: 0,
        generation: 0,
        instrument: 0,
        side: Side::Buy,
        live: false,
        on_book: false,
        price: Price::ZERO,
        open: 0,
        queue_ahead: 0,
        level: NIL,
        prev: NIL,
        next: NIL,
    };
}

/// One price level: its FIFO queue and totals.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Level {
    pub(crate) price: Price,
    /// Visible open quantity of every order at the level, raw.
    pub(crate) total: i64,
    /// Participant orders at the level.
    pub(crate) participants: u32,
    pub(crate) head: u32,
    pub(crate) tail: u32,
}

/// One side of one book.
#[derive(Clone, Debug, Default)]
pub(crate) struct SideBook {
    pub(crate) ladder: Ladder,
    /// Participant orders resting on this side.
    pub(crate) participants: u32,
}

/// One instrument's book.
#[derive(Clone, Debug)]
pub(crate) struct Book {
    pub(crate) sides: [SideBook; 2],
    pub(crate) status: TradingStatus,
}

impl Book {
    pub(crate) fn new(levels: usize) -> Self {
        Self {
            sides: [
                SideBook {
                    ladder: Ladder::with_capacity(levels),
                    participants: 0,
                },
                SideBook {
                    ladder: Ladder::with_capacity(levels),
                    participants: 0,
                },
            ],
            status: TradingStatus::Trading,
        }
    }
}

/// Fibonacci hashing for order reference numbers (dense and sparse ids spread alike).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FibHasher(u64);

impl Hasher for FibHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Recorded (background) order reference number -> order pool slot.
pub(crate) type RefMap = HashMap<u64, u32, BuildHasherDefault<FibHasher>>;
