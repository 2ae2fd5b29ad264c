//! Book sizing, fixed at start.

/// How large the books' pools are at start. Exceeding a capacity still works (the pool grows and
/// the growth is counted in [`BookStats`](super::BookStats)), but growth allocates, so production
/// sizes these for the day's peak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BookConfig {
    /// Number of instruments (dense ids `0..instruments`).
    pub instruments: usize,
    /// Live orders the shared order store holds without growing (L3 only).
    pub order_capacity: usize,
    /// Price levels per side and instrument held without growing.
    pub levels_per_side: usize,
}

impl Default for BookConfig {
    fn default() -> Self {
        Self {
            instruments: 1,
            order_capacity: 1 << 16,
            levels_per_side: 256,
        }
    }
}
