//! Dense identifiers resolved at start.

/// A dense instrument index (0, 1, 2, ...) into per-instrument vectors, resolved from symbols
/// when a feed or session starts.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[repr(transparent)]
pub struct InstrumentId(pub u32);

impl InstrumentId {
    /// The index into per-instrument vectors.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A venue's order reference (ITCH order reference number, LOBSTER order id, ...). Unique per
/// venue for the day; not dense.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[repr(transparent)]
pub struct OrderId(pub u64);
