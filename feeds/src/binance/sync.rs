//! The official snapshot-plus-diff synchronisation of one instrument's depth stream.
//!
//! - Before a snapshot, diffs are buffered (bounded; an overflow empties the buffer, counted).
//! - On a snapshot with `lastUpdateId = L`: buffered diffs with `u <= L` are stale and dropped;
//!   the first diff applied must straddle the snapshot (spot `U <= L + 1 <= u`; futures
//!   `U <= L <= u` or `pu == L`). When the first buffered diff starts after that, the snapshot
//!   is older than the buffered diffs: it is refused and the book stays invalid until a newer
//!   one arrives.
//! - Then every diff must continue the last one (spot `U == u' + 1`; futures `pu == u'`). A
//!   diff with `u <= u'` is stale (duplicate or out of order) and dropped; any other break is a
//!   gap: the book is invalid until the next snapshot, and the diffs after the gap are buffered
//!   for it.

use kestrel_core::{LevelView, Side};

use super::instruments::Market;

/// The update ids of one depth diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiffIds {
    /// First update id (`U`).
    pub first: u64,
    /// Final update id (`u`).
    pub last: u64,
    /// Previous diff's final update id (`pu`; futures only).
    pub prev: Option<u64>,
}

/// What to do with one diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Apply it to the book.
    Apply,
    /// No snapshot yet (or the book is invalid after a gap): keep it for the next snapshot.
    Buffer,
    /// Already covered by the snapshot or by an earlier diff: drop it.
    Stale,
    /// It does not continue the previous diff: the book is invalid until a resync.
    Gap,
    /// It is the first diff after a snapshot and does not straddle it: the snapshot is older
    /// than the stream and cannot be used.
    SnapshotTooOld,
}

/// Where one instrument's stream stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// No usable snapshot yet (start, or after a gap): diffs are buffered, the book is invalid.
    AwaitingSnapshot,
    /// The book equals the venue's as of update `last`; `bridging` until the first diff after
    /// the snapshot has been applied.
    Synced {
        /// Final update id applied (the snapshot's `lastUpdateId` until a diff applies).
        last: u64,
        /// Whether the next diff must straddle the snapshot rather than continue a diff.
        bridging: bool,
    },
}

/// The continuity rule of one instrument's depth stream.
#[derive(Clone, Copy, Debug)]
pub struct DepthSync {
    market: Market,
    state: SyncState,
}

impl DepthSync {
    /// A stream that waits for its first snapshot.
    pub const fn new(market: Market) -> Self {
        Self {
            market,
            state: SyncState::AwaitingSnapshot,
        }
    }

    /// Where the stream stands.
    #[inline]
    pub const fn state(&self) -> SyncState {
        self.state
    }

    /// Whether the book reflects the venue's (a snapshot applied and no gap since).
    #[inline]
    pub const fn is_synced(&self) -> bool {
        matches!(self.state, SyncState::Synced { .. })
    }

    /// A snapshot as of `last_update_id` is being applied: the next diff must straddle it.
    pub fn on_snapshot(&mut self, last_update_id: u64) {
        self.state = SyncState::Synced {
            last: last_update_id,
            bridging: true,
        };
    }

    /// Whether a snapshot as of `last_update_id` is no newer than the synced book (a synced
    /// book ignores it).
    pub fn snapshot_is_stale(&self, last_update_id: u64) -> bool {
        matches!(self.state, SyncState::Synced { last, .. } if last_update_id <= last)
    }

    /// Judges one diff and, when it is to be applied, records it as applied. `Gap` and
    /// `SnapshotTooOld` leave the stream waiting for a snapshot.
    pub fn on_diff(&mut self, ids: DiffIds) -> Verdict {
        let SyncState::Synced { last, bridging } = self.state else {
            return Verdict::Buffer;
        };
        if ids.last <= last {
            return Verdict::Stale;
        }
        let futures = self.market.is_futures();
        let ok = if bridging {
            if futures {
                (ids.first <= last && last <= ids.last) || ids.prev == Some(last)
            } else {
                ids.first <= last + 1 && last < ids.last
            }
        } else if futures {
            ids.prev == Some(last)
        } else {
            ids.first == last + 1
        };
        if ok {
            self.state = SyncState::Synced {
                last: ids.last,
                bridging: false,
            };
            Verdict::Apply
        } else {
            self.state = SyncState::AwaitingSnapshot;
            if bridging {
                Verdict::SnapshotTooOld
            } else {
                Verdict::Gap
            }
        }
    }
}

/// One buffered diff: its ids, times and where its levels are in the level store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferedDiff {
    /// Update ids.
    pub ids: DiffIds,
    /// Event time (ns since the epoch).
    pub exch_ns: u64,
    /// Receive time (ns since the epoch).
    pub recv_ns: u64,
    /// Record number it came from.
    pub record: u64,
    start: u32,
    end: u32,
}

/// Diffs kept until a snapshot, with their levels, in preallocated storage.
#[derive(Clone, Debug)]
pub struct DiffBuffer {
    diffs: Vec<BufferedDiff>,
    levels: Vec<(Side, LevelView)>,
    max_diffs: usize,
    max_levels: usize,
    overflows: u64,
}

impl DiffBuffer {
    /// A buffer for up to `max_diffs` diffs holding `max_levels` levels in all.
    pub fn new(max_diffs: usize, max_levels: usize) -> Self {
        Self {
            diffs: Vec::with_capacity(max_diffs),
            levels: Vec::with_capacity(max_levels),
            max_diffs,
            max_levels,
            overflows: 0,
        }
    }

