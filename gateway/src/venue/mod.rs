//! The venue: where the OMS sends OUCH orders and where venue messages come from.
//!
//! The OMS, risk and strategy code never know which venue they talk to:
//!
//! - live and the loopback session: a SoupBinTCP 3.00 client session over non-blocking TCP
//!   (`gateway::session`), which encodes each [`ClientMessage`] into an Unsequenced Data packet
//!   and decodes each Sequenced Data packet into a [`ServerMessage`];
//! - the deterministic backtest: the simulated exchange's matching engine called in process
//!   (the sim crate implements [`Venue`] over it), with no bytes on any wire;
//! - tests: scripted venues.
//!
//! Time is injected: every call carries the caller's `now` (the TSC clock live, the capture's
//! clock in a backtest), so a venue never reads a clock of its own.
//!
//! Sequencing: every venue message carries the venue's sequence number (SoupBinTCP's implicit
//! count of Sequenced Data packets, 1 for the first of a session; an in-process venue numbers
//! its messages the same way). The OMS journals the last one applied; on reconnect or restart
//! the session logs in at the next one, so no message is missed or applied twice.

use crate::ouch::{ClientMessage, ServerMessage};
use crate::soupbin::SessionId;
use kestrel_core::Timestamp;

/// Where the link to the venue stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VenueStatus {
    /// Not logged in; connecting, logging in or waiting to reconnect.
    Connecting,
    /// Logged in: orders can be sent.
    Ready,
    /// The venue ended the session (End of Session, a refused login): nothing more will come.
    Ended,
}

/// Why the link went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DownReason {
    /// The peer closed the connection or the socket failed.
    Disconnected,
    /// Nothing received for the heartbeat timeout.
    HeartbeatTimeout,
    /// The venue sent bytes that do not decode (counted; the session reconnects).
    ProtocolError,
    /// The venue refused the login (bad credentials or unknown session).
    LoginRejected,
    /// The venue sent End of Session.
    EndOfSession,
    /// The local side logged out.
    LoggedOut,
}

/// A change in the link, reported through [`VenueHandler::on_link`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Logged in to `session`; the venue's next sequenced message will be `next_seq`.
    Up {
        /// The session logged into.
        session: SessionId,
        /// Sequence number of the next message the venue will send.
        next_seq: u64,
    },
    /// The link is down; the session will reconnect unless the status is [`VenueStatus::Ended`].
    Down {
        /// Why.
        reason: DownReason,
    },
}

/// Why a message could not be handed to the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    /// Not logged in (connecting, reconnecting, or ended).
    #[error("venue not ready: {0:?}")]
    NotReady(VenueStatus),
    /// The outgoing buffer is full (the socket is not draining): nothing was queued.
    #[error("venue send buffer full ({queued} bytes queued)")]
    Backpressure {
        /// Bytes waiting to be written.
        queued: usize,
    },
    /// The message could not be encoded (cannot happen for well-formed messages).
    #[error("encoding the message failed")]
    Encode,
}

/// What a venue hands back from [`Venue::poll`].
pub trait VenueHandler {
    /// One venue message, with its sequence number, in sequence order, each exactly once.
    fn on_message(&mut self, seq: u64, msg: &ServerMessage, now: Timestamp);

    /// The link changed. Default: nothing.
    fn on_link(&mut self, _event: LinkEvent, _now: Timestamp) {}
}

/// An order-entry venue.
pub trait Venue {
    /// Hands one OUCH message to the venue. `Ok` means it has left: the socket `write` that
    /// carried it returned (or it is queued behind earlier bytes the socket has not taken
    /// yet), or the in-process engine has taken it. Never blocks.
    fn send(&mut self, msg: &ClientMessage, now: Timestamp) -> Result<(), VenueError>;

    /// Does whatever is due (reads, heartbeats, reconnects, queued writes; an in-process engine
    /// delivers its queued messages) and hands every venue message to `handler`, in sequence
    /// order. Never blocks. Returns the number of messages handed over.
    fn poll<H: VenueHandler>(&mut self, now: Timestamp, handler: &mut H) -> usize;

    /// Where the link stands.
    fn status(&self) -> VenueStatus;
}
