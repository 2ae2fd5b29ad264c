//! Stage boundary timestamps carried by pipeline events.

use crate::time::Timestamp;

/// When an event crossed each stage boundary, in the pipeline clock's nanoseconds (the live TSC
/// clock in every mode, so differences are real latencies). `recv` is the moment the input
/// arrived or, in a paced replay, the moment it was *meant* to arrive (coordinated-omission
/// correction). Zero means "not stamped".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Stamps {
    /// Input received (or intended send time in a paced replay).
    pub recv: Timestamp,
    /// Wire message decoded into a market event.
    pub decoded: Timestamp,
    /// Book updated.
    pub booked: Timestamp,
    /// Published onto the outgoing ring (or handed to the next stage inline).
    pub published: Timestamp,
}

/// An event that carries [`Stamps`]; the pipeline stamps `published` and reads the rest.
pub trait Stamped {
    /// The event's stamps.
    fn stamps(&self) -> &Stamps;
    /// The event's stamps, for writing.
    fn stamps_mut(&mut self) -> &mut Stamps;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_four_words() {
        assert_eq!(core::mem::size_of::<Stamps>(), 32);
    }
}
