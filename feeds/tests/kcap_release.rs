//! A mapped capture read front to back keeps only a window of itself resident: the reader
//! releases the pages behind it (`MADV_DONTNEED`), and records handed out before a release
//! still read the same bytes.
//!
//! One test in its own binary, so that the process's resident set is this test's alone. The
//! resident set of the file mapping (`RssFile` in `/proc/self/status`) is sampled while a
//! 48 MB capture is read twice: with the default release window (8 MiB) it must stay within
//! about that window; with releasing turned off it must grow by most of the file, which shows
//! the measurement sees the mapping at all.

use std::io::{BufWriter, Write};

use kestrel_core::Timestamp;
use kestrel_feeds::kcap::{
    DEFAULT_RELEASE_BEHIND, KcapHeader, KcapReader, KcapWriter, PayloadKind, Record,
};

const RECORDS: u64 = 48 * 1024;
const PAYLOAD: usize = 1_000;
const MIB: u64 = 1 << 20;

fn payload(i: u64, out: &mut [u8; PAYLOAD]) {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for b in out.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
}

/// `RssFile` of this process, bytes.
fn rss_file() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssFile:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .expect("RssFile line")
        * 1024
}

/// Reads every record of `path` (checking its bytes), returns the largest growth of
/// `RssFile` over the value before reading, and the bytes the reader released.
fn read_all(path: &std::path::Path, release_behind: usize) -> (u64, u64) {
    let reader = KcapReader::open(path)
        .expect("open")
        .with_release_behind(release_behind);
    let base = rss_file();
    let mut peak = 0u64;
    let mut expected = [0u8; PAYLOAD];
    let mut records = reader.records();
    let first = records.next().expect("a record").expect("intact");
    let mut n = 1u64;
    for r in records.by_ref() {
        let r = r.expect("intact record");
        payload(r.seq, &mut expected);
        assert_eq!(r.payload, &expected[..], "record {}", r.seq);
        n += 1;
        if n.is_multiple_of(1024) {
            peak = peak.max(rss_file().saturating_sub(base));
        }
    }
    assert_eq!(n, RECORDS);
    // The first record was handed out before its pages were released: it reads the same.
    payload(first.seq, &mut expected);
    assert_eq!(first.payload, &expected[..]);
    (peak, records.stats().released_bytes)
}

#[test]
fn a_streaming_read_keeps_only_a_window_of_the_capture_resident() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.kcap");
    let header = KcapHeader::new(PayloadKind::Raw, "TEST", Timestamp(1));
    let file = std::fs::File::create(&path).expect("create");
    let mut w = KcapWriter::new(BufWriter::new(file), &header).expect("writer");
    let mut bytes = [0u8; PAYLOAD];
    for i in 0..RECORDS {
        payload(i, &mut bytes);
        w.write_record(&Record {
            recv_ts: Timestamp(i),
            seq: i,
            channel: 0,
            payload: &bytes,
        })
        .expect("write");
    }
    w.finish().expect("finish").flush().expect("flush");
    let size = std::fs::metadata(&path).expect("size").len();
    assert!(size > 45 * MIB, "{size}");

    let (released_peak, released) = read_all(&path, DEFAULT_RELEASE_BEHIND);
    let (kept_peak, kept_released) = read_all(&path, 0);
    eprintln!(
        "file {} MiB: resident growth {} MiB releasing ({} MiB released), {} MiB keeping",
        size / MIB,
        released_peak / MIB,
        released / MIB,
        kept_peak / MIB
    );
    assert_eq!(kept_released, 0);
    assert!(released > 32 * MIB, "released only {released} bytes");
    // Without releasing, most of the file becomes resident (the measurement sees the map).
    assert!(kept_peak > 32 * MIB, "kept {kept_peak} bytes resident");
    // Releasing: the 8 MiB window, a block, fault-around and read-ahead slack.
    assert!(
        released_peak < 20 * MIB,
        "resident growth {released_peak} bytes with releasing on"
    );
}
