//! MoldUDP64 downstream: messages packed into packets for one session, sent through a
//! [`PacketSink`] (a UDP socket, or a vector in tests), each message kept in a
//! [`MessageStore`] by sequence number for re-requests. A [`DropPlan`] drops chosen packets on
//! purpose (fault injection: the receiver must re-request them).

use kestrel_feeds::moldudp64::{DEFAULT_MAX_PACKET, MoldPacketBuilder, MoldSession};

/// Where finished packets go.
pub trait PacketSink {
    /// Sends one packet (best effort: UDP may drop it).
    fn send_packet(&mut self, packet: &[u8]);
}

impl PacketSink for Vec<Vec<u8>> {
    fn send_packet(&mut self, packet: &[u8]) {
        self.push(packet.to_vec());
    }
}

/// A sink that discards packets (a backtest reads the book directly).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullPackets;

impl PacketSink for NullPackets {
    fn send_packet(&mut self, _packet: &[u8]) {}
}

/// Every message of the session, by sequence number (1-based), in one byte arena.
#[derive(Debug, Default, Clone)]
pub struct MessageStore {
    bytes: Vec<u8>,
    /// Start offset of message `seq` at index `seq - 1`, plus one final end offset.
    offsets: Vec<usize>,
}

impl MessageStore {
    /// A store with room for `messages` messages of `avg_len` bytes before it grows.
    pub fn with_capacity(messages: usize, avg_len: usize) -> Self {
        let mut offsets = Vec::with_capacity(messages + 1);
        offsets.push(0);
        Self {
            bytes: Vec::with_capacity(messages * avg_len),
            offsets,
        }
    }

    /// Appends the next message; returns its sequence number.
    pub fn push(&mut self, msg: &[u8]) -> u64 {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.bytes.extend_from_slice(msg);
        self.offsets.push(self.bytes.len());
        (self.offsets.len() - 1) as u64
    }

    /// Messages stored (the last sequence number).
    pub fn len(&self) -> u64 {
        self.offsets.len().saturating_sub(1) as u64
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Message `seq`, if stored.
    pub fn get(&self, seq: u64) -> Option<&[u8]> {
        let i = usize::try_from(seq.checked_sub(1)?).ok()?;
        let (start, end) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        self.bytes.get(start..end)
    }
}

/// Which packets to drop on purpose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropPlan {
    /// Packet indexes (0-based, counting every packet sent in the session, heartbeats
    /// included) to drop.
    pub packets: Vec<u64>,
    /// Drop every n-th packet as well (0: none).
    pub every: u64,
}

impl DropPlan {
    fn drops(&self, index: u64) -> bool {
        (self.every > 0 && index % self.every == self.every - 1) || self.packets.contains(&index)
    }
}

/// Counters of the downstream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MoldStats {
    /// Messages published.
    pub messages: u64,
    /// Packets built (sent or dropped).
    pub packets: u64,
    /// Packets dropped by the [`DropPlan`].
    pub dropped: u64,
    /// Heartbeats sent.
    pub heartbeats: u64,
    /// Bytes sent.
    pub bytes: u64,
}

/// A MoldUDP64 session publisher.
#[derive(Debug)]
pub struct MoldOut {
    session: MoldSession,
    builder: MoldPacketBuilder,
    packet: Vec<u8>,
    store: MessageStore,
    drops: DropPlan,
    stats: MoldStats,
    last_sent_ns: u64,
    heartbeat_ns: u64,
    ended: bool,
}

impl MoldOut {
    /// A publisher for `session`, its first message sequence 1.
    pub fn new(session: MoldSession, drops: DropPlan) -> Self {
        Self {
            session,
            builder: MoldPacketBuilder::new(session, 1),
            packet: Vec::with_capacity(DEFAULT_MAX_PACKET),
            store: MessageStore::with_capacity(1 << 16, 40),
            drops,
            stats: MoldStats::default(),
            last_sent_ns: 0,
            heartbeat_ns: 1_000_000_000,
            ended: false,
        }
    }

