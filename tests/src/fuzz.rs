//! Fuzz targets: one function per decoder of untrusted input, each taking arbitrary bytes.
//!
//! The same functions run in two places: under AFL++ (coverage-guided, `fuzz/`, outside the
//! workspace's default build: see `fuzz/README.md`) and in `tests/tests/fuzz_corpus.rs`, which
//! replays the committed corpus and every crash file on each `cargo test` (CI's bounded smoke).
//! A target fails by panicking: on a decoder panic, or on a broken invariant asserted here
//! (offsets and payloads inside the input, counters that agree, iteration that ends).
//!
//! Inputs are capped at [`MAX_INPUT`] bytes so one execution stays short.

use kestrel_core::Timestamp;
use kestrel_core::book::{BookConfig, L3Books};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::itch::framer::{ItchFramer, PREFIX_LEN};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::verify_lobster;
use kestrel_feeds::moldudp64::{HEADER_LEN, MoldPacket, MoldRequest, SequencerConfig};
use kestrel_feeds::pcap::{ChannelMap, FrameKind, LinkType, PcapCapture, parse_frame};

/// Largest input a target looks at (the rest is ignored).
pub const MAX_INPUT: usize = 1 << 16;

/// One fuzz target: a name (its corpus directory) and its function.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The target's name: `fuzz/corpus/<name>/`, `fuzz/crashes/<name>/`.
    pub name: &'static str,
    /// Runs one input.
    pub run: fn(&[u8]),
}

/// Every target, in corpus-directory order (the Binance and DBN targets live in
/// [`crate::venue_fuzz`]).
pub const TARGETS: [Target; 8] = [
    Target {
        name: "itch",
        run: itch,
    },
    Target {
        name: "moldudp64",
        run: moldudp64,
    },
    Target {
        name: "kcap",
        run: kcap,
    },
    Target {
        name: "pcap",
        run: pcap,
    },
    Target {
        name: "lobster",
        run: lobster,
    },
    Target {
        name: "binance_json",
        run: crate::venue_fuzz::binance_json,
    },
    Target {
        name: "dbn",
        run: crate::venue_fuzz::dbn,
    },
    Target {
        name: "dbn_records",
        run: crate::venue_fuzz::dbn_records,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}

fn capped(data: &[u8]) -> &[u8] {
    &data[..data.len().min(MAX_INPUT)]
}

/// Small books, so that one execution allocates little.
fn handler_config() -> HandlerConfig {
    HandlerConfig {
        books: BookConfig {
            instruments: 4,
            order_capacity: 1 << 10,
            levels_per_side: 64,
        },
        sequencer: SequencerConfig {
            reorder_packets: 8,
            ..SequencerConfig::default()
        },
    }
}

/// Counts the events a handler delivers.
fn counting_sink(events: &mut u64) -> impl FnMut(&FeedEvent, &L3Books) + '_ {
    move |_: &FeedEvent, _: &L3Books| *events += 1
}

/// A raw ITCH 5.0 file (NASDAQ's 2-byte length prefixes, or frame-by-type): the framer, then
/// the whole handler (decode, normalise, L3 books).
pub fn itch(data: &[u8]) {
    let data = capped(data);
    let mut framer = ItchFramer::new(data);
    let (mut frames, mut errors, mut last_end) = (0u64, 0u64, 0usize);
    for item in framer.by_ref() {
        assert!(
            frames + errors <= data.len() as u64,
            "the framer does not end"
        );
        match item {
            Ok(f) => {
                frames += 1;
                let end = f.offset + PREFIX_LEN + f.message.len();
                assert!(end <= data.len(), "frame past the input: {end}");
                assert!(f.offset >= last_end, "frames overlap at {}", f.offset);
                last_end = end;
            }
            Err(_) => errors += 1,
        }
    }
    let st = framer.stats();
    assert_eq!((st.frames, st.errors), (frames, errors));
    assert!(st.bytes_skipped <= data.len() as u64);

    let mut handler = FeedHandler::new(handler_config());
    let mut events = 0u64;
    handler.replay_itch_file(data, &mut counting_sink(&mut events));
    let hs = handler.stats();
    assert_eq!(hs.itch_messages, frames, "handler and framer disagree");
    assert_eq!(hs.framing_errors, errors);
    assert!(hs.decode_errors <= hs.itch_messages);
}

/// Splits `data` into datagrams, each behind a 2-byte big-endian length (as the MoldUDP64
/// down-stream packets of a stream), the last one taking whatever is left.
fn datagrams(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (len, body) = match rest {
            [a, b, body @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), body),
            _ => (rest.len(), &rest[..0]),
        };
        let len = len.min(body.len());
        let (d, tail) = body.split_at(len);
        rest = tail;
        Some(d)
    })
}

