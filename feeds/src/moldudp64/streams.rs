//! One [`MoldSequencer`] per MoldUDP64 stream: a (channel, session) pair.
//!
//! A capture (or a receiver) may carry several streams at once: one per multicast channel, and
//! on one channel the packets of more than one session (a new day's session while the last one
//! ends, a retransmission of an old session). Each stream numbers its messages on its own, so
//! packets of one stream say nothing about gaps in another: interleaved streams are not gaps
//! and do not reset each other. The first stream's sequencer is built at start; any further
//! stream's is created the first time the stream is seen (off the steady-state path). After that
//! nothing is allocated per packet.

use super::packet::{MoldError, MoldSession, SESSION_LEN};
use super::sequencer::{MoldSequencer, PacketOutcome, SeqEvent, SequencerConfig, SequencerStats};

/// A MoldUDP64 stream: the record channel (multicast group / port) and the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// Record channel.
    pub channel: u16,
    /// MoldUDP64 session.
    pub session: MoldSession,
}

/// Most streams kept at once; when a new one arrives beyond this, the stream seen longest ago
/// is flushed (its open gaps declared lost) and its sequencer reused.
pub const MAX_STREAMS: usize = 64;

/// The sequencers of every stream seen. See the module docs.
#[derive(Debug)]
pub struct MoldStreams {
    config: SequencerConfig,
    streams: Vec<Stream>,
    /// Index of the stream of the last packet (the common case: the same stream again).
    last: usize,
    /// Packet counter, for "seen longest ago".
    clock: u64,
    /// Datagrams too short to name a session (the sequencers count every other malformed one).
    short: u64,
    /// Streams flushed to make room for a new one.
    evicted: u64,
    /// A sequencer built at start for the first stream, so that a single-stream feed allocates
    /// nothing once running.
    spare: Option<MoldSequencer>,
}

/// Streams the stream list holds without growing.
const PREALLOCATED_STREAMS: usize = 8;

#[derive(Debug)]
struct Stream {
    key: StreamKey,
    sequencer: MoldSequencer,
    last_seen: u64,
}

impl MoldStreams {
    /// No streams yet; each new stream gets a sequencer with `config`.
    pub fn new(config: SequencerConfig) -> Self {
        Self {
            config,
            streams: Vec::with_capacity(PREALLOCATED_STREAMS),
            last: 0,
            clock: 0,
            short: 0,
            evicted: 0,
            spare: Some(MoldSequencer::new(config)),
        }
    }

    /// One datagram of `channel`, received at `now_ns`: sequenced within its stream (see
    /// [`MoldSequencer::on_packet_at`]); then every other stream's open gap is timed at
    /// `now_ns`. `sink` gets each event with its stream.
    pub fn on_packet_at<F: FnMut(StreamKey, SeqEvent<'_>)>(
        &mut self,
        channel: u16,
        now_ns: u64,
        datagram: &[u8],
        mut sink: F,
    ) -> Result<PacketOutcome, MoldError> {
        let Some(session) = datagram
            .get(..SESSION_LEN)
            .and_then(|s| <[u8; SESSION_LEN]>::try_from(s).ok())
        else {
            self.short += 1;
            return Err(MoldError::ShortHeader {
                len: datagram.len(),
            });
        };
        let key = StreamKey {
            channel,
            session: MoldSession(session),
        };
        let index = self.stream_index(key, &mut sink);
        self.clock += 1;
        let stream = &mut self.streams[index];
        stream.last_seen = self.clock;
        let outcome = stream
            .sequencer
            .on_packet_at(now_ns, datagram, |ev| sink(key, ev));
        if self.streams.len() > 1 {
            self.poll_gaps(now_ns, &mut sink);
        }
        outcome
    }

    /// Times every stream's open gap at `now_ns` (see [`MoldSequencer::poll_gap`]); for a timer
    /// when packets stop. Returns how many gaps were declared lost.
    pub fn poll_gaps<F: FnMut(StreamKey, SeqEvent<'_>)>(
        &mut self,
        now_ns: u64,
        sink: &mut F,
    ) -> usize {
        let mut lost = 0;
        for s in &mut self.streams {
            let key = s.key;
            lost += usize::from(s.sequencer.poll_gap(now_ns, &mut |ev| sink(key, ev)));
        }
        lost
    }

    /// End of input: every stream's open gaps are declared lost and its held packets delivered.
    pub fn flush<F: FnMut(StreamKey, SeqEvent<'_>)>(&mut self, sink: &mut F) {
        for s in &mut self.streams {
            let key = s.key;
            s.sequencer.flush(&mut |ev| sink(key, ev));
        }
    }

    /// Counters summed over every stream (a datagram too short to name its stream counts as
    /// malformed).
    pub fn stats(&self) -> SequencerStats {
        let mut total = SequencerStats {
            malformed: self.short,
            ..SequencerStats::default()
        };
        for s in &self.streams {
            total.accumulate(&s.sequencer.stats());
        }
        total
    }

    /// Streams seen (at most [`MAX_STREAMS`] kept).
    pub fn streams(&self) -> usize {
        self.streams.len()
    }

    /// Streams flushed to make room for a new one.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The sequencer of one stream, if it is kept.
    pub fn sequencer(&self, key: StreamKey) -> Option<&MoldSequencer> {
        self.streams
            .iter()
            .find(|s| s.key == key)
            .map(|s| &s.sequencer)
    }

    fn stream_index<F: FnMut(StreamKey, SeqEvent<'_>)>(
        &mut self,
        key: StreamKey,
        sink: &mut F,
    ) -> usize {
        if self.streams.get(self.last).is_some_and(|s| s.key == key) {
            return self.last;
        }
        let index = match self.streams.iter().position(|s| s.key == key) {
            Some(i) => i,
            None if self.streams.len() < MAX_STREAMS => {
                let config = self.config;
                let sequencer = self
                    .spare
                    .take()
                    .unwrap_or_else(|| MoldSequencer::new(config));
                self.streams.push(Stream {
                    key,
                    sequencer,
                    last_seen: 0,
                });
                self.streams.len() - 1
            }
            None => {
                // Full: the stream seen longest ago gives way.
                let oldest = self
                    .streams
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| s.last_seen)
                    .map_or(0, |(i, _)| i);
                let s = &mut self.streams[oldest];
                let old = s.key;
                s.sequencer.flush(&mut |ev| sink(old, ev));
                s.sequencer = MoldSequencer::new(self.config);
                s.key = key;
                self.evicted += 1;
                oldest
            }
        };
        self.last = index;
        index
    }
}
