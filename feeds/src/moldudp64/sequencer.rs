//! Exactly-once, in-order delivery of a MoldUDP64 session's messages.
//!
//! Packets older than the next expected sequence are duplicates and dropped; a packet that
//! overlaps delivers only its new messages; a packet beyond a gap is copied into a bounded,
//! preallocated reorder buffer so that a late packet filling the gap can still be delivered in
//! order. A gap is known from a packet held beyond it or from a heartbeat (or end of session)
//! announcing a later sequence. It is declared lost, and the held packets behind it delivered,
//! when it has stayed open for the configured gap timeout (time-aware calls,
//! [`MoldSequencer::on_packet_at`] and [`MoldSequencer::poll_gap`]), when the buffer is full, or
//! on [`MoldSequencer::flush`] / end of session.
//!
//! Nothing is allocated per packet after construction, unless a held datagram is larger than
//! the configured slot size (the slot then grows once and keeps its capacity; counted in
//! [`SequencerStats::slot_grows`]).

use super::packet::{MoldError, MoldPacket, MoldSession, PacketKind};

/// A half-open range of sequence numbers `[first, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqRange {
    /// First sequence in the range.
    pub first: u64,
    /// One past the last sequence in the range.
    pub end: u64,
}

impl SeqRange {
    /// Number of sequences in the range.
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.first)
    }

    /// Whether the range is empty.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.first
    }
}

/// What the sequencer hands to its sink, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqEvent<'a> {
    /// The next message of the session, delivered exactly once.
    Message {
        /// Its sequence number.
        seq: u64,
        /// Its bytes (borrowed from the datagram or the reorder buffer).
        payload: &'a [u8],
    },
    /// These sequences were declared lost; delivery continues after them.
    Lost(SeqRange),
    /// A packet of a different session arrived; the old session was flushed and state reset.
    SessionChanged {
        /// The previous session.
        from: MoldSession,
        /// The new session.
        to: MoldSession,
    },
}

/// What happened to one packet (its messages may be delivered later if it was held).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketOutcome {
    /// Every message was new and delivered now.
    InOrder,
    /// The packet overlapped already delivered messages; only the new ones were delivered.
    PartialOverlap {
        /// Messages skipped as already delivered.
        skipped: u64,
    },
    /// Every message was already delivered (or the packet is already held).
    Duplicate,
    /// The packet lies beyond a gap and was held in the reorder buffer.
    Held,
    /// A heartbeat (no messages).
    Heartbeat,
    /// End of session: any gap was declared lost and held packets were delivered.
    EndOfSession,
}

/// Most packets a reorder buffer may hold.
pub const MAX_REORDER_PACKETS: usize = 4096;
/// Largest slot preallocation (the largest UDP payload fits).
pub const MAX_SLOT_BYTES: usize = 65_536;

/// Sequencer settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequencerConfig {
    /// Packets the reorder buffer holds (clamped to 1 ..= [`MAX_REORDER_PACKETS`]).
    pub reorder_packets: usize,
    /// Bytes preallocated per held packet (at most [`MAX_SLOT_BYTES`]).
    pub slot_bytes: usize,
    /// Sequence expected first in each session (MoldUDP64 sessions start at 1); `None` joins
    /// mid-stream at the first packet seen.
    pub first_expected: Option<u64>,
    /// How long (nanoseconds of the caller's clock: receive time) a gap may stay open before
    /// it is declared lost, in the time-aware calls; `None` waits for the buffer to fill, a
    /// flush or the end of session.
    pub gap_timeout_ns: Option<u64>,
}

/// Default [`SequencerConfig::gap_timeout_ns`]: one second.
pub const DEFAULT_GAP_TIMEOUT_NS: u64 = 1_000_000_000;

impl Default for SequencerConfig {
    fn default() -> Self {
        Self {
            reorder_packets: 32,
            slot_bytes: 1500,
            first_expected: Some(1),
            gap_timeout_ns: Some(DEFAULT_GAP_TIMEOUT_NS),
        }
    }
}

