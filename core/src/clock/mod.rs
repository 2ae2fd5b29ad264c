//! The injected clock: every component that reads time takes a [`Clock`] (the strategy stage,
//! the gateway, the pipeline), so a test or a backtest can drive time itself. [`TscClock`] (TSC
//! through `quanta`) is the clock of live runs and replays; `kestrel backtest` injects its
//! event-time clock. Also the stage boundary timestamps every pipeline event carries.

mod pace;
mod stamps;
mod tsc;

pub use pace::{Pace, PaceParseError, Pacer};
pub use stamps::{Stamped, Stamps};
pub use tsc::TscClock;

use crate::time::Timestamp;

/// A source of nanosecond timestamps. Implementations are cheap to call on the hot path (no
/// system call, no allocation) and monotonic.
pub trait Clock {
    /// The current time in nanoseconds.
    fn now(&self) -> Timestamp;
}
