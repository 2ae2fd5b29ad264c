//! What the harmonizer decided on one update, and why: the `Copy` record the journal keeps.

use kestrel_core::{InstrumentId, OrderIntent, Qty, Timestamp};

use super::risk_mode::RiskMode;
use crate::params::MAX_MODELS;

/// The rule that decided the size (the last one that changed it, or why nothing was sent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Binding {
    /// Fractional Kelly decided the size.
    #[default]
    Kelly = 0,
    /// The VaR budget capped the size.
    Var = 1,
    /// The expected-shortfall budget capped the size.
    Es = 2,
    /// The position limit capped the size.
    Position = 3,
    /// The notional limit capped the size.
    Notional = 4,
    /// The order-size limit capped the order.
    OrderSize = 5,
    /// No order-rate token: nothing sent.
    OrderRate = 6,
    /// The daily loss limit: flatten only.
    DailyLoss = 7,
    /// The kill switch: flatten only.
    KillSwitch = 8,
    /// Halt mode: flatten only.
    Halt = 9,
    /// The change of target was below the minimum order: nothing sent.
    MinOrder = 10,
    /// No two-sided book: nothing decided.
    NoBook = 11,
    /// The instrument is not trading: nothing sent.
    NotTrading = 12,
    /// The instrument id is outside the harmonizer's instruments.
    UnknownInstrument = 13,
    /// Already at target.
    AtTarget = 14,
    /// The final limit guard refused an intent that would have broken a limit (a bug guard;
    /// counted in the stats).
    LimitGuard = 15,
    /// The book is crossed or locked (best bid at or above best ask): nothing is marked or
    /// sent.
    CrossedBook = 16,
}

/// Why the harmonizer did what it did on one update. Fixed-size and `Copy`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DecisionRecord {
    /// Sequence of the book update.
    pub update_seq: u64,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Event time.
    pub at: Timestamp,
    /// Regime index used for the blend weights.
    pub regime: u8,
    /// Risk mode after this update's drawdown.
    pub mode: RiskMode,
    /// Version of the parameters in force.
    pub params_version: u64,
    /// The models' edges as given (non-finite ones as 0), bps.
    pub raw_edges_bps: [f64; MAX_MODELS],
    /// Shrinkage weights from the track records.
    pub shrink: [f64; MAX_MODELS],
    /// The edges after shrinkage, bps.
    pub shrunk_edges_bps: [f64; MAX_MODELS],
    /// The blended edge, bps.
    pub blended_bps: f64,
    /// The blend's mean confidence.
    pub blended_confidence: f64,
    /// Return standard deviation over the horizon used for sizing, bps.
    pub sigma_bps: f64,
    /// Correlation (hedge) term, money.
    pub hedge: f64,
    /// Fractional-Kelly target notional before caps, money (after the mode scale).
    pub kelly_notional: f64,
    /// VaR bound on the target notional in the direction of the Kelly target, money.
    pub var_cap_notional: f64,
    /// ES bound on the target notional in the direction of the Kelly target, money.
    pub es_cap_notional: f64,
    /// Drawdown as a fraction of capital.
    pub drawdown: f64,
    /// Target position after every cap.
    pub target: Qty,
    /// Position plus working orders before this decision.
    pub exposure_before: Qty,
    /// The rule that bound.
    pub binding: Binding,
    /// The intent's sequence, 0 when none.
    pub intent_seq: u64,
}

/// One update's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// The order to send, if any.
    pub intent: Option<OrderIntent>,
    /// Why.
    pub record: DecisionRecord,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_small_and_copy() {
        // Three per-model arrays of 8 f64 plus ~130 bytes of scalars: one journal slot each.
        assert!(
            core::mem::size_of::<DecisionRecord>() <= 352,
            "{}",
            core::mem::size_of::<DecisionRecord>()
        );
        assert!(core::mem::size_of::<Decision>() <= 408);
        let r = DecisionRecord::default();
        let copy = r;
        assert_eq!(r, copy);
    }
}
