//! `latency.hlog`: the HdrHistogram interval log (V2 + deflate, one tag per stage), written with
//! the crate's interval-log writer and read back with its iterator.

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use super::{IntervalRecord, LatencyCollector, LatencyTag};

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
        index: usize,
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

/// Writes every interval of `collector` as an interval log. Interval timestamps are seconds
/// since the log's `BaseTime` (the first interval's start), which is also its `StartTime`; the
/// max column is in milliseconds (`MaxValueDivisor` 1e6, HdrHistogram's default for ns values).
pub fn write_interval_log<W: Write>(
    out: &mut W,
    collector: &LatencyCollector,
    comment: &str,
) -> Result<(), HlogError> {
    let base_ns = collector.first_start_ns().unwrap_or(0);
    let base = UNIX_EPOCH + Duration::from_nanos(base_ns);
    let mut serializer = V2DeflateSerializer::new();
    let mut builder = IntervalLogWriterBuilder::new();
    builder
        .add_comment(comment)
        .add_comment("values are nanoseconds; tags are pipeline stages")
        .with_start_time(base)
        .with_base_time(base)
        .with_max_value_divisor(1_000_000.0);
    let mut writer = builder.begin_log_with(out, &mut serializer)?;
    for (index, rec) in collector.intervals_sorted().into_iter().enumerate() {
        let start = Duration::from_nanos(rec.start_ns.saturating_sub(base_ns));
        let len = Duration::from_nanos(rec.end_ns.saturating_sub(rec.start_ns));
        writer
            .write_histogram(&rec.hist, start, len, Tag::new(rec.tag.as_str()))
            .map_err(|e| HlogError::Serialize {
                index,
                detail: format!("{e:?}"),
            })?;
    }
    Ok(())
}

/// Reads an interval log written by [`write_interval_log`] (or any log whose tags are Kestrel
/// stage names) back into interval records with absolute nanosecond times.
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
                let decoded = base64_decode(iv.encoded_histogram()).ok_or(HlogError::Decode {
                    index,
                    detail: "invalid base64".to_owned(),
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

/// Standard base64 (RFC 4648, with padding) as interval logs use; `None` on a bad character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let trimmed = bytes
        .iter()
        .rposition(|&c| c != b'=')
        .map_or(&bytes[..0], |i| &bytes[..=i]);
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in trimmed {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_rfc4648_vectors() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert!(base64_decode("Zm9v!").is_none());
    }

    #[test]
    fn a_written_log_reads_back_identically() {
        let mut c = LatencyCollector::new();
        let base = 1_700_000_000_000_000_000u64;
        for i in 0..3u64 {
            for tag in [LatencyTag::Feed, LatencyTag::EndToEnd] {
                let mut h = crate::latency::new_histogram();
                for v in 0..(100 + i * 10) {
                    h.saturating_record(1_000 + v * 7 + tag.index() as u64);
                }
                c.absorb_histogram(
                    tag,
                    base + i * 1_000_000_000,
                    base + (i + 1) * 1_000_000_000,
                    &h,
                );
            }
        }
        let mut buf = Vec::new();
        write_interval_log(&mut buf, &c, "test").unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.contains("#[BaseTime: 1700000000.000"), "{text}");
        assert!(text.contains("Tag=feed,"), "{text}");
        let back = read_interval_log(&buf).unwrap();
        let want = c.intervals_sorted();
        assert_eq!(back.len(), want.len());
        for (b, w) in back.iter().zip(want) {
            assert_eq!(b.tag, w.tag);
            assert_eq!(b.hist, w.hist);
            // The log keeps millisecond precision for timestamps.
            assert!(b.start_ns.abs_diff(w.start_ns) < 1_000_000);
            assert!(b.end_ns.abs_diff(w.end_ns) < 2_000_000);
        }
    }
}
