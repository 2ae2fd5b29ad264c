//! Injected clocks: TSC through `quanta` for live runs, capture receive times for replay, and
//! the stage boundary timestamps every pipeline event carries.

mod pace;
mod replay;
mod stamps;
mod tsc;

pub use pace::{Pace, PaceParseError, Pacer};
pub use replay::ReplayClock;
pub use stamps::{Stamped, Stamps};
pub use tsc::TscClock;

use crate::time::Timestamp;

/// A source of nanosecond timestamps. Implementations are cheap to call on the hot path (no
/// system call, no allocation) and monotonic.
pub trait Clock {
    /// The current time in nanoseconds.
    fn now(&self) -> Timestamp;
}