    /// The session.
    pub fn session(&self) -> MoldSession {
        self.session
    }

    /// Every message published so far.
    pub fn store(&self) -> &MessageStore {
        &self.store
    }

    /// Counters.
    pub fn stats(&self) -> MoldStats {
        self.stats
    }

    /// The sequence number the next message will carry.
    pub fn next_sequence(&self) -> u64 {
        self.store.len() + 1
    }

    fn send<S: PacketSink + ?Sized>(&mut self, sink: &mut S, now_ns: u64) {
        let index = self.stats.packets;
        self.stats.packets += 1;
        self.last_sent_ns = now_ns;
        if self.drops.drops(index) {
            self.stats.dropped += 1;
            return;
        }
        self.stats.bytes += self.packet.len() as u64;
        sink.send_packet(&self.packet);
    }

    /// Publishes one message (sent when its packet fills or at the next [`MoldOut::flush`]).
    pub fn publish<S: PacketSink + ?Sized>(&mut self, msg: &[u8], now_ns: u64, sink: &mut S) {
        if self.ended {
            return;
        }
        // A message always fits: ITCH messages are at most 50 bytes.
        if let Ok(true) = self.builder.push(msg, &mut self.packet) {
            self.send(sink, now_ns);
        }
        self.store.push(msg);
        self.stats.messages += 1;
    }

    /// Sends the open packet, if any.
    pub fn flush<S: PacketSink + ?Sized>(&mut self, now_ns: u64, sink: &mut S) {
        if self.builder.finish_into(&mut self.packet) {
            self.send(sink, now_ns);
        }
    }

    /// Sends a heartbeat when nothing was sent for a second.
    pub fn heartbeat_if_idle<S: PacketSink + ?Sized>(&mut self, now_ns: u64, sink: &mut S) {
        if self.ended || now_ns.saturating_sub(self.last_sent_ns) < self.heartbeat_ns {
            return;
        }
        self.flush(now_ns, sink);
        self.builder.heartbeat_into(&mut self.packet);
        self.stats.heartbeats += 1;
        self.send(sink, now_ns);
    }

    /// Ends the session: pending messages, then the end-of-session packet.
    pub fn end_session<S: PacketSink + ?Sized>(&mut self, now_ns: u64, sink: &mut S) {
        while self.builder.end_of_session_into(&mut self.packet) {
            self.send(sink, now_ns);
        }
        self.send(sink, now_ns);
        self.ended = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_feeds::moldudp64::{MoldPacket, PacketKind};

    #[test]
    fn packs_stores_and_drops_as_planned() {
        let session = MoldSession::from_name("SIM").unwrap();
        let mut out = MoldOut::new(
            session,
            DropPlan {
                packets: vec![1],
                every: 0,
            },
        );
        let mut sent: Vec<Vec<u8>> = Vec::new();
        for i in 0..3u8 {
            out.publish(&[i; 30], 0, &mut sent);
            out.flush(0, &mut sent);
        }
        assert_eq!(sent.len(), 2, "packet 1 dropped");
        let seqs: Vec<u64> = sent
            .iter()
            .map(|p| MoldPacket::parse(p).unwrap().sequence())
            .collect();
        assert_eq!(seqs, vec![1, 3]);
        assert_eq!(out.store().get(2), Some(&[1u8; 30][..]));
        assert_eq!(out.store().get(4), None);
        out.heartbeat_if_idle(2_000_000_000, &mut sent);
        let hb = MoldPacket::parse(sent.last().unwrap()).unwrap();
        assert_eq!((hb.kind(), hb.sequence()), (PacketKind::Heartbeat, 4));
        out.end_session(3_000_000_000, &mut sent);
        let eos = MoldPacket::parse(sent.last().unwrap()).unwrap();
        assert_eq!(eos.kind(), PacketKind::EndOfSession);
        assert_eq!(out.stats().dropped, 1);
    }
}
