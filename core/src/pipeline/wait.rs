//! How a thread waits when its ring is empty (consumer) or full (producer).

use std::time::Duration;

/// Waiting policy, chosen in config (`wait = { kind = "spin_yield", spins = 1000 }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WaitStrategy {
    /// Spin without pause: lowest latency, burns its core. Only on an isolated core of its own.
    BusySpin,
    /// Spin `spins` times, then yield the core to the scheduler on each further empty poll.
    SpinYield {
        /// Empty polls spun before yielding.
        spins: u32,
    },
    /// Spin briefly, then sleep `micros` on each further empty poll (development hosts).
    Sleep {
        /// Sleep per empty poll, in microseconds.
        micros: u64,
    },
}

impl Default for WaitStrategy {
    fn default() -> Self {
        WaitStrategy::SpinYield { spins: 1_000 }
    }
}

impl WaitStrategy {
    /// Whether this strategy keeps its core busy even with nothing to do.
    pub fn is_busy_spin(self) -> bool {
        matches!(self, WaitStrategy::BusySpin)
    }

    /// A fresh waiter for one thread.
    pub fn waiter(self) -> Waiter {
        Waiter {
            strategy: self,
            idle_polls: 0,
        }
    }
}

/// One thread's waiting state: counts consecutive empty polls.
#[derive(Clone, Copy, Debug)]
pub struct Waiter {
    strategy: WaitStrategy,
    idle_polls: u32,
}

/// Empty polls a sleeping waiter spins before its first sleep.
const SLEEP_SPINS: u32 = 100;

impl Waiter {
    /// Called after an empty poll: spins, yields or sleeps per the strategy.
    #[inline]
    pub fn idle(&mut self) {
        self.idle_polls = self.idle_polls.saturating_add(1);
        match self.strategy {
            WaitStrategy::BusySpin => std::hint::spin_loop(),
            WaitStrategy::SpinYield { spins } => {
                if self.idle_polls <= spins {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Sleep { micros } => {
                if self.idle_polls <= SLEEP_SPINS {
                    std::hint::spin_loop();
                } else {
                    std::thread::sleep(Duration::from_micros(micros));
                }
            }
        }
    }

    /// Called after a poll that found work.
    #[inline]
    pub fn reset(&mut self) {
        self.idle_polls = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_from_toml() {
        #[derive(serde::Deserialize)]
        struct W {
            wait: WaitStrategy,
        }
        let w: W = toml::from_str("wait = { kind = \"busy_spin\" }").unwrap();
        assert_eq!(w.wait, WaitStrategy::BusySpin);
        let w: W = toml::from_str("wait = { kind = \"spin_yield\", spins = 5 }").unwrap();
        assert_eq!(w.wait, WaitStrategy::SpinYield { spins: 5 });
        let w: W = toml::from_str("wait = { kind = \"sleep\", micros = 50 }").unwrap();
        assert_eq!(w.wait, WaitStrategy::Sleep { micros: 50 });
        assert!(toml::from_str::<W>("wait = { kind = \"nap\" }").is_err());
    }

    #[test]
    fn sleeping_waiter_sleeps_after_its_spins() {
        let mut w = WaitStrategy::Sleep { micros: 2_000 }.waiter();
        let start = std::time::Instant::now();
        for _ in 0..SLEEP_SPINS {
            w.idle();
        }
        assert!(start.elapsed() < Duration::from_millis(2));
        w.idle();
        assert!(start.elapsed() >= Duration::from_millis(2));
        w.reset();
        let again = std::time::Instant::now();
        w.idle();
        assert!(again.elapsed() < Duration::from_millis(2));
    }
}
