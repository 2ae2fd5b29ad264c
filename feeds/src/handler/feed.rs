//! The feed handler: MoldUDP64 datagrams (or raw ITCH messages) in, book-applied market events
//! out to a caller's sink. Every anomaly is counted in [`HandlerStats`]; nothing stops the
//! stream, and nothing is allocated per message (only when a new instrument appears). Each
//! datagram's order look-ups are prefetched before its messages are applied (`prefetch`).

use kestrel_core::book::{BookConfig, L3Books, StableHasher};
use kestrel_core::{InstrumentId, InstrumentTable, Timestamp};

use super::prefetch::prefetch_datagram;
use super::sink::{EventSink, FeedEvent};
use super::stats::HandlerStats;
use crate::itch::{DirectApply, ItchFramer, ItchNormalizer, decode};
use crate::moldudp64::{MoldStreams, SeqEvent, SequencerConfig};

/// Feed handler settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HandlerConfig {
    /// Book pool sizes.
    pub books: BookConfig,
    /// MoldUDP64 sequencer settings (one sequencer per (channel, session) stream).
    pub sequencer: SequencerConfig,
}

/// Decode, normalise and book-build state, kept apart from the sequencer so the sequencer's
/// delivery callback can borrow it mutably.
#[derive(Debug)]
struct Stages {
    normalizer: ItchNormalizer,
    books: L3Books,
    stats: HandlerStats,
}

impl Stages {
    /// One ITCH message: decoded and applied to the books (order messages through the
    /// books' direct entry points, see [`ItchNormalizer::apply_direct`]), then handed to the
    /// sink.
    #[inline]
    fn on_message<S: EventSink + ?Sized>(
        &mut self,
        recv_ts: Timestamp,
        seq: u64,
        bytes: &[u8],
        sink: &mut S,
    ) {
        self.stats.itch_messages += 1;
        // `apply_direct` (the outcome as a value) rather than `apply_direct_with`: the sink
        // call inlined into every message type's arm made a closure the compiler kept out of
        // line (callgrind, `market_day feed` on the single-symbol day: 1,908 M Ir this way,
        // 2,097 M through a closure that called the sink, 2,583 M through one returning the
        // `FeedEvent`). An order message goes to the sink as the book's `Touched`, not as a
        // `FeedEvent`: a sink that reads a few fields (the feed stage's) builds no `Applied`.
        match self.normalizer.apply_direct(bytes, &mut self.books) {
            DirectApply::Order { message, result } => {
                // Rejected whole, or applied with a late error (the book changed, the update
                // stands): as `into_applied` would report it (`error` is `Some` exactly when
                // `late` is).
                if result.as_ref().map_or(true, |t| t.late.is_some()) {
                    self.stats.book_errors += 1;
                }
                self.stats.events += 1;
                sink.on_order_event(recv_ts, seq, message, result, &self.books);
            }
            DirectApply::Event { event, outcome } => {
                if outcome.as_ref().map_or(true, |a| a.error.is_some()) {
                    self.stats.book_errors += 1;
                }
                self.stats.events += 1;
                sink.on_event(
                    &FeedEvent {
                        recv_ts,
                        seq,
                        event,
                        outcome,
                    },
                    &self.books,
                );
            }
            DirectApply::Nothing => {}
            DirectApply::DecodeError(_) => self.stats.decode_errors += 1,
        }
    }
}

/// MoldUDP64 / ITCH 5.0 feed handler with L3 books. See the module docs.
#[derive(Debug)]
pub struct FeedHandler {
    streams: MoldStreams,
    stages: Stages,
    last_recv: Timestamp,
    /// When to prefetch a datagram's order look-ups before applying it (see `prefetch`).
    batch_prefetch: BatchPrefetch,
}

