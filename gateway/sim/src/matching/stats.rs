//! Matching engine counters.

/// Counters since the engine was built. `Copy`: a snapshot costs nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatchStats {
    /// Participant orders accepted.
    pub orders_accepted: u64,
    /// Participant orders refused.
    pub orders_rejected: u64,
    /// Executions (one per resting order traded).
    pub executions: u64,
    /// Executions in which a participant order was on either side.
    pub participant_executions: u64,
    /// Participant fills out of the replayed flow (queue model fills).
    pub queue_model_fills: u64,
    /// Participant cancels and replaces handled.
    pub cancels: u64,
    /// Replaces handled.
    pub replaces: u64,
    /// Self-match preventions.
    pub self_match_prevented: u64,
    /// Background (replayed) events applied.
    pub background_events: u64,
    /// Background events naming an order that is not on the book (never added, or already
    /// taken by participants).
    pub background_unknown: u64,
    /// Background events whose quantity was cut to what the order had left (participants had
    /// taken liquidity from it).
    pub background_clamped: u64,
    /// Background adds whose reference number was already live (ignored).
    pub background_duplicates: u64,
    /// Times the order pool or a level vector grew past its start-up capacity.
    pub growths: u64,
}
