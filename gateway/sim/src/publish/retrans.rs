//! The MoldUDP64 retransmission server's logic: a request names a session, a first sequence
//! and a count; the answer is the stored messages from there, packed into MoldUDP64 packets
//! exactly like the live stream, at most `max_messages` per request.

use kestrel_feeds::moldudp64::{MoldPacketBuilder, MoldRequest};

use super::mold::{MessageStore, PacketSink};

/// Retransmission counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetransStats {
    /// Requests answered.
    pub requests: u64,
    /// Requests refused (malformed, wrong session, nothing stored there).
    pub refused: u64,
    /// Messages resent.
    pub messages: u64,
    /// Packets resent.
    pub packets: u64,
}

/// Answers re-requests from a [`MessageStore`].
#[derive(Debug)]
pub struct Retransmitter {
    max_messages: u16,
    packet: Vec<u8>,
    stats: RetransStats,
}

impl Retransmitter {
    /// A server that resends at most `max_messages` per request.
    pub fn new(max_messages: u16) -> Self {
        Self {
            max_messages: max_messages.max(1),
            packet: Vec::with_capacity(1500),
            stats: RetransStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> RetransStats {
        self.stats
    }

    /// Answers one request datagram into `sink`. Returns the number of messages resent.
    pub fn answer<S: PacketSink + ?Sized>(
        &mut self,
        datagram: &[u8],
        session: kestrel_feeds::moldudp64::MoldSession,
        store: &MessageStore,
        sink: &mut S,
    ) -> u64 {
        let Ok(req) = MoldRequest::decode(datagram) else {
            self.stats.refused += 1;
            return 0;
        };
        if req.session != session || req.sequence == 0 || req.sequence > store.len() {
            self.stats.refused += 1;
            return 0;
        }
        self.stats.requests += 1;
        let count = u64::from(req.count.min(self.max_messages)).max(1);
        let end = req.sequence.saturating_add(count).min(store.len() + 1);
        let mut builder = MoldPacketBuilder::new(session, req.sequence);
        let mut resent = 0;
        for seq in req.sequence..end {
            let Some(msg) = store.get(seq) else { break };
            if let Ok(true) = builder.push(msg, &mut self.packet) {
                self.stats.packets += 1;
                sink.send_packet(&self.packet);
            }
            resent += 1;
        }
        if builder.finish_into(&mut self.packet) {
            self.stats.packets += 1;
            sink.send_packet(&self.packet);
        }
        self.stats.messages += resent;
        resent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_feeds::moldudp64::{MoldPacket, MoldSession};

    #[test]
    fn resends_the_requested_range_and_refuses_the_rest() {
        let session = MoldSession::from_name("SIM").unwrap();
        let mut store = MessageStore::with_capacity(8, 8);
        for i in 1..=10u8 {
            store.push(&[i; 5]);
        }
        let mut r = Retransmitter::new(4);
        let mut out: Vec<Vec<u8>> = Vec::new();
        let req = MoldRequest {
            session,
            sequence: 3,
            count: 100,
        };
        assert_eq!(r.answer(&req.encode(), session, &store, &mut out), 4);
        let p = MoldPacket::parse(&out[0]).unwrap();
        assert_eq!(p.sequence(), 3);
        let msgs: Vec<(u64, u8)> = p.messages().map(|(s, m)| (s, m[0])).collect();
        assert_eq!(msgs, vec![(3, 3), (4, 4), (5, 5), (6, 6)]);
        let other = MoldSession::from_name("OTHER").unwrap();
        assert_eq!(
            r.answer(
                &MoldRequest {
                    session: other,
                    ..req
                }
                .encode(),
                session,
                &store,
                &mut out
            ),
            0
        );
        assert_eq!(
            r.answer(
                &MoldRequest {
                    sequence: 11,
                    ..req
                }
                .encode(),
                session,
                &store,
                &mut out
            ),
            0
        );
        assert_eq!(r.answer(b"short", session, &store, &mut out), 0);
        assert_eq!(r.stats().refused, 3);
    }
}