/// When [`FeedHandler`] prefetches a datagram's order look-ups (all together) before it
/// applies its messages. Prefetching changes no book, event or counter, only speed: it pays
/// when the books are larger than the caches (most look-ups miss), and only adds instructions
/// when they are small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPrefetch {
    /// Never.
    Off,
    /// For every datagram.
    Always,
    /// For datagrams that arrive while the books hold at least this many live orders.
    FromLiveOrders(usize),
}

impl BatchPrefetch {
    /// The default: from 16,384 live orders, about 1 MiB of order map, orders and levels
    /// (about 60 bytes an order), twice a core's L2 cache on the benchmark machine; below that
    /// the look-ups mostly hit and the prefetch passes cost more than they save (measured in
    /// docs/BENCHMARKS.md, "The synthetic full-market day").
    pub const DEFAULT: Self = Self::FromLiveOrders(16_384);
}

impl Default for BatchPrefetch {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FeedHandler {
    /// A handler whose instruments are learned from `R` (stock directory) messages.
    pub fn new(config: HandlerConfig) -> Self {
        Self::with_instruments(config, InstrumentTable::new())
    }

    /// A handler with a preloaded instrument table (e.g. a capture's): known symbols keep
    /// their dense ids; books are sized for at least the table.
    pub fn with_instruments(config: HandlerConfig, instruments: InstrumentTable) -> Self {
        let books = BookConfig {
            instruments: config.books.instruments.max(instruments.len()),
            ..config.books
        };
        Self {
            streams: MoldStreams::new(config.sequencer),
            stages: Stages {
                normalizer: ItchNormalizer::with_instruments(instruments),
                books: L3Books::new(books),
                stats: HandlerStats::default(),
            },
            last_recv: Timestamp::ZERO,
            batch_prefetch: BatchPrefetch::DEFAULT,
        }
    }

    /// When to prefetch each datagram's order look-ups ([`BatchPrefetch::DEFAULT`] unless
    /// set). Every setting gives the same books, events and counters; `Off` pays each
    /// message's cache misses one after another (for comparison: `market_day feed --prefetch
    /// off`).
    pub fn with_batch_prefetch(mut self, when: BatchPrefetch) -> Self {
        self.batch_prefetch = when;
        self
    }

    /// One MoldUDP64 datagram of channel 0 received at `recv_ts`: see
    /// [`on_channel_datagram`](Self::on_channel_datagram).
    pub fn on_datagram<S: EventSink + ?Sized>(
        &mut self,
        recv_ts: Timestamp,
        datagram: &[u8],
        sink: &mut S,
    ) {
        self.on_channel_datagram(0, recv_ts, datagram, sink);
    }

    /// One MoldUDP64 datagram of record channel `channel` received at `recv_ts`. It is
    /// sequenced within its (channel, session) stream; its messages (and any held ones it
    /// releases) go through decode, normalise and the books to `sink`, in sequence order. A
    /// gap open for longer than the sequencer's gap timeout (receive time) is declared lost.
    pub fn on_channel_datagram<S: EventSink + ?Sized>(
        &mut self,
        channel: u16,
        recv_ts: Timestamp,
        datagram: &[u8],
        sink: &mut S,
    ) {
        self.stages.stats.records += 1;
        self.last_recv = recv_ts;
        let prefetch = match self.batch_prefetch {
            BatchPrefetch::Off => false,
            BatchPrefetch::Always => true,
            BatchPrefetch::FromLiveOrders(n) => self.stages.books.live_orders() >= n,
        };
        if prefetch {
            prefetch_datagram(datagram, &self.stages.normalizer, &self.stages.books);
        }
        let stages = &mut self.stages;
        // A malformed datagram is counted in the sequencer's stats; nothing else to do.
        let _ = self
            .streams
            .on_packet_at(channel, recv_ts.nanos(), datagram, |_, ev| {
                if let SeqEvent::Message { seq, payload } = ev {
                    stages.on_message(recv_ts, seq, payload, sink);
                }
            });
    }

