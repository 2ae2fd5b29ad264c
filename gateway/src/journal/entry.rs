//! What the journal records: one [`Entry`] per intent, risk decision, order sent, venue
//! message received, link change and parameter change. Entries are `Copy`: the gateway thread
//! hands them to the writer thread through a ring.

use crate::ouch::{ClientMessage, ServerMessage};
use crate::venue::LinkEvent;
use kestrel_core::{OrderIntent, Price, Timestamp};

/// What the OMS knew about an order when it sent a message for it (enough to rebuild it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SentMeta {
    /// OMS order id.
    pub order: u64,
    /// Intent behind it (0: none).
    pub intent_seq: u64,
    /// Parent slot, or `u32::MAX`.
    pub parent: u32,
    /// Market mid when sent.
    pub arrival_mid: Price,
}

/// A parameter name (up to 32 ASCII bytes, NUL padded).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParamName(pub [u8; 32]);

impl ParamName {
    /// `name` cut to 32 bytes.
    pub fn new(name: &str) -> Self {
        let mut b = [0u8; 32];
        let n = name.len().min(32);
        b[..n].copy_from_slice(&name.as_bytes()[..n]);
        Self(b)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        let end = self.0.iter().position(|b| *b == 0).unwrap_or(32);
        core::str::from_utf8(&self.0[..end]).unwrap_or("?")
    }
}

impl core::fmt::Debug for ParamName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// One journal record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A gateway session started.
    SessionStart {
        /// Gateway clock.
        at: Timestamp,
        /// First order number the token generator will issue.
        first_order_number: u64,
        /// Instruments configured.
        instruments: u32,
    },
    /// An intent arrived from the strategy.
    Intent {
        /// Gateway clock.
        at: Timestamp,
        /// The intent.
        intent: OrderIntent,
    },
    /// A pre-trade decision.
    Risk {
        /// Gateway clock.
        at: Timestamp,
        /// The intent decided on (0: an algorithm's child order).
        intent_seq: u64,
        /// 0 when every check passed, else the failing [`RiskCheck`](crate::risk::RiskCheck)'s code.
        check: u8,
        /// The order's value compared.
        value: i64,
        /// The limit.
        limit: i64,
        /// The reference value (mid for the price band).
        reference: i64,
    },
    /// A message handed to the venue.
    Sent {
        /// Gateway clock.
        at: Timestamp,
        /// The order it is about.
        meta: SentMeta,
        /// The message.
        msg: ClientMessage,
    },
    /// A message the venue did not take (the OMS undid its pending state).
    SendFailed {
        /// Gateway clock.
        at: Timestamp,
        /// The order it is about.
        meta: SentMeta,
        /// The message.
        msg: ClientMessage,
    },
    /// A venue message received (and applied to the OMS).
    Received {
        /// Gateway clock.
        at: Timestamp,
        /// Venue sequence number.
        seq: u64,
        /// The message.
        msg: ServerMessage,
    },
    /// The venue link changed.
    Link {
        /// Gateway clock.
        at: Timestamp,
        /// What happened.
        event: LinkEvent,
    },
    /// A parameter changed (risk limits, kill switch, ...).
    Param {
        /// Gateway clock.
        at: Timestamp,
        /// Which.
        name: ParamName,
        /// New value (raw integer: shares, fixed-point raw, bps, 0/1).
        value: i64,
    },
}

impl Default for Entry {
    fn default() -> Self {
        Entry::Param {
            at: Timestamp::ZERO,
            name: ParamName([0; 32]),
            value: 0,
        }
    }
}

impl Entry {
    /// The record kind byte.
    pub const fn kind(&self) -> u8 {
        match self {
            Entry::SessionStart { .. } => 1,
            Entry::Intent { .. } => 2,
            Entry::Risk { .. } => 3,
            Entry::Sent { .. } => 4,
            Entry::SendFailed { .. } => 5,
            Entry::Received { .. } => 6,
            Entry::Link { .. } => 7,
            Entry::Param { .. } => 8,
        }
    }

    /// The gateway clock of the record.
    pub const fn at(&self) -> Timestamp {
        match self {
            Entry::SessionStart { at, .. }
            | Entry::Intent { at, .. }
            | Entry::Risk { at, .. }
            | Entry::Sent { at, .. }
            | Entry::SendFailed { at, .. }
            | Entry::Received { at, .. }
            | Entry::Link { at, .. }
            | Entry::Param { at, .. } => *at,
        }
    }
}

/// Where journal entries go. The writer thread's ring in a session; a `Vec` in tests and
/// backtests; nowhere with [`NullJournal`].
pub trait JournalSink {
    /// Records one entry (never drops it: a full ring waits, and the wait is counted).
    fn record(&mut self, entry: &Entry);
}

/// A journal that keeps nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullJournal;

impl JournalSink for NullJournal {
    #[inline]
    fn record(&mut self, _entry: &Entry) {}
}

impl JournalSink for Vec<Entry> {
    fn record(&mut self, entry: &Entry) {
        self.push(*entry);
    }
}

impl<J: JournalSink + ?Sized> JournalSink for &mut J {
    #[inline]
    fn record(&mut self, entry: &Entry) {
        (**self).record(entry);
    }
}
