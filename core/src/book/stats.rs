//! Counters every book keeps.

/// Event and anomaly counters. `Copy` and small enough to publish to the ops thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[repr(C)]
pub struct BookStats {
    /// Events passed to `apply` (accepted or not).
    pub events: u64,
    /// Add events applied.
    pub adds: u64,
    /// Executions applied (including excess ones).
    pub executions: u64,
    /// Cancels applied (partial or full).
    pub cancels: u64,
    /// Deletes applied.
    pub deletes: u64,
    /// Replaces applied.
    pub replaces: u64,
    /// Off-book trades seen (non-displayed executions and crosses).
    pub trades: u64,
    /// Trade breaks seen.
    pub breaks: u64,
    /// Executions that were not prints (non-printable `C`: executions in a cross).
    pub non_printable_executions: u64,
    /// Level updates applied (L2).
    pub level_updates: u64,
    /// Clears applied.
    pub clears: u64,
    /// Status changes stored (regulatory, operational and market-wide).
    pub status_changes: u64,
    /// Events naming an order the book does not hold.
    pub unknown_orders: u64,
    /// Adds or replaces naming an id that is already live (a replace still removes its old
    /// order).
    pub duplicate_orders: u64,
    /// Executions of more than the remaining quantity (order removed, update still
    /// published).
    pub excess_executions: u64,
    /// Cancels of more than the remaining quantity (order removed, accepted).
    pub excess_cancels: u64,
    /// Zero or negative quantities rejected.
    pub invalid_qty: u64,
    /// Events for an instrument beyond the configured count.
    pub unknown_instruments: u64,
    /// Events for the other kind of book.
    pub wrong_book_type: u64,
    /// Order events whose instrument differs from the order's.
    pub instrument_mismatches: u64,
    /// Level quantity overflows rejected.
    pub qty_overflows: u64,
    /// Events rejected because a pool ran out of `u32` indices.
    pub capacity_exhausted: u64,
    /// L2 removals of a level that was not there (accepted, nothing changes).
    pub absent_level_removals: u64,
    /// Times a book went from not crossed to crossed (best bid >= best ask).
    pub crossed_events: u64,
    /// Times the order pool grew past its start capacity (allocates).
    pub order_pool_growths: u64,
    /// Times the order id map doubled (allocates).
    pub order_map_growths: u64,
    /// Times a side's ladder (its price window or its outlier vector) or the level pool grew
    /// past what the config sized (allocates).
    pub level_growths: u64,
    /// Times `ensure_instrument` added instruments (allocates).
    pub instrument_growths: u64,
}

impl BookStats {
    /// The counters that describe the event stream, with the capacity-growth counters zeroed:
    /// two correct books given the same events agree on these whatever their pools look like.
    pub fn without_growth(mut self) -> Self {
        self.order_pool_growths = 0;
        self.order_map_growths = 0;
        self.level_growths = 0;
        self.instrument_growths = 0;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_small_and_copy() {
        assert_eq!(core::mem::size_of::<BookStats>(), 28 * 8);
        let a = BookStats {
            order_map_growths: 3,
            adds: 1,
            ..BookStats::default()
        };
        let b = a;
        assert_eq!(b.without_growth().order_map_growths, 0);
        assert_eq!(b.without_growth().adds, 1);
    }
}