    /// One raw ITCH message (no MoldUDP64 framing), e.g. from a NASDAQ ITCH file.
    pub fn on_itch_message<S: EventSink + ?Sized>(
        &mut self,
        recv_ts: Timestamp,
        seq: u64,
        bytes: &[u8],
        sink: &mut S,
    ) {
        self.last_recv = recv_ts;
        self.stages.on_message(recv_ts, seq, bytes, sink);
    }

    /// Counts one damaged stretch of the capture (a bad block, a truncated tail, a frame that
    /// could not be read) reported by whoever reads the capture.
    pub fn count_capture_error(&mut self) {
        self.stages.stats.capture_errors += 1;
    }

    /// Counts `n` records skipped as not carrying a usable datagram.
    pub fn count_skipped_records(&mut self, n: u64) {
        self.stages.stats.skipped_records += n;
    }

    /// End of input: declares open gaps lost and delivers every held packet.
    pub fn finish<S: EventSink + ?Sized>(&mut self, sink: &mut S) {
        let (stages, recv_ts) = (&mut self.stages, self.last_recv);
        self.streams.flush(&mut |_, ev: SeqEvent<'_>| {
            if let SeqEvent::Message { seq, payload } = ev {
                stages.on_message(recv_ts, seq, payload, sink);
            }
        });
    }

    /// Replays a whole raw ITCH file (2-byte length prefixes, or frame-by-type where they are
    /// zero). A raw file has no receive times: each message's own ITCH timestamp stands in.
    /// Sequence numbers are the messages' 1-based positions among the frames.
    pub fn replay_itch_file<S: EventSink + ?Sized>(&mut self, data: &[u8], sink: &mut S) {
        let mut seq = 0u64;
        for frame in ItchFramer::new(data) {
            match frame {
                Ok(frame) => {
                    seq += 1;
                    let ts =
                        decode(frame.message).map_or(self.last_recv, |m| Timestamp(m.timestamp()));
                    self.on_itch_message(ts, seq, frame.message, sink);
                }
                Err(_) => self.stages.stats.framing_errors += 1,
            }
        }
    }

    /// Counters so far (sequencer, normaliser and book counters included).
    pub fn stats(&self) -> HandlerStats {
        HandlerStats {
            mold: self.streams.stats(),
            normalizer: self.stages.normalizer.stats(),
            book: self.stages.books.stats(),
            ..self.stages.stats
        }
    }

    /// The books.
    pub fn books(&self) -> &L3Books {
        &self.stages.books
    }

    /// The instruments known so far (preloaded and learned from `R` messages).
    pub fn instruments(&self) -> &InstrumentTable {
        self.stages.normalizer.instruments()
    }

    /// One fingerprint of every book: each instrument's `book_hash`, in id order.
    pub fn books_hash(&self) -> u64 {
        combined_book_hash(&self.stages.books)
    }
}

/// The ITCH header timestamp (bytes 5..11, 48-bit big-endian nanoseconds after midnight) of
/// one message, without decoding the rest.
pub fn itch_timestamp(message: &[u8]) -> Option<Timestamp> {
    let bytes = message.get(5..11)?;
    Some(Timestamp(
        bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    ))
}