/// Counters since construction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SequencerStats {
    /// Well-formed packets seen.
    pub packets: u64,
    /// Packets that failed to parse.
    pub malformed: u64,
    /// Messages delivered.
    pub messages_delivered: u64,
    /// Packets dropped whole as duplicates (on arrival or when released from the buffer).
    pub duplicate_packets: u64,
    /// Messages skipped as already delivered (partial overlaps and duplicate packets).
    pub duplicate_messages: u64,
    /// Packets that overlapped delivered messages and carried new ones.
    pub partial_overlaps: u64,
    /// Packets put in the reorder buffer.
    pub packets_held: u64,
    /// Gaps closed by a late packet (held packets then released in order).
    pub reorders_filled: u64,
    /// Gaps declared lost.
    pub gaps_lost: u64,
    /// Messages declared lost.
    pub messages_lost: u64,
    /// Heartbeats seen.
    pub heartbeats: u64,
    /// End-of-session packets seen.
    pub end_of_sessions: u64,
    /// Session changes.
    pub session_changes: u64,
    /// Held datagrams larger than a slot (the slot grew).
    pub slot_grows: u64,
    /// Of the gaps declared lost, those declared because they outlived the gap timeout.
    pub gaps_timed_out: u64,
}

impl SequencerStats {
    /// Adds `other`'s counters to these (for several sequencers, e.g. one per stream).
    pub fn accumulate(&mut self, other: &Self) {
        let Self {
            packets,
            malformed,
            messages_delivered,
            duplicate_packets,
            duplicate_messages,
            partial_overlaps,
            packets_held,
            reorders_filled,
            gaps_lost,
            messages_lost,
            heartbeats,
            end_of_sessions,
            session_changes,
            slot_grows,
            gaps_timed_out,
        } = *other;
        self.packets += packets;
        self.malformed += malformed;
        self.messages_delivered += messages_delivered;
        self.duplicate_packets += duplicate_packets;
        self.duplicate_messages += duplicate_messages;
        self.partial_overlaps += partial_overlaps;
        self.packets_held += packets_held;
        self.reorders_filled += reorders_filled;
        self.gaps_lost += gaps_lost;
        self.messages_lost += messages_lost;
        self.heartbeats += heartbeats;
        self.end_of_sessions += end_of_sessions;
        self.session_changes += session_changes;
        self.slot_grows += slot_grows;
        self.gaps_timed_out += gaps_timed_out;
    }
}

#[derive(Debug)]
struct Slot {
    start: u64,
    next: u64,
    bytes: Vec<u8>,
}

/// The reorder buffer: fixed slots, an ascending-by-start index and a free list.
#[derive(Debug)]
struct HeldPackets {
    slots: Vec<Slot>,
    order: Vec<usize>,
    free: Vec<usize>,
}

impl HeldPackets {
    fn new(capacity: usize, slot_bytes: usize) -> Self {
        let slots = (0..capacity)
            .map(|_| Slot {
                start: 0,
                next: 0,
                bytes: Vec::with_capacity(slot_bytes),
            })
            .collect();
        Self {
            slots,
            order: Vec::with_capacity(capacity),
            free: (0..capacity).rev().collect(),
        }
    }

    fn len(&self) -> usize {
        self.order.len()
    }

    fn is_full(&self) -> bool {
        self.free.is_empty()
    }

    fn lowest(&self) -> Option<&Slot> {
        self.order.first().and_then(|&i| self.slots.get(i))
    }

    /// Whether a held packet already covers `[start, next)`.
    fn covers(&self, start: u64, next: u64) -> bool {
        self.order
            .iter()
            .filter_map(|&i| self.slots.get(i))
            .any(|s| s.start <= start && s.next >= next)
    }

