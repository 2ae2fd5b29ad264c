//! The replay clock: time is whatever the capture says it is.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Clock;
use crate::time::Timestamp;

/// A clock driven by capture receive timestamps: the replayer calls [`ReplayClock::advance_to`]
/// with each record's receive time and every reader sees that time. Time never goes backwards: an
/// earlier timestamp (out-of-order capture) leaves the clock where it is.
#[derive(Debug, Default)]
pub struct ReplayClock {
    now_ns: AtomicU64,
}

impl ReplayClock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now_ns: AtomicU64::new(start.nanos()),
        }
    }

    /// Moves the clock to `ts` if that is later than the current reading; returns the reading.
    #[inline]
    pub fn advance_to(&self, ts: Timestamp) -> Timestamp {
        let prev = self.now_ns.fetch_max(ts.nanos(), Ordering::Relaxed);
        Timestamp(prev.max(ts.nanos()))
    }
}

impl Clock for ReplayClock {
    #[inline]
    fn now(&self) -> Timestamp {
        Timestamp(self.now_ns.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_capture_time_and_never_goes_back() {
        let clock = ReplayClock::new(Timestamp(100));
        assert_eq!(clock.now(), Timestamp(100));
        assert_eq!(clock.advance_to(Timestamp(250)), Timestamp(250));
        assert_eq!(clock.now(), Timestamp(250));
        assert_eq!(clock.advance_to(Timestamp(200)), Timestamp(250));
        assert_eq!(clock.now(), Timestamp(250));
    }
}
