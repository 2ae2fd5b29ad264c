//! Nanosecond timestamps.

/// Nanoseconds. Receive times are nanoseconds since the Unix epoch; exchange times are whatever
/// the venue stamps (ITCH: nanoseconds since midnight of the trading day), converted by the feed.
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
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Zero: "not stamped".
    pub const ZERO: Self = Self(0);

    /// Nanoseconds.
    #[inline]
    pub const fn nanos(self) -> u64 {
        self.0
    }

    /// `self - earlier` in nanoseconds, zero when `earlier` is later.
    #[inline]
    pub const fn saturating_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}