    /// Copies a packet in; returns whether the slot had to grow. Caller checks `is_full`.
    fn insert(&mut self, start: u64, next: u64, datagram: &[u8]) -> bool {
        let Some(idx) = self.free.pop() else {
            return false;
        };
        let Some(slot) = self.slots.get_mut(idx) else {
            return false;
        };
        let grew = datagram.len() > slot.bytes.capacity();
        slot.start = start;
        slot.next = next;
        slot.bytes.clear();
        slot.bytes.extend_from_slice(datagram);
        let slots = &self.slots;
        let pos = self
            .order
            .partition_point(|&i| slots.get(i).is_some_and(|s| s.start <= start));
        self.order.insert(pos, idx);
        grew
    }

    fn pop_lowest(&mut self) {
        if !self.order.is_empty() {
            let idx = self.order.remove(0);
            self.free.push(idx);
        }
    }

    fn clear(&mut self) {
        while !self.order.is_empty() {
            self.pop_lowest();
        }
    }
}

/// Per-session sequencer. See the module documentation.
#[derive(Debug)]
pub struct MoldSequencer {
    config: SequencerConfig,
    session: Option<MoldSession>,
    expected: Option<u64>,
    highest_next: u64,
    ended: bool,
    held: HeldPackets,
    /// The open gap's first sequence and when it was first seen open.
    gap_open: Option<(u64, u64)>,
    stats: SequencerStats,
}

/// Delivers the messages of `packet` at or after `*expected` and advances it.
fn deliver_from<F: FnMut(SeqEvent<'_>)>(
    packet: &MoldPacket<'_>,
    expected: &mut u64,
    stats: &mut SequencerStats,
    sink: &mut F,
) {
    for (seq, payload) in packet.messages() {
        if seq >= *expected {
            sink(SeqEvent::Message { seq, payload });
            stats.messages_delivered += 1;
            *expected = seq.saturating_add(1);
        } else {
            stats.duplicate_messages += 1;
        }
    }
}

impl MoldSequencer {
    /// A sequencer with its reorder buffer allocated.
    pub fn new(config: SequencerConfig) -> Self {
        let config = SequencerConfig {
            reorder_packets: config.reorder_packets.clamp(1, MAX_REORDER_PACKETS),
            slot_bytes: config.slot_bytes.min(MAX_SLOT_BYTES),
            ..config
        };
        Self {
            config,
            session: None,
            expected: config.first_expected,
            highest_next: 0,
            ended: false,
            held: HeldPackets::new(config.reorder_packets, config.slot_bytes),
            gap_open: None,
            stats: SequencerStats::default(),
        }
    }

    /// Counters so far.
    pub const fn stats(&self) -> SequencerStats {
        self.stats
    }

    /// The current session, once a packet was seen.
    pub const fn session(&self) -> Option<MoldSession> {
        self.session
    }

    /// The next sequence to deliver (`None` before the first packet when joining mid-stream).
    pub const fn expected(&self) -> Option<u64> {
        self.expected
    }

    /// Packets waiting in the reorder buffer.
    pub fn held_packets(&self) -> usize {
        self.held.len()
    }

    /// Whether the current session saw its end-of-session packet.
    pub const fn ended(&self) -> bool {
        self.ended
    }

    /// The gap currently blocking delivery, if any: from the next expected sequence to the
    /// first held packet (or to the highest sequence announced by a heartbeat).
    pub fn pending_gap(&self) -> Option<SeqRange> {
        let first = self.expected?;
        let end = self.held.lowest().map_or(self.highest_next, |s| s.start);
        (end > first).then_some(SeqRange { first, end })
    }

