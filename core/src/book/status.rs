//! An instrument's trading status from its three sources: the regulatory state (ITCH `H`,
//! LOBSTER type 7), the venue's operational halt (ITCH `h`) and a market-wide circuit breaker
//! (ITCH `W`). Any halt wins; each source lifts only its own.

use crate::event::TradingStatus;

/// The three sources of an instrument's status and what they add up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstrumentStatus {
    /// The last regulatory status announced for the instrument.
    pub regulatory: TradingStatus,
    /// Whether the venue holds an operational halt on the instrument.
    pub operational_halt: bool,
    /// The market-wide circuit breaker level holding the instrument (1, 2 or 3), if any.
    pub market_halt: Option<u8>,
}

impl Default for InstrumentStatus {
    fn default() -> Self {
        Self {
            regulatory: TradingStatus::Trading,
            operational_halt: false,
            market_halt: None,
        }
    }
}

impl InstrumentStatus {
    /// The status of an instrument that appears after a market-wide halt `level` (if any).
    pub const fn after_market_halt(level: Option<u8>) -> Self {
        Self {
            regulatory: TradingStatus::Trading,
            operational_halt: false,
            market_halt: level,
        }
    }

    /// What the instrument can do now: halted while any halt holds it, else its regulatory
    /// status.
    #[inline]
    pub const fn effective(&self) -> TradingStatus {
        if self.operational_halt || self.market_halt.is_some() {
            TradingStatus::Halted
        } else {
            self.regulatory
        }
    }

    /// A regulatory status message. The venue announces each instrument's own halt and
    /// resumption after a circuit breaker, so this also ends the market-wide halt for it.
    #[inline]
    pub fn set_regulatory(&mut self, status: TradingStatus) {
        self.regulatory = status;
        self.market_halt = None;
    }

    /// An operational halt set (`true`) or lifted (`false`).
    #[inline]
    pub fn set_operational_halt(&mut self, halted: bool) {
        self.operational_halt = halted;
    }

    /// A market-wide circuit breaker at `level`.
    #[inline]
    pub fn set_market_halt(&mut self, level: u8) {
        self.market_halt = Some(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_halt_wins_and_each_source_lifts_its_own() {
        let mut s = InstrumentStatus::default();
        assert_eq!(s.effective(), TradingStatus::Trading);
        s.set_operational_halt(true);
        s.set_regulatory(TradingStatus::Halted);
        s.set_operational_halt(false);
        // The regulatory halt is still there.
        assert_eq!(s.effective(), TradingStatus::Halted);
        s.set_regulatory(TradingStatus::QuotationOnly);
        assert_eq!(s.effective(), TradingStatus::QuotationOnly);
        s.set_operational_halt(true);
        s.set_regulatory(TradingStatus::Trading);
        // The operational halt is still there.
        assert_eq!(s.effective(), TradingStatus::Halted);
        s.set_operational_halt(false);
        s.set_market_halt(1);
        assert_eq!(s.effective(), TradingStatus::Halted);
        // The instrument's own resumption ends the circuit breaker for it.
        s.set_regulatory(TradingStatus::Trading);
        assert_eq!(s.effective(), TradingStatus::Trading);
        assert_eq!(
            InstrumentStatus::after_market_halt(Some(3)).effective(),
            TradingStatus::Halted
        );
    }
}
