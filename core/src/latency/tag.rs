//! The named latencies a pipeline records.

use std::str::FromStr;

/// One measured latency; each is its own histogram and its own tag in `latency.hlog`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum LatencyTag {
    /// Feed stage: receive (or intended send) to published on the ring.
    Feed = 0,
    /// Ring hop: published by the producer to taken by the consumer.
    Hop = 1,
    /// Consumer stage: taken off the ring to done.
    Consumer = 2,
    /// End to end: receive (or intended send) to the last stage's output.
    EndToEnd = 3,
    /// Producer time spent waiting on a full ring (backpressure), per wait.
    Backpressure = 4,
    /// Strategy stage: the update's published stamp to the strategy's decision on it.
    Strategy = 5,
    /// Tick to trade: the market-data receive call's return to the order send call's return
    /// (recorded by the gateway stage).
    TickToTrade = 6,
}

/// A tag name that is not one of [`LatencyTag::ALL`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown latency tag {0:?}")]
pub struct UnknownTag(pub String);

impl LatencyTag {
    /// Number of tags.
    pub const COUNT: usize = 7;
    /// Every tag, in index order.
    pub const ALL: [LatencyTag; Self::COUNT] = [
        LatencyTag::Feed,
        LatencyTag::Hop,
        LatencyTag::Consumer,
        LatencyTag::EndToEnd,
        LatencyTag::Backpressure,
        LatencyTag::Strategy,
        LatencyTag::TickToTrade,
    ];

    /// Dense index (0..COUNT).
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The tag's name in files and tables (no spaces or commas: a valid hlog tag).
    pub const fn as_str(self) -> &'static str {
        match self {
            LatencyTag::Feed => "feed",
            LatencyTag::Hop => "hop",
            LatencyTag::Consumer => "consumer",
            LatencyTag::EndToEnd => "e2e",
            LatencyTag::Backpressure => "backpressure",
            LatencyTag::Strategy => "strategy",
            LatencyTag::TickToTrade => "tick_to_trade",
        }
    }
}

impl FromStr for LatencyTag {
    type Err = UnknownTag;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LatencyTag::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownTag(s.to_owned()))
    }
}

impl std::fmt::Display for LatencyTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_are_dense() {
        for (i, tag) in LatencyTag::ALL.into_iter().enumerate() {
            assert_eq!(tag.index(), i);
            assert_eq!(tag.as_str().parse::<LatencyTag>(), Ok(tag));
        }
        assert!("nope".parse::<LatencyTag>().is_err());
    }
}
