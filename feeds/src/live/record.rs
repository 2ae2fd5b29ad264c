//! [`Recorder`]: the messages a live feed delivered, in order, written as a `.kcap` of MoldUDP64
//! packets (same session, same sequence numbers, each packet stamped with the receive time of
//! the datagram that delivered its messages). Retransmitted messages sit where they belong, so
//! replaying the capture rebuilds exactly the books the live feed built; a gap the live feed
//! lost stays a gap in the capture, and the replay counts it the same way.

use std::io::Write;

use kestrel_core::Timestamp;

use super::receiver::Delivery;
use crate::kcap::{KcapError, KcapHeader, KcapWriter, PayloadKind, Record};
use crate::moldudp64::{DEFAULT_MAX_PACKET, MoldPacketBuilder, MoldSession};

/// Recording counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Messages written.
    pub messages: u64,
    /// Records (packets) written.
    pub records: u64,
    /// Gaps carried into the capture (lost on the live feed).
    pub gaps: u64,
}

/// Writes delivered messages as a capture.
#[derive(Debug)]
pub struct Recorder<W: Write> {
    kcap: KcapWriter<W>,
    session: MoldSession,
    builder: Option<MoldPacketBuilder>,
    packet: Vec<u8>,
    packet_ts: Timestamp,
    stats: RecordStats,
}

impl<W: Write> Recorder<W> {
    /// A recorder writing into `out`; `created` is the header's creation time.
    pub fn new(out: W, venue: &str, created: Timestamp) -> Result<Self, KcapError> {
        let header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, venue, created);
        Ok(Self {
            kcap: KcapWriter::new(out, &header)?,
            session: MoldSession([b' '; 10]),
            builder: None,
            packet: Vec::with_capacity(DEFAULT_MAX_PACKET),
            packet_ts: Timestamp::ZERO,
            stats: RecordStats::default(),
        })
    }

    /// Counters.
    pub fn stats(&self) -> RecordStats {
        self.stats
    }

    fn write_packet(&mut self) -> Result<(), KcapError> {
        let record = Record {
            recv_ts: self.packet_ts,
            seq: self.stats.records,
            channel: 0,
            payload: &self.packet,
        };
        self.kcap.write_record(&record)?;
        self.stats.records += 1;
        Ok(())
    }

    fn flush_open(&mut self) -> Result<(), KcapError> {
        if let Some(b) = &mut self.builder
            && b.finish_into(&mut self.packet)
        {
            self.write_packet()?;
        }
        Ok(())
    }

    /// One delivery from the live feed.
    pub fn on_delivery(&mut self, delivery: &Delivery<'_>) -> Result<(), KcapError> {
        match *delivery {
            Delivery::Message {
                session,
                recv_ts,
                seq,
                payload,
            } => {
                let restart = self
                    .builder
                    .as_ref()
                    .is_none_or(|b| b.next_sequence() != seq || session != self.session);
                if restart || recv_ts != self.packet_ts {
                    self.flush_open()?;
                }
                if restart {
                    self.session = session;
                    self.builder = Some(MoldPacketBuilder::new(session, seq));
                }
                if recv_ts != self.packet_ts || restart {
                    self.packet_ts = recv_ts;
                }
                if let Some(b) = &mut self.builder
                    && b.push(payload, &mut self.packet)
                        .map_err(|e| KcapError::Write(std::io::Error::other(e.to_string())))?
                {
                    self.write_packet()?;
                }
                self.stats.messages += 1;
            }
            Delivery::Lost(_) => {
                self.stats.gaps += 1;
                self.flush_open()?;
            }
        }
        Ok(())
    }

    /// Writes what is pending and an end-of-session packet; returns the writer.
    pub fn finish(mut self) -> Result<(W, RecordStats), KcapError> {
        if let Some(mut b) = self.builder.take() {
            while b.end_of_session_into(&mut self.packet) {
                self.write_packet()?;
            }
            self.write_packet()?;
        }
        let stats = self.stats;
        Ok((self.kcap.finish()?, stats))
    }
}