    /// Handles one datagram, sending delivered messages, lost ranges and session changes to
    /// `sink` in order. A malformed datagram is counted and returned as an error; nothing else
    /// changes.
    pub fn on_packet<F: FnMut(SeqEvent<'_>)>(
        &mut self,
        datagram: &[u8],
        mut sink: F,
    ) -> Result<PacketOutcome, MoldError> {
        let packet = match MoldPacket::parse(datagram) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        self.stats.packets += 1;
        let session = packet.session();
        match self.session {
            Some(old) if old != session => {
                self.flush(&mut sink);
                self.stats.session_changes += 1;
                sink(SeqEvent::SessionChanged {
                    from: old,
                    to: session,
                });
                self.reset(session);
            }
            Some(_) => {}
            None => self.session = Some(session),
        }
        if self.expected.is_none() {
            self.expected = Some(packet.sequence());
        }
        self.highest_next = self.highest_next.max(packet.next_sequence());
        Ok(match packet.kind() {
            PacketKind::Heartbeat => {
                self.stats.heartbeats += 1;
                PacketOutcome::Heartbeat
            }
            PacketKind::EndOfSession => {
                self.stats.end_of_sessions += 1;
                self.flush(&mut sink);
                self.ended = true;
                PacketOutcome::EndOfSession
            }
            PacketKind::Messages => self.on_messages(&packet, datagram, &mut sink),
        })
    }

    /// [`on_packet`](Self::on_packet) for a datagram received at `now_ns`, then
    /// [`poll_gap`](Self::poll_gap): a gap open for longer than the gap timeout is declared
    /// lost.
    pub fn on_packet_at<F: FnMut(SeqEvent<'_>)>(
        &mut self,
        now_ns: u64,
        datagram: &[u8],
        mut sink: F,
    ) -> Result<PacketOutcome, MoldError> {
        let outcome = self.on_packet(datagram, &mut sink);
        self.poll_gap(now_ns, &mut sink);
        outcome
    }

    /// Times the open gap at `now_ns` (the same clock as the packets' receive times): the gap
    /// is timed from when it was first seen open here, and declared lost once it has stayed
    /// open for the gap timeout (the held packets behind it are then delivered, and a further
    /// gap is timed from now). Call it on a timer too, when packets stop. Returns whether a gap
    /// was declared lost.
    pub fn poll_gap<F: FnMut(SeqEvent<'_>)>(&mut self, now_ns: u64, sink: &mut F) -> bool {
        let Some(gap) = self.pending_gap() else {
            self.gap_open = None;
            return false;
        };
        let since = match self.gap_open {
            Some((first, since)) if first == gap.first => since,
            _ => {
                self.gap_open = Some((gap.first, now_ns));
                now_ns
            }
        };
        let Some(timeout) = self.config.gap_timeout_ns else {
            return false;
        };
        if now_ns.saturating_sub(since) < timeout {
            return false;
        }
        self.stats.gaps_timed_out += 1;
        self.declare_lost(gap.first, gap.end, sink);
        self.expected = Some(gap.end);
        self.drain(sink);
        self.gap_open = self.pending_gap().map(|g| (g.first, now_ns));
        true
    }

    /// Declares every open gap lost and delivers every held packet, in order. Called at end of
    /// session, on session change, and by the owner when it stops waiting (e.g. on a timer).
    pub fn flush<F: FnMut(SeqEvent<'_>)>(&mut self, sink: &mut F) {
        let Some(mut expected) = self.expected else {
            return;
        };
        while let Some(start) = self.held.lowest().map(|s| s.start) {
            if start > expected {
                self.declare_lost(expected, start, sink);
                expected = start;
                self.expected = Some(expected);
            }
            self.drain(sink);
            expected = self.expected.unwrap_or(expected);
        }
        if self.highest_next > expected {
            self.declare_lost(expected, self.highest_next, sink);
            self.expected = Some(self.highest_next);
        }
    }

    fn reset(&mut self, session: MoldSession) {
        self.session = Some(session);
        self.expected = self.config.first_expected;
        self.highest_next = 0;
        self.ended = false;
        self.held.clear();
        self.gap_open = None;
    }