    /// Keeps a diff. When it does not fit, the buffer is emptied first (the oldest diffs are
    /// the ones a later snapshot no longer needs; a snapshot older than what is kept is then
    /// refused as too old) and the overflow is counted. Returns whether it overflowed.
    pub fn push(
        &mut self,
        ids: DiffIds,
        exch_ns: u64,
        recv_ns: u64,
        record: u64,
        bids: &[LevelView],
        asks: &[LevelView],
    ) -> bool {
        let n = bids.len() + asks.len();
        let mut overflowed = false;
        if self.diffs.len() == self.max_diffs || self.levels.len() + n > self.max_levels {
            self.clear();
            self.overflows += 1;
            overflowed = true;
            if n > self.max_levels || self.max_diffs == 0 {
                return true;
            }
        }
        let start = self.levels.len() as u32;
        self.levels.extend(bids.iter().map(|l| (Side::Buy, *l)));
        self.levels.extend(asks.iter().map(|l| (Side::Sell, *l)));
        self.diffs.push(BufferedDiff {
            ids,
            exch_ns,
            recv_ns,
            record,
            start,
            end: self.levels.len() as u32,
        });
        overflowed
    }

    /// Diffs held.
    pub fn len(&self) -> usize {
        self.diffs.len()
    }

    /// Whether no diff is held.
    pub fn is_empty(&self) -> bool {
        self.diffs.is_empty()
    }

    /// The `i`th held diff and its levels.
    pub fn get(&self, i: usize) -> Option<(BufferedDiff, &[(Side, LevelView)])> {
        let d = *self.diffs.get(i)?;
        Some((d, self.levels.get(d.start as usize..d.end as usize)?))
    }

    /// Drops the first `n` diffs (those consumed by a resync), keeping the rest in order.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.diffs.len());
        if n == self.diffs.len() {
            self.clear();
            return;
        }
        let cut = self.diffs[n].start;
        self.diffs.drain(..n);
        self.levels.drain(..cut as usize);
        for d in &mut self.diffs {
            d.start -= cut;
            d.end -= cut;
        }
    }

    /// Empties the buffer.
    pub fn clear(&mut self) {
        self.diffs.clear();
        self.levels.clear();
    }

    /// Times the buffer overflowed.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(first: u64, last: u64, prev: Option<u64>) -> DiffIds {
        DiffIds { first, last, prev }
    }

    #[test]
    fn spot_bridge_continuity_stale_and_gap() {
        let mut s = DepthSync::new(Market::Spot);
        assert_eq!(s.on_diff(ids(1, 5, None)), Verdict::Buffer);
        s.on_snapshot(10);
        assert_eq!(s.on_diff(ids(6, 10, None)), Verdict::Stale);
        assert_eq!(s.on_diff(ids(9, 12, None)), Verdict::Apply);
        assert_eq!(s.on_diff(ids(13, 13, None)), Verdict::Apply);
        assert_eq!(s.on_diff(ids(11, 13, None)), Verdict::Stale);
        assert_eq!(s.on_diff(ids(15, 16, None)), Verdict::Gap);
        assert!(!s.is_synced());
        assert_eq!(s.on_diff(ids(17, 18, None)), Verdict::Buffer);
        s.on_snapshot(20);
        assert_eq!(s.on_diff(ids(22, 25, None)), Verdict::SnapshotTooOld);
        s.on_snapshot(20);
        // Exactly L + 1 is a valid bridge.
        assert_eq!(s.on_diff(ids(21, 21, None)), Verdict::Apply);
    }

    #[test]
    fn futures_chain_by_pu() {
        let mut s = DepthSync::new(Market::UsdM);
        s.on_snapshot(100);
        assert_eq!(s.on_diff(ids(90, 100, Some(89))), Verdict::Stale);
        assert_eq!(s.on_diff(ids(95, 110, Some(94))), Verdict::Apply);
        // Futures ids are not contiguous: only pu matters.
        assert_eq!(s.on_diff(ids(130, 140, Some(110))), Verdict::Apply);
        assert_eq!(s.on_diff(ids(150, 160, Some(145))), Verdict::Gap);
        s.on_snapshot(160);
        assert_eq!(s.on_diff(ids(170, 180, Some(160))), Verdict::Apply);
        assert!(s.snapshot_is_stale(180));
        assert!(!s.snapshot_is_stale(181));
    }

    #[test]
    fn buffer_keeps_order_consumes_and_overflows() {
        let l = |p: i64| LevelView {
            price: kestrel_core::Price::from_raw(p),
            qty: kestrel_core::Qty::ONE,
        };
        let mut b = DiffBuffer::new(3, 5);
        assert!(!b.push(ids(1, 1, None), 0, 0, 1, &[l(1)], &[l(2)]));
        assert!(!b.push(ids(2, 2, None), 0, 0, 2, &[l(3)], &[]));
        assert!(!b.push(ids(3, 3, None), 0, 0, 3, &[], &[l(4), l(5)]));
        b.consume(1);
        let (d, levels) = b.get(1).unwrap();
        assert_eq!(d.ids.first, 3);
        assert_eq!(levels, [(Side::Sell, l(4)), (Side::Sell, l(5))]);
        assert_eq!(b.get(0).unwrap().1, [(Side::Buy, l(3))]);
        // 3 levels held, 3 more do not fit in 5: the buffer empties first.
        assert!(b.push(ids(4, 4, None), 0, 0, 4, &[l(6), l(7), l(8)], &[]));
        assert_eq!((b.len(), b.overflows()), (1, 1));
        assert!(b.push(ids(5, 5, None), 0, 0, 5, &[l(1); 6], &[]));
        assert!(b.is_empty());
    }
}
