//! Drawdown-driven risk modes with hysteresis: escalate when the drawdown reaches a mode's
//! enter threshold, relax only when it falls below the (lower) exit threshold.

use crate::params::RiskModeParams;

/// Number of risk modes.
pub const MODE_COUNT: usize = 5;

/// How much risk the harmonizer takes, from most to least.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum RiskMode {
    /// Above-normal size (near the equity peak).
    Aggressive = 0,
    /// Normal size.
    #[default]
    Normal = 1,
    /// Reduced size.
    Conservative = 2,
    /// Much reduced size.
    Defensive = 3,
    /// No new risk: only flattening intents.
    Halt = 4,
}

impl RiskMode {
    /// Modes by severity index.
    pub const ALL: [RiskMode; MODE_COUNT] = [
        RiskMode::Aggressive,
        RiskMode::Normal,
        RiskMode::Conservative,
        RiskMode::Defensive,
        RiskMode::Halt,
    ];

    /// Severity index, 0 (aggressive) to 4 (halt).
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The size multiplier of this mode.
    #[inline]
    pub fn scale(self, params: &RiskModeParams) -> f64 {
        params.scale[self.index()]
    }
}

/// The current mode and its transition logic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskModeState {
    mode: RiskMode,
    transitions: u64,
}

impl RiskModeState {
    /// Starts in `initial`.
    pub fn new(initial: RiskMode) -> Self {
        Self {
            mode: initial,
            transitions: 0,
        }
    }

    /// The current mode.
    #[inline]
    pub fn mode(&self) -> RiskMode {
        self.mode
    }

    /// Mode changes so far.
    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    /// Moves to the mode `drawdown` (a fraction of capital, >= 0) calls for and returns it.
    /// Escalation first (possibly several modes at once); relaxation only when nothing
    /// escalated, one boundary at a time, each at its own exit threshold.
    pub fn update(&mut self, drawdown: f64, params: &RiskModeParams) -> RiskMode {
        let dd = if drawdown.is_finite() {
            drawdown.max(0.0)
        } else {
            // An unknown drawdown is treated as the worst.
            f64::INFINITY
        };
        let start = self.mode.index();
        let mut k = start;
        while k < MODE_COUNT - 1 && dd >= params.up[k] {
            k += 1;
        }
        if k == start {
            while k > 0 && dd < params.down[k - 1] {
                k -= 1;
            }
        }
        if k != start {
            self.transitions += 1;
            self.mode = RiskMode::ALL[k];
        }
        self.mode
    }

    /// Forces a mode (operator action, e.g. leaving a latched halt).
    pub fn force(&mut self, mode: RiskMode) {
        if mode != self.mode {
            self.transitions += 1;
            self.mode = mode;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> RiskModeParams {
        RiskModeParams {
            initial: RiskMode::Normal,
            up: [0.005, 0.02, 0.04, 0.06],
            down: [0.001, 0.01, 0.03, 0.0],
            scale: [1.5, 1.0, 0.5, 0.25, 0.0],
        }
    }

    #[test]
    fn hysteresis_between_normal_and_conservative() {
        let p = params();
        let mut s = RiskModeState::new(RiskMode::Normal);
        assert_eq!(s.update(0.019, &p), RiskMode::Normal);
        assert_eq!(s.update(0.02, &p), RiskMode::Conservative);
        // Back under the enter threshold but above the exit: stays.
        assert_eq!(s.update(0.015, &p), RiskMode::Conservative);
        assert_eq!(s.update(0.0101, &p), RiskMode::Conservative);
        assert_eq!(s.update(0.0099, &p), RiskMode::Normal);
        // And going up again needs the enter threshold, not the exit one.
        assert_eq!(s.update(0.015, &p), RiskMode::Normal);
        assert_eq!(s.transitions(), 2);
    }

    #[test]
    fn jumps_several_modes_and_halt_latches_with_zero_exit() {
        let p = params();
        let mut s = RiskModeState::new(RiskMode::Normal);
        assert_eq!(s.update(0.07, &p), RiskMode::Halt);
        assert_eq!(
            s.update(0.0, &p),
            RiskMode::Halt,
            "halt_exit 0 never relaxes"
        );
        s.force(RiskMode::Normal);
        assert_eq!(s.update(0.0, &p), RiskMode::Aggressive);
        assert_eq!(s.update(0.003, &p), RiskMode::Aggressive);
        assert_eq!(s.update(0.005, &p), RiskMode::Normal);
    }

    #[test]
    fn non_finite_drawdown_halts() {
        let p = params();
        let mut s = RiskModeState::new(RiskMode::Normal);
        assert_eq!(s.update(f64::NAN, &p), RiskMode::Halt);
    }
}
