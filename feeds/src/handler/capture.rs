//! Feeding capture records to a [`FeedHandler`]: a `.kcap` (or any source of records, such as
//! a pcap reader) replayed start to end.

use kestrel_core::{InstrumentError, InstrumentTable};

use super::feed::{FeedHandler, HandlerConfig};
use super::sink::EventSink;
use crate::kcap::{KcapHeader, KcapReader, PayloadKind, Record};
use crate::pcap::{ChannelMap, PcapCapture};

/// Why a capture cannot be replayed by the ITCH feed handler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The capture's payloads are not MoldUDP64 / ITCH 5.0.
    #[error("capture payload is {0}, not MoldUDP64 / ITCH 5.0")]
    WrongPayload(PayloadKind),
    /// The capture's instrument table is inconsistent.
    #[error("capture instrument table: {0}")]
    Instruments(#[from] InstrumentError),
}

/// The instrument table a capture header declares, in its id order.
pub fn header_instruments(header: &KcapHeader) -> Result<InstrumentTable, InstrumentError> {
    let mut table = InstrumentTable::new();
    let mut rows: Vec<_> = header.instruments.iter().collect();
    rows.sort_by_key(|i| i.id);
    for i in rows {
        table.add(&i.symbol, i.tick_size, i.lot_size, i.price_decimals)?;
    }
    Ok(table)
}

impl FeedHandler {
    /// A handler for a capture with this header: MoldUDP64 / ITCH payloads required, the
    /// header's instruments preloaded (so symbols keep the capture's ids).
    pub fn for_capture(config: HandlerConfig, header: &KcapHeader) -> Result<Self, ReplayError> {
        if header.payload_kind != PayloadKind::MoldUdp64Itch50 {
            return Err(ReplayError::WrongPayload(header.payload_kind));
        }
        Ok(Self::with_instruments(config, header_instruments(header)?))
    }

    /// Feeds every record (a MoldUDP64 datagram each) through the handler, counting records
    /// the source reports as damaged, then [`finish`](Self::finish)es.
    pub fn replay_records<'a, E, S: EventSink + ?Sized>(
        &mut self,
        records: impl IntoIterator<Item = Result<Record<'a>, E>>,
        sink: &mut S,
    ) {
        for record in records {
            match record {
                Ok(r) => self.on_channel_datagram(r.channel, r.recv_ts, r.payload, sink),
                Err(_) => self.count_capture_error(),
            }
        }
        self.finish(sink);
    }

    /// Replays a whole `.kcap`: see [`replay_records`](Self::replay_records).
    pub fn replay_kcap<S: EventSink + ?Sized>(&mut self, reader: &KcapReader, sink: &mut S) {
        self.replay_records(reader.records(), sink);
    }

    /// Replays a pcap / pcapng of MoldUDP64 datagrams (every UDP port): frames that are not
    /// IPv4/UDP (or are fragments, or on an unknown link) are counted as skipped records,
    /// unreadable frames as capture errors.
    pub fn replay_pcap<S: EventSink + ?Sized>(&mut self, capture: &PcapCapture, sink: &mut S) {
        let channels = ChannelMap::by_port();
        let mut records = capture.records(&channels);
        for record in records.by_ref() {
            match record {
                Ok(r) => self.on_channel_datagram(r.channel, r.recv_ts, r.payload, sink),
                Err(_) => self.count_capture_error(),
            }
        }
        let st = records.stats();
        self.count_skipped_records(
            st.not_ipv4 + st.not_udp + st.fragments + st.unsupported_link + st.unmapped_port,
        );
        self.finish(sink);
    }
}