/// Combines every instrument's [`L3Books::book_hash`] in id order into one stable hash.
pub fn combined_book_hash(books: &L3Books) -> u64 {
    let mut h = StableHasher::new();
    for index in 0..books.instruments() {
        let id = InstrumentId(u32::try_from(index).unwrap_or(u32::MAX));
        h.write_u64(index as u64);
        h.write_u64(books.book_hash(id));
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use kestrel_core::book::L3Books;
    use kestrel_core::{BookEventKind, InstrumentId, MarketEvent, OrderId, Price, Qty, Side};

    use super::*;
    use crate::itch::{StockDirectoryMsg, encode_event, stock_field};
    use crate::moldudp64::{MoldPacketBuilder, MoldSession};

    /// Mold packets of one message each: R for "TEST" at locate 5, then adds of order ids
    /// 1..=n at 100.00 + i cents.
    fn packets(n: u64) -> Vec<Vec<u8>> {
        let stock = stock_field("TEST").unwrap();
        let mut builder = MoldPacketBuilder::new(MoldSession::from_name("T").unwrap(), 1);
        let mut out = Vec::new();
        let mut msgs: Vec<Vec<u8>> = Vec::new();
        let r = StockDirectoryMsg {
            stock_locate: 5,
            stock,
            ..StockDirectoryMsg::default()
        };
        msgs.push(r.to_bytes().unwrap().to_vec());
        for i in 1..=n {
            let ev = MarketEvent {
                instrument: InstrumentId(0),
                exch_ts: Timestamp(i),
                kind: BookEventKind::Add {
                    order_id: OrderId(i),
                    side: Side::Buy,
                    price: Price::from_scaled(10_000 + i as i64, 2).unwrap(),
                    qty: Qty::from_units(10).unwrap(),
                },
            };
            let mut buf = [0u8; 64];
            let len = encode_event(&ev, stock, 5, 0, Timestamp(i), &mut buf).unwrap();
            msgs.push(buf[..len].to_vec());
        }
        msgs.iter()
            .map(|m| {
                builder.push(m, &mut out).unwrap();
                builder.finish_into(&mut out);
                out.clone()
            })
            .collect()
    }

    #[test]
    fn duplicates_reordering_and_gaps_are_counted_and_delivery_stays_in_order() {
        let p = packets(6);
        let mut handler = FeedHandler::new(HandlerConfig::default());
        let mut seqs = Vec::new();
        let mut sink = |e: &FeedEvent, _: &L3Books| seqs.push(e.seq);
        // R, A1, A1 again, A3 (held), A2 (fills the gap), A5 (A4 never comes), A6, end.
        for i in [0, 1, 1, 3, 2, 5, 6] {
            handler.on_datagram(Timestamp(100 + i as u64), &p[i], &mut sink);
        }
        handler.on_datagram(Timestamp(200), b"short", &mut sink);
        handler.finish(&mut sink);
        assert_eq!(seqs, vec![2, 3, 4, 6, 7]);
        let s = handler.stats();
        assert_eq!(s.records, 8);
        assert_eq!(s.mold.duplicate_packets, 1);
        assert_eq!(s.mold.malformed, 1);
        assert_eq!(s.mold.gaps_lost, 1);
        assert_eq!(s.anomalies(), 3);
        assert_eq!(s.events, 5);
        let id = handler.instruments().id_of("TEST").unwrap();
        assert_eq!(
            handler.books().best_bid(id).map(|l| l.price),
            Price::from_scaled(10_006, 2)
        );
    }

    #[test]
    fn unknown_orders_and_bad_bytes_are_anomalies_not_stops() {
        let mut handler = FeedHandler::new(HandlerConfig::default());
        let mut sink = |_: &FeedEvent, _: &L3Books| {};
        let p = packets(1);
        handler.on_datagram(Timestamp(1), &p[0], &mut sink);
        // A delete of an order nobody added, then garbage, then a valid add.
        let mut delete = [0u8; 19];
        delete[0] = b'D';
        delete[1..3].copy_from_slice(&5u16.to_be_bytes());
        delete[11..19].copy_from_slice(&77u64.to_be_bytes());
        handler.on_itch_message(Timestamp(2), 10, &delete, &mut sink);
        handler.on_itch_message(Timestamp(3), 11, b"Zjunk", &mut sink);
        handler.on_datagram(Timestamp(4), &packets(1)[1], &mut sink);
        let s = handler.stats();
        assert_eq!((s.book.unknown_orders, s.decode_errors), (1, 1));
        assert_eq!(s.anomalies(), 2);
        // The stream went on: the add after the bad input is on the book.
        assert_eq!(handler.books().live_orders(), 1);
    }
}
