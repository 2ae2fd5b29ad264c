//! The live clock: the CPU's time-stamp counter through `quanta`, calibrated against the
//! system clock once at construction.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Clock;
use crate::time::Timestamp;

/// Monotonic nanoseconds from the TSC (`quanta`), offset so that readings are close to
/// nanoseconds since the Unix epoch at construction. Cloning shares the calibration, so clones
/// on different threads read the same time base.
///
/// A reading is `quanta`'s raw counter scaled by one multiply and shift, with the factor taken
/// from `quanta`'s own calibration at construction ([`Self::new`]): the same conversion
/// `quanta::Clock::delta_as_nanos` makes (to within a nanosecond per 2^48 counter units, a day
/// of a 3 GHz counter),
/// without its second dispatch on the clock kind and its own scaling per reading (a hot
/// thread reads the clock three or four times per book update).
#[derive(Clone, Debug)]
pub struct TscClock {
    clock: quanta::Clock,
    base_raw: u64,
    base_unix_ns: u64,
    /// Nanoseconds in 2^[`SCALE_SHIFT`] raw units, by `quanta`'s calibration.
    ns_per_2_48: u64,
}

/// Fixed-point shift of [`TscClock`]'s raw-to-nanosecond factor.
const SCALE_SHIFT: u32 = 48;

/// `raw` counter units in nanoseconds, by a factor of `ns_per_2_48` per 2^48 units.
#[inline(always)]
fn scale(raw: u64, ns_per_2_48: u64) -> u64 {
    let ns = (u128::from(raw) * u128::from(ns_per_2_48)) >> SCALE_SHIFT;
    u64::try_from(ns).unwrap_or(u64::MAX)
}

impl TscClock {
    /// Calibrates `quanta` (first use measures the TSC frequency) and anchors the time base.
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let base_raw = clock.raw();
        let base_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let ns_per_2_48 = clock.delta_as_nanos(0, 1 << SCALE_SHIFT);
        Self {
            clock,
            base_raw,
            base_unix_ns,
            ns_per_2_48,
        }
    }

    /// Nanoseconds since this clock (or the clock it was cloned from) was created (zero for a
    /// counter reading before the base, as `quanta` gives it).
    #[inline]
    pub fn elapsed_ns(&self) -> u64 {
        scale(
            self.clock.raw().saturating_sub(self.base_raw),
            self.ns_per_2_48,
        )
    }
}

impl Default for TscClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TscClock {
    #[inline]
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

    proptest::proptest! {
        /// The one-multiply conversion equals `quanta`'s own to within a nanosecond per 2^48
        /// counter units (plus both roundings), over spans from nothing to decades.
        #[test]
        fn scaling_matches_quanta(raw in proptest::prop_oneof![
            0u64..1_000_000,
            0u64..(1 << 45),
            0u64..(1 << 62),
        ]) {
            let clock = TscClock::new();
            let ours = scale(raw, clock.ns_per_2_48);
            let theirs = clock.clock.delta_as_nanos(0, raw);
            let tolerance = 2 + (raw >> SCALE_SHIFT);
            proptest::prop_assert!(
                ours.abs_diff(theirs) <= tolerance,
                "{raw} units: {ours} ns against quanta's {theirs} ns"
            );
        }
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
