//! `latency.hlog`: the HdrHistogram interval log (V2 + deflate, one tag per stage).
//!
//! [`HlogWriter`] streams: each finished interval is serialised and written as it arrives, so
//! a session's memory does not grow with its length. Its lines are byte for byte what the
//! `hdrhistogram` crate's `IntervalLogWriter` writes (a test checks), which the Java and Rust
//! HdrHistogram log readers parse. [`read_interval_log`] reads a log back with the crate's
//! iterator.

use std::io::Write;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

use super::{IntervalHistograms, IntervalRecord, LatencyTag};

/// The max column's divisor: values are nanoseconds, the column milliseconds (HdrHistogram's
/// default for nanosecond logs).
pub const MAX_VALUE_DIVISOR: f64 = 1_000_000.0;

/// Why an interval log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum HlogError {
    /// File or stream error.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The histogram could not be serialised.
    #[error("serialising interval {index}: {detail}")]
    Serialize {
        /// Interval number in the log.
        index: u64,
        /// The serialiser's message.
        detail: String,
    },
    /// A line of the log did not parse.
    #[error("interval log does not parse at byte offset {offset}")]
    Parse {
        /// Byte offset of the unparsable line.
        offset: usize,
    },
    /// An interval's encoded histogram did not decode.
    #[error("interval {index}: histogram does not decode: {detail}")]
    Decode {
        /// Interval number in the log.
        index: usize,
        /// The deserialiser's message.
        detail: String,
    },
    /// An interval has no tag or a tag that is not a [`LatencyTag`].
    #[error("interval {index}: tag {tag:?} is not a Kestrel stage")]
    Tag {
        /// Interval number in the log.
        index: usize,
        /// The tag found.
        tag: Option<String>,
    },
}

/// Writes an interval log one interval at a time. Interval timestamps are seconds since the
/// log's `BaseTime` (the run's start, fixed when the writer is made), which is also its
/// `StartTime`; the max column is in milliseconds.
///
/// Serialisation buffers are reused: after the first intervals a write allocates only what the
/// serialiser and base64 encoder need transiently, on the ops thread.
pub struct HlogWriter<W: Write> {
    out: W,
    base_ns: u64,
    serializer: V2DeflateSerializer,
    encoded: Vec<u8>,
    text: String,
    written: u64,
}

