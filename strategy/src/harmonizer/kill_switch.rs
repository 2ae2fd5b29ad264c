//! The kill switch: any thread may trip it; the strategy thread reads it with one atomic load
//! per update and, once tripped, emits nothing but flattening until it is reset.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A shared, latched kill switch. Clones share the same switch.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch {
    tripped: Arc<AtomicBool>,
}

impl KillSwitch {
    /// An untripped switch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trips the switch (ops thread, signal handler, operator).
    pub fn trip(&self) {
        self.tripped.store(true, Ordering::Release);
    }

    /// Resets the switch (operator action).
    pub fn reset(&self) {
        self.tripped.store(false, Ordering::Release);
    }

    /// Whether the switch is tripped.
    #[inline]
    pub fn is_tripped(&self) -> bool {
        self.tripped.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_state() {
        let a = KillSwitch::new();
        let b = a.clone();
        assert!(!b.is_tripped());
        a.trip();
        assert!(b.is_tripped());
        b.reset();
        assert!(!a.is_tripped());
    }
}