/// MoldUDP64 packets (and retransmission requests), then the same packets through the
/// sequencer and the handler.
pub fn moldudp64(data: &[u8]) {
    let data = capped(data);
    let mut packets = 0u64;
    for d in datagrams(data) {
        packets += 1;
        let _ = MoldRequest::decode(d);
        if let Ok(p) = MoldPacket::parse(d) {
            let mut n = 0usize;
            let mut used = HEADER_LEN;
            for (i, (seq, m)) in p.messages().enumerate() {
                assert_eq!(seq, p.sequence() + i as u64, "sequence numbers");
                used += 2 + m.len();
                n += 1;
                assert!(used <= d.len(), "message past the packet");
            }
            assert_eq!(n, usize::from(p.message_count()), "message count");
        }
    }
    let mut handler = FeedHandler::new(handler_config());
    let mut events = 0u64;
    let mut sink = counting_sink(&mut events);
    for (i, d) in datagrams(data).enumerate() {
        handler.on_datagram(Timestamp(i as u64), d, &mut sink);
    }
    handler.finish(&mut sink);
    assert_eq!(handler.stats().records, packets);
}

/// A `.kcap` capture: the reader (header, blocks, CRCs, records), then a replay of what it
/// reads through the handler.
pub fn kcap(data: &[u8]) {
    let data = capped(data);
    let Ok(reader) = KcapReader::from_bytes(data) else {
        return;
    };
    let mut n = 0usize;
    for item in reader.records() {
        n += 1;
        assert!(n <= data.len() + 1, "the record iterator does not end");
        if let Ok(r) = item {
            assert!(
                r.payload.len() <= data.len(),
                "payload larger than the input"
            );
        }
    }
    if let Ok(mut handler) = FeedHandler::for_capture(handler_config(), reader.header()) {
        let mut events = 0u64;
        handler.replay_kcap(&reader, &mut counting_sink(&mut events));
    }
}

/// A pcap or pcapng capture (the first byte also picks a link type for a bare frame): the frame
/// parser on the raw bytes, the capture reader, and a replay through the handler.
pub fn pcap(data: &[u8]) {
    let data = capped(data);
    if let Some((&pick, frame)) = data.split_first() {
        let link = match pick % 4 {
            0 => LinkType::Ethernet,
            1 => LinkType::LinuxSll,
            2 => LinkType::LinuxSll2,
            _ => LinkType::RawIp,
        };
        if let Ok(FrameKind::Udp(d)) = parse_frame(link, frame) {
            assert!(
                d.payload_offset + d.payload.len() <= frame.len(),
                "UDP payload past the frame"
            );
        }
    }
    let Ok(capture) = PcapCapture::from_bytes(data.to_vec()) else {
        return;
    };
    let channels = ChannelMap::by_port();
    let mut records = capture.records(&channels);
    let mut n = 0usize;
    for item in records.by_ref() {
        n += 1;
        assert!(n <= data.len() + 1, "the frame iterator does not end");
        if let Ok(r) = item {
            assert!(
                r.payload.len() <= data.len(),
                "payload larger than the input"
            );
        }
    }
    let st = records.stats();
    assert!(st.records <= st.frames && st.records <= n as u64);
    let mut handler = FeedHandler::new(handler_config());
    let mut events = 0u64;
    handler.replay_pcap(&capture, &mut counting_sink(&mut events));
}

/// LOBSTER message and order-book files (split at the first NUL byte; text as UTF-8, lossy):
/// the row parsers, the importer and the verify through the wire path.
pub fn lobster(data: &[u8]) {
    let data = capped(data);
    let (messages, orderbook) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let messages = String::from_utf8_lossy(messages);
    let orderbook = String::from_utf8_lossy(orderbook);
    if let Ok((_, capture, report)) = verify_lobster(&messages, &orderbook, "FUZZ") {
        assert!(!capture.is_empty(), "an import wrote no capture");
        assert!(
            report.mismatched <= report.checks,
            "more mismatches than checks"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_split_by_prefix_and_keep_every_byte() {
        let data = [0u8, 2, 0xAA, 0xBB, 0, 9, 0xCC];
        let got: Vec<&[u8]> = datagrams(&data).collect();
        assert_eq!(got, vec![&[0xAA, 0xBB][..], &[0xCC][..]]);
        assert_eq!(datagrams(&[7]).collect::<Vec<_>>(), vec![&[][..] as &[u8]]);
    }

    #[test]
    fn every_target_is_found_by_name() {
        for t in TARGETS {
            assert_eq!(target(t.name).map(|x| x.name), Some(t.name));
        }
        assert!(target("nope").is_none());
    }
}
