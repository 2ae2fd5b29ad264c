//! The live clock: the CPU's time-stamp counter through `quanta`, calibrated against the
//! system clock once at construction.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Clock;
use crate::time::Timestamp;

/// Monotonic nanoseconds from the TSC (`quanta`), offset so that readings are close to
/// nanoseconds since the Unix epoch at construction. Cloning shares the calibration, so clones
/// on different threads read the same time base.
#[derive(Clone, Debug)]
pub struct TscClock {
    clock: quanta::Clock,
    base_raw: u64,
    base_unix_ns: u64,
}

impl TscClock {
    /// Calibrates `quanta` (first use measures the TSC frequency) and anchors the time base.
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let base_raw = clock.raw();
        let base_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Self {
            clock,
            base_raw,
            base_unix_ns,
        }
    }

    /// Nanoseconds since this clock (or the clock it was cloned from) was created.
    #[inline]
    pub fn elapsed_ns(&self) -> u64 {
        self.clock.delta_as_nanos(self.base_raw, self.clock.raw())
    }
}

impl Default for TscClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TscClock {
    /// Out of line: one copy of the read serves every call site. Inlined, each site (a replay
    /// reads the clock at four places an update) carried its own copy of `quanta`'s read,
    /// the system-call fallback for a clock without a usable TSC included, and the inline
    /// replay's hot loop did not fit the instruction cache (docs/BENCHMARKS.md, "the hot
    /// loop's code"). A call costs a few instructions; a read is tens.
    #[inline(never)]
    fn now(&self) -> Timestamp {
        Timestamp(self.base_unix_ns.saturating_add(self.elapsed_ns()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_close_to_wall_time() {
        let clock = TscClock::new();
        let mut last = clock.now();
        for _ in 0..10_000 {
            let now = clock.now();
            assert!(now >= last, "{now:?} < {last:?}");
            last = now;
        }
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let diff = wall.abs_diff(clock.now().nanos());
        assert!(
            diff < 1_000_000_000,
            "TSC clock {diff} ns away from wall time"
        );
    }

    #[test]
    fn measures_a_sleep() {
        let clock = TscClock::new();
        let start = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let took = clock.now().saturating_since(start);
        assert!(took >= 15_000_000, "{took}");
        assert!(took < 2_000_000_000, "{took}");
    }

    #[test]
    fn clones_share_the_time_base() {
        let a = TscClock::new();
        let b = a.clone();
        let ta = a.now();
        let tb = b.now();
        assert!(tb >= ta);
        assert!(tb.saturating_since(ta) < 100_000_000);
    }
}
