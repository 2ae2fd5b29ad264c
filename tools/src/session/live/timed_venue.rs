//! A venue wrapper that times each Enter Order's send call, so tick-to-trade can be split into
//! the work before the send (risk, OMS, journal, cancels of opposite orders) and the send
//! itself (OUCH encode and the socket `write`).

use kestrel_core::Timestamp;
use kestrel_core::clock::{Clock, TscClock};
use kestrel_gateway::ouch::ClientMessage;
use kestrel_gateway::session::SoupClient;
use kestrel_gateway::venue::{Venue, VenueError, VenueHandler, VenueStatus};

/// `V`, with the start and end of its last Enter Order send taken on `clock`.
#[derive(Debug)]
pub struct TimedVenue<V> {
    inner: V,
    clock: TscClock,
    last_order: Option<(Timestamp, Timestamp)>,
}

impl<V> TimedVenue<V> {
    /// Wraps `inner`.
    pub fn new(inner: V, clock: TscClock) -> Self {
        Self {
            inner,
            clock,
            last_order: None,
        }
    }

    /// Start and end of the last Enter Order send since the last call (taken once).
    #[inline]
    pub fn take_last_order(&mut self) -> Option<(Timestamp, Timestamp)> {
        self.last_order.take()
    }
}

impl<V: Venue> Venue for TimedVenue<V> {
    #[inline]
    fn send(&mut self, msg: &ClientMessage, now: Timestamp) -> Result<(), VenueError> {
        if !matches!(msg, ClientMessage::EnterOrder(_)) {
            return self.inner.send(msg, now);
        }
        let start = self.clock.now();
        let r = self.inner.send(msg, now);
        let end = self.clock.now();
        if r.is_ok() {
            self.last_order = Some((start, end));
        }
        r
    }

    #[inline]
    fn poll<H: VenueHandler>(&mut self, now: Timestamp, handler: &mut H) -> usize {
        self.inner.poll(now, handler)
    }

    #[inline]
    fn status(&self) -> VenueStatus {
        self.inner.status()
    }
}

impl super::super::gateway::SessionLink for TimedVenue<SoupClient> {
    fn link(&self) -> &SoupClient {
        &self.inner
    }

    fn link_mut(&mut self) -> &mut SoupClient {
        &mut self.inner
    }
}
