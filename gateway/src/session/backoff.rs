//! Reconnect back-off: doubling delays between attempts, capped, reset by a successful login.

/// The delay before the next connection attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial_ns: u64,
    max_ns: u64,
    next_ns: u64,
    attempts: u32,
}

impl Backoff {
    /// Starts at `initial_ns`, doubles after each failure, never above `max_ns`.
    pub fn new(initial_ns: u64, max_ns: u64) -> Self {
        let initial_ns = initial_ns.max(1);
        Self {
            initial_ns,
            max_ns: max_ns.max(initial_ns),
            next_ns: initial_ns,
            attempts: 0,
        }
    }

    /// The delay to wait now, and the next one doubled.
    pub fn next_delay(&mut self) -> u64 {
        let d = self.next_ns;
        self.next_ns = self.next_ns.saturating_mul(2).min(self.max_ns);
        self.attempts += 1;
        d
    }

    /// Failed attempts since the last success.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// A login succeeded: the next failure waits the initial delay again.
    pub fn reset(&mut self) {
        self.next_ns = self.initial_ns;
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_caps_and_resets() {
        let mut b = Backoff::new(100, 350);
        assert_eq!(
            [
                b.next_delay(),
                b.next_delay(),
                b.next_delay(),
                b.next_delay()
            ],
            [100, 200, 350, 350]
        );
        assert_eq!(b.attempts(), 4);
        b.reset();
        assert_eq!(b.next_delay(), 100);
    }
}
