//! What changed when a parameter set was applied, for the journal.

use kestrel_core::Timestamp;

use super::StrategyParams;

/// Which sections of the parameters differ between two sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// `[blend]` changed.
    pub blend: bool,
    /// `[track_record]` changed.
    pub track_record: bool,
    /// `[volatility]` changed.
    pub volatility: bool,
    /// `[kelly]` changed.
    pub kelly: bool,
    /// `[var]` changed.
    pub var: bool,
    /// `[risk_modes]` changed.
    pub risk_modes: bool,
    /// `[limits]` changed.
    pub limits: bool,
    /// `[order]` changed.
    pub order: bool,
}

impl ChangeSet {
    /// Compares two parameter sets section by section (no allocation).
    pub fn between(old: &StrategyParams, new: &StrategyParams) -> Self {
        Self {
            blend: old.blend != new.blend,
            track_record: old.track_record != new.track_record,
            volatility: old.volatility != new.volatility,
            kelly: old.kelly != new.kelly,
            var: old.var != new.var,
            risk_modes: old.risk_modes != new.risk_modes,
            limits: old.limits != new.limits,
            order: old.order != new.order,
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Names of the changed sections (off the hot path: for logs).
    pub fn section_names(&self) -> Vec<&'static str> {
        [
            (self.blend, "blend"),
            (self.track_record, "track_record"),
            (self.volatility, "volatility"),
            (self.kelly, "kelly"),
            (self.var, "var"),
            (self.risk_modes, "risk_modes"),
            (self.limits, "limits"),
            (self.order, "order"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }
}

/// A parameter change as the strategy thread applied it: between the update before
/// `first_seq` and the update `first_seq` itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamsChange {
    /// Version the publisher gave the new set (1, 2, ...).
    pub version: u64,
    /// Event time of the first update decided under the new set.
    pub applied_at: Timestamp,
    /// Sequence of the first update decided under the new set.
    pub first_seq: u64,
    /// Sections that changed.
    pub changed: ChangeSet,
}
