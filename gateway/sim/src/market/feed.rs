//! Walking a capture's MoldUDP64 / ITCH records as market events, pulled one at a time.

use kestrel_core::{InstrumentTable, MarketEvent, Timestamp};
use kestrel_feeds::itch::{ItchNormalizer, decode};
use kestrel_feeds::kcap::{KcapReader, Records};
use kestrel_feeds::moldudp64::{MoldSequencer, SeqEvent, SequencerConfig};

/// Counters of a background replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackgroundStats {
    /// Capture records read.
    pub records: u64,
    /// Damaged capture stretches skipped.
    pub capture_errors: u64,
    /// ITCH messages decoded.
    pub messages: u64,
    /// ITCH messages that did not decode.
    pub decode_errors: u64,
    /// Market events produced.
    pub events: u64,
}

/// A capture's market events in sequence order, each with its venue timestamp (ITCH:
/// nanoseconds since midnight). Events of one datagram are buffered (the buffer is reused);
/// nothing else is allocated per event.
#[derive(Debug)]
pub struct BackgroundFeed<'a> {
    records: Records<'a>,
    sequencer: MoldSequencer,
    normalizer: ItchNormalizer,
    pending: Vec<MarketEvent>,
    next: usize,
    stats: BackgroundStats,
    finished: bool,
}

impl<'a> BackgroundFeed<'a> {
    /// A feed over `reader`'s records with `instruments` preloaded (ids as in the header).
    pub fn new(reader: &'a KcapReader, instruments: InstrumentTable) -> Self {
        Self {
            records: reader.records(),
            sequencer: MoldSequencer::new(SequencerConfig {
                reorder_packets: 1024,
                ..SequencerConfig::default()
            }),
            normalizer: ItchNormalizer::with_instruments(instruments),
            pending: Vec::with_capacity(1024),
            next: 0,
            stats: BackgroundStats::default(),
            finished: false,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> BackgroundStats {
        self.stats
    }

    /// The instruments (capture's, plus any learned from `R` messages).
    pub fn instruments(&self) -> &InstrumentTable {
        self.normalizer.instruments()
    }

    /// The timestamp of the next event, without taking it.
    pub fn peek_ts(&mut self) -> Option<Timestamp> {
        self.fill();
        self.pending.get(self.next).map(|e| e.exch_ts)
    }

    /// The next event.
    pub fn next_event(&mut self) -> Option<MarketEvent> {
        self.fill();
        let ev = self.pending.get(self.next).copied();
        if ev.is_some() {
            self.next += 1;
        }
        ev
    }

    fn fill(&mut self) {
        while self.next >= self.pending.len() && !self.finished {
            self.pending.clear();
            self.next = 0;
            let (normalizer, pending, stats) =
                (&mut self.normalizer, &mut self.pending, &mut self.stats);
            let mut on_seq = |ev: SeqEvent<'_>| {
                if let SeqEvent::Message { payload, .. } = ev {
                    stats.messages += 1;
                    match decode(payload) {
                        Ok(msg) => {
                            if let Some(e) = normalizer.normalize(&msg) {
                                stats.events += 1;
                                pending.push(e);
                            }
                        }
                        Err(_) => stats.decode_errors += 1,
                    }
                }
            };
            match self.records.next() {
                Some(Ok(r)) => {
                    let _ = self.sequencer.on_packet(r.payload, &mut on_seq);
                    self.stats.records += 1;
                }
                Some(Err(_)) => self.stats.capture_errors += 1,
                None => {
                    self.sequencer.flush(&mut on_seq);
                    self.finished = true;
                }
            }
        }
    }
}
