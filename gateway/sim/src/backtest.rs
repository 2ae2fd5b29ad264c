//! The simulated exchange in process, as the gateway's [`Venue`]: `kestrel backtest` runs the
//! strategy, the OMS and pre-trade risk against the same matching engine and queue model, on
//! one thread, in the capture's time. The participant is login 0; its sequenced OUCH stream
//! is delivered exactly as a SoupBinTCP session delivers it (sequence numbers from 1, a link-up
//! on the first poll), so the OMS cannot tell the difference.

use kestrel_core::Timestamp;
use kestrel_gateway::ouch::ClientMessage;
use kestrel_gateway::soupbin::SessionId;
use kestrel_gateway::venue::{LinkEvent, Venue, VenueError, VenueHandler, VenueStatus};

use crate::venue::SimVenue;

/// The participant id the backtest trades as.
pub const BACKTEST_PARTICIPANT: u32 = 0;

/// [`SimVenue`] behind the [`Venue`] trait.
#[derive(Debug)]
pub struct BacktestVenue {
    venue: SimVenue,
    delivered: usize,
    link_up: bool,
    session: SessionId,
}

impl BacktestVenue {
    /// Wraps `venue` (its participant 0 is the backtest's).
    pub fn new(venue: SimVenue) -> Self {
        Self {
            venue,
            delivered: 0,
            link_up: false,
            session: SessionId::new("BACKTEST").unwrap_or(SessionId::BLANK),
        }
    }

    /// The venue.
    pub fn venue(&self) -> &SimVenue {
        &self.venue
    }

    /// The venue, to advance its time.
    pub fn venue_mut(&mut self) -> &mut SimVenue {
        &mut self.venue
    }

    /// Messages released to the participant's stream but not yet polled.
    pub fn undelivered(&self) -> usize {
        self.venue
            .stream(BACKTEST_PARTICIPANT)
            .len()
            .saturating_sub(self.delivered)
    }
}

impl Venue for BacktestVenue {
    fn send(&mut self, msg: &ClientMessage, now: Timestamp) -> Result<(), VenueError> {
        self.venue.submit(BACKTEST_PARTICIPANT, msg, now);
        Ok(())
    }

    fn poll<H: VenueHandler>(&mut self, now: Timestamp, handler: &mut H) -> usize {
        if !self.link_up {
            self.link_up = true;
            handler.on_link(
                LinkEvent::Up {
                    session: self.session,
                    next_seq: self.delivered as u64 + 1,
                },
                now,
            );
        }
        let stream = self.venue.stream(BACKTEST_PARTICIPANT);
        let mut n = 0;
        while let Some(msg) = stream.get(self.delivered) {
            self.delivered += 1;
            handler.on_message(self.delivered as u64, msg, now);
            n += 1;
        }
        n
    }

    fn status(&self) -> VenueStatus {
        VenueStatus::Ready
    }
}