impl<W: Write> std::fmt::Debug for HlogWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlogWriter")
            .field("base_ns", &self.base_ns)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl<W: Write> HlogWriter<W> {
    /// Starts a log on `out`: the `comment` lines, then `StartTime`, `BaseTime` (both
    /// `base_ns`, pipeline clock nanoseconds close to the Unix epoch) and `MaxValueDivisor`.
    pub fn new(mut out: W, base_ns: u64, comment: &str) -> Result<Self, HlogError> {
        for line in comment
            .split('\n')
            .chain(["values are nanoseconds; tags are pipeline stages"])
        {
            writeln!(out, "#{line}")?;
        }
        let base_s = seconds(base_ns);
        writeln!(out, "#[StartTime: {base_s:.3} (seconds since epoch)]")?;
        writeln!(out, "#[BaseTime: {base_s:.3} (seconds since epoch)]")?;
        writeln!(out, "#[MaxValueDivisor: {MAX_VALUE_DIVISOR:.3}]")?;
        Ok(Self {
            out,
            base_ns,
            serializer: V2DeflateSerializer::new(),
            encoded: Vec::new(),
            text: String::new(),
            written: 0,
        })
    }

    /// Writes one tag's interval `[start_ns, end_ns)`.
    pub fn write(
        &mut self,
        tag: LatencyTag,
        start_ns: u64,
        end_ns: u64,
        hist: &Histogram<u64>,
    ) -> Result<(), HlogError> {
        let start = seconds(start_ns.saturating_sub(self.base_ns));
        let length = seconds(end_ns.saturating_sub(start_ns));
        let max = hist.max() as f64 / MAX_VALUE_DIVISOR;
        self.encoded.clear();
        self.serializer
            .serialize(hist, &mut self.encoded)
            .map_err(|e| HlogError::Serialize {
                index: self.written,
                detail: e.to_string(),
            })?;
        self.text.clear();
        BASE64.encode_string(&self.encoded, &mut self.text);
        writeln!(
            self.out,
            "Tag={tag},{start:.3},{length:.3},{max:.3},{}",
            self.text
        )?;
        self.written += 1;
        Ok(())
    }

    /// Writes every non-empty histogram of one finished interval set.
    pub fn write_set(&mut self, set: &IntervalHistograms) -> Result<(), HlogError> {
        for (tag, h) in set.non_empty() {
            self.write(tag, set.start_ns(), set.end_ns(), h)?;
        }
        Ok(())
    }

    /// Interval lines written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> Result<(), HlogError> {
        self.out.flush()?;
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> Result<W, HlogError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

fn seconds(ns: u64) -> f64 {
    let d = Duration::from_nanos(ns);
    d.as_secs() as f64 + f64::from(d.subsec_nanos()) / 1e9
}

/// Writes `records` as one interval log, sorted by start time then tag, with the earliest start
/// as `BaseTime` (for tools and tests that hold a few intervals in memory; a run streams through
/// [`HlogWriter`] instead).
pub fn write_interval_log<W: Write>(
    out: &mut W,
    records: &[IntervalRecord],
    comment: &str,
) -> Result<(), HlogError> {
    let base_ns = records.iter().map(|r| r.start_ns).min().unwrap_or(0);
    let mut sorted: Vec<&IntervalRecord> = records.iter().collect();
    sorted.sort_by_key(|r| (r.start_ns, r.tag));
    let mut w = HlogWriter::new(out, base_ns, comment)?;
    for r in sorted {
        w.write(r.tag, r.start_ns, r.end_ns, &r.hist)?;
    }
    w.flush()
}

/// Reads an interval log written by [`HlogWriter`] (or any log whose tags are Kestrel stage
/// names) back into interval records with absolute nanosecond times.
pub fn read_interval_log(bytes: &[u8]) -> Result<Vec<IntervalRecord>, HlogError> {
    let mut base_ns: u64 = 0;
    let mut out = Vec::new();
    let mut deserializer = Deserializer::new();
    for (index, entry) in IntervalLogIterator::new(bytes).enumerate() {
        match entry {
            Err(hdrhistogram::serialization::interval_log::LogIteratorError::ParseError {
                offset,
            }) => return Err(HlogError::Parse { offset }),
            Ok(LogEntry::BaseTime(d)) => base_ns = duration_ns(d),
            Ok(LogEntry::StartTime(_)) => {}
            Ok(LogEntry::Interval(iv)) => {
                let tag_str = iv.tag().map(|t| t.as_str().to_owned());
                let tag = tag_str
                    .as_deref()
                    .and_then(|t| t.parse::<LatencyTag>().ok())
                    .ok_or(HlogError::Tag {
                        index,
                        tag: tag_str.clone(),
                    })?;
                let decoded =
                    BASE64
                        .decode(iv.encoded_histogram())
                        .map_err(|e| HlogError::Decode {
                            index,
                            detail: format!("base64: {e}"),
                        })?;
                let hist: Histogram<u64> = deserializer
                    .deserialize(&mut decoded.as_slice())
                    .map_err(|e| HlogError::Decode {
                        index,
                        detail: format!("{e:?}"),
                    })?;
                let start_ns = base_ns.saturating_add(duration_ns(iv.start_timestamp()));
                out.push(IntervalRecord {
                    tag,
                    start_ns,
                    end_ns: start_ns.saturating_add(duration_ns(iv.duration())),
                    hist,
                });
            }
        }
    }
    Ok(out)
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    use std::time::UNIX_EPOCH;

    fn records() -> Vec<IntervalRecord> {
        let base = 1_700_000_000_123_456_789u64;
        let mut out = Vec::new();
        for i in 0..3u64 {
            for tag in [LatencyTag::Feed, LatencyTag::EndToEnd] {
                let mut h = crate::latency::new_histogram();
                for v in 0..(100 + i * 10) {
                    h.saturating_record(1_000 + v * 7 + tag.index() as u64);
                }
                out.push(IntervalRecord {
                    tag,
                    start_ns: base + i * 1_000_000_000,
                    end_ns: base + (i + 1) * 1_000_000_000 + 7_000,
                    hist: h,
                });
            }
        }
        out
    }

    #[test]
    fn a_written_log_reads_back_identically() {
        let recs = records();
        let mut buf = Vec::new();
        write_interval_log(&mut buf, &recs, "test").unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.contains("#[BaseTime: 1700000000.123"), "{text}");
        assert!(text.contains("Tag=feed,"), "{text}");
        let back = read_interval_log(&buf).unwrap();
        assert_eq!(back.len(), recs.len());
        for (b, w) in back.iter().zip(&recs) {
            assert_eq!(b.tag, w.tag);
            assert_eq!(b.hist, w.hist);
            // The log keeps millisecond precision for timestamps.
            assert!(b.start_ns.abs_diff(w.start_ns) < 1_000_000);
            assert!(b.end_ns.abs_diff(w.end_ns) < 2_000_000);
        }
    }

    #[test]
    fn lines_match_the_hdrhistogram_crates_own_writer() {
        let recs = records();
        let base_ns = recs[0].start_ns;
        let mut ours = Vec::new();
        {
            let mut w = HlogWriter::new(&mut ours, base_ns, "kestrel test").unwrap();
            for r in &recs {
                w.write(r.tag, r.start_ns, r.end_ns, &r.hist).unwrap();
            }
            assert_eq!(w.written(), 6);
            w.flush().unwrap();
        }
        let mut theirs = Vec::new();
        let mut serializer = V2DeflateSerializer::new();
        let base = UNIX_EPOCH + Duration::from_nanos(base_ns);
        {
            let mut b = IntervalLogWriterBuilder::new();
            b.add_comment("kestrel test")
                .add_comment("values are nanoseconds; tags are pipeline stages")
                .with_start_time(base)
                .with_base_time(base)
                .with_max_value_divisor(MAX_VALUE_DIVISOR);
            let mut w = b.begin_log_with(&mut theirs, &mut serializer).unwrap();
            for r in &recs {
                w.write_histogram(
                    &r.hist,
                    Duration::from_nanos(r.start_ns - base_ns),
                    Duration::from_nanos(r.end_ns - r.start_ns),
                    Tag::new(r.tag.as_str()),
                )
                .unwrap();
            }
        }
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }

    #[test]
    fn bad_logs_are_typed_errors() {
        assert!(matches!(
            read_interval_log(b"Tag=feed,0.000,1.000,0.001,!!!!\n"),
            Err(HlogError::Decode { .. })
        ));
        assert!(matches!(
            read_interval_log(b"Tag=nope,0.000,1.000,0.001,HISTFAAAAB\n"),
            Err(HlogError::Tag { .. })
        ));
        assert!(matches!(
            read_interval_log(b"garbage\n"),
            Err(HlogError::Parse { offset: 0 })
        ));
    }
}