    fn on_messages<F: FnMut(SeqEvent<'_>)>(
        &mut self,
        packet: &MoldPacket<'_>,
        datagram: &[u8],
        sink: &mut F,
    ) -> PacketOutcome {
        loop {
            let expected = self.expected.unwrap_or(packet.sequence());
            if packet.next_sequence() <= expected {
                self.stats.duplicate_packets += 1;
                self.stats.duplicate_messages += u64::from(packet.message_count());
                return PacketOutcome::Duplicate;
            }
            if packet.sequence() <= expected {
                let skipped = expected - packet.sequence();
                let mut exp = expected;
                deliver_from(packet, &mut exp, &mut self.stats, sink);
                self.expected = Some(exp);
                if self.drain(sink) > 0 {
                    self.stats.reorders_filled += 1;
                }
                return if skipped > 0 {
                    self.stats.partial_overlaps += 1;
                    PacketOutcome::PartialOverlap { skipped }
                } else {
                    PacketOutcome::InOrder
                };
            }
            if self.held.covers(packet.sequence(), packet.next_sequence()) {
                self.stats.duplicate_packets += 1;
                self.stats.duplicate_messages += u64::from(packet.message_count());
                return PacketOutcome::Duplicate;
            }
            if !self.held.is_full() {
                if self
                    .held
                    .insert(packet.sequence(), packet.next_sequence(), datagram)
                {
                    self.stats.slot_grows += 1;
                }
                self.stats.packets_held += 1;
                return PacketOutcome::Held;
            }
            // Buffer full: the earliest gap is lost; deliver what was held behind it, then
            // look at this packet again.
            let gap_end = self
                .held
                .lowest()
                .map_or(packet.sequence(), |s| s.start.min(packet.sequence()));
            self.declare_lost(expected, gap_end, sink);
            self.expected = Some(gap_end);
            self.drain(sink);
        }
    }

    /// Delivers held packets that are now contiguous; returns how many were delivered.
    fn drain<F: FnMut(SeqEvent<'_>)>(&mut self, sink: &mut F) -> usize {
        let mut released = 0;
        while let Some(&idx) = self.held.order.first() {
            let Some(mut expected) = self.expected else {
                break;
            };
            let Some(slot) = self.held.slots.get(idx) else {
                break;
            };
            if slot.start > expected {
                break;
            }
            if slot.next <= expected {
                self.stats.duplicate_packets += 1;
                self.stats.duplicate_messages = self
                    .stats
                    .duplicate_messages
                    .saturating_add(slot.next - slot.start);
            } else if let Ok(packet) = MoldPacket::parse(&slot.bytes) {
                deliver_from(&packet, &mut expected, &mut self.stats, sink);
                self.expected = Some(expected);
                released += 1;
            }
            self.held.pop_lowest();
        }
        released
    }

    fn declare_lost<F: FnMut(SeqEvent<'_>)>(&mut self, first: u64, end: u64, sink: &mut F) {
        if end > first {
            self.stats.gaps_lost += 1;
            self.stats.messages_lost = self.stats.messages_lost.saturating_add(end - first);
            sink(SeqEvent::Lost(SeqRange { first, end }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_types_are_small_copies() {
        assert_eq!(std::mem::size_of::<PacketOutcome>(), 16);
        assert_eq!(std::mem::size_of::<SeqRange>(), 16);
        assert_eq!(std::mem::size_of::<SeqEvent<'_>>(), 32);
        assert_eq!(std::mem::size_of::<SequencerStats>(), 15 * 8);
    }

    #[test]
    fn held_packets_stay_sorted_and_recycle_slots() {
        let mut h = HeldPackets::new(3, 8);
        assert!(!h.insert(30, 31, b"c"));
        assert!(!h.insert(10, 12, b"a"));
        assert!(h.insert(20, 21, b"0123456789"));
        assert!(h.is_full());
        assert_eq!(h.lowest().map(|s| s.start), Some(10));
        assert!(h.covers(10, 11) && !h.covers(10, 13));
        h.pop_lowest();
        assert_eq!(h.lowest().map(|s| s.start), Some(20));
        assert!(!h.is_full());
        h.clear();
        assert_eq!(h.len(), 0);
        assert_eq!(h.free.len(), 3);
    }
}
