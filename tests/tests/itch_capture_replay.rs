//! The bundled NASDAQ ITCH 5.0 test file: raw, packed into MoldUDP64 in a `.kcap`, and as a
//! pcap of those datagrams, replayed through the feed handler. Replay is deterministic and its
//! book hash sees a one-message change.

use std::time::Duration;

use kestrel_core::Timestamp;
use kestrel_core::book::L3Books;
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig, write_itch_capture};
use kestrel_feeds::itch::ItchFramer;
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::pcap::PcapCapture;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);

fn itch_file() -> Vec<u8> {
    std::fs::read(ITCH_FILE).expect("bundled ITCH file")
}

fn no_sink() -> impl FnMut(&FeedEvent, &L3Books) {
    |_: &FeedEvent, _: &L3Books| {}
}

/// Packs raw ITCH into a kcap and replays it; returns the handler.
fn replay_packed(raw: &[u8]) -> FeedHandler {
    let (bytes, report) = write_itch_capture(raw, Timestamp(0), Vec::new()).expect("pack");
    assert_eq!(report.framing_errors, 0);
    let reader = KcapReader::from_vec(bytes).expect("read back");
    let mut handler =
        FeedHandler::for_capture(HandlerConfig::default(), reader.header()).expect("ITCH capture");
    handler.replay_kcap(&reader, &mut no_sink());
    handler
}

#[test]
fn raw_file_decodes_every_message() {
    let mut handler = FeedHandler::new(HandlerConfig::default());
    let mut events = 0u64;
    handler.replay_itch_file(&itch_file(), &mut |_: &FeedEvent, _: &L3Books| events += 1);
    let stats = handler.stats();
    assert_eq!(stats.itch_messages, 12_012);
    assert_eq!(stats.decode_errors, 0);
    assert_eq!(stats.framing_errors, 0);
    assert_eq!(stats.events, events);
}

#[test]
fn packed_capture_decodes_every_message_like_the_raw_file() {
    let raw = itch_file();
    let handler = replay_packed(&raw);
    let s = handler.stats();
    assert_eq!(s.itch_messages, 12_012);
    assert_eq!(s.decode_errors, 0);
    assert_eq!(s.capture_errors, 0);
    assert_eq!(
        (s.mold.malformed, s.mold.gaps_lost, s.mold.duplicate_packets),
        (0, 0, 0)
    );
    assert_eq!(s.mold.messages_delivered, 12_012);
    // The same books as replaying the raw file without MoldUDP64.
    let mut direct = FeedHandler::new(HandlerConfig::default());
    direct.replay_itch_file(&raw, &mut no_sink());
    assert_eq!(direct.stats().events, s.events);
    assert_eq!(direct.books_hash(), handler.books_hash());
    // The file's unknown orders (it starts mid-day) are counted as anomalies, not hidden.
    assert_eq!(s.anomalies(), s.book_errors);
}

#[test]
fn replay_is_deterministic_and_sees_one_changed_message() {
    let raw = itch_file();
    let a = replay_packed(&raw).books_hash();
    let b = replay_packed(&raw).books_hash();
    assert_eq!(a, b);
    // Change the share count of the first Add Order ('A': shares at bytes 20..24).
    let add = ItchFramer::new(&raw)
        .flatten()
        .find(|f| f.message.first() == Some(&b'A'))
        .map(|f| f.message_offset())
        .expect("an add order");
    let mut changed = raw.clone();
    changed[add + 23] ^= 0x01;
    let c = replay_packed(&changed);
    assert_eq!(c.stats().decode_errors, 0);
    assert_ne!(a, c.books_hash());
}

/// Wraps each kcap record payload in Ethernet/IPv4/UDP and writes a classic pcap.
fn pcap_of(reader: &KcapReader) -> Vec<u8> {
    let mut w = PcapWriter::with_header(Vec::new(), PcapHeader::default()).expect("pcap header");
    for (i, r) in reader.records().enumerate() {
        let payload = r.expect("intact record").payload;
        let mut udp = Vec::new();
        udp.extend_from_slice(&40000u16.to_be_bytes());
        udp.extend_from_slice(&26400u16.to_be_bytes());
        udp.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(payload);
        let mut frame = vec![1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0];
        frame.extend_from_slice(&u16::try_from(20 + udp.len()).unwrap().to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 233, 54, 12, 1]);
        frame.extend_from_slice(&udp);
        let ts = Duration::from_micros(1_000 + i as u64);
        w.write_packet(&PcapPacket::new(
            ts,
            u32::try_from(frame.len()).unwrap(),
            &frame,
        ))
        .expect("pcap packet");
    }
    w.into_writer()
}

#[test]
fn pcap_of_the_same_datagrams_replays_to_the_same_books() {
    let (bytes, _) = write_itch_capture(&itch_file(), Timestamp(0), Vec::new()).expect("pack");
    let reader = KcapReader::from_vec(bytes).expect("read back");
    let kcap_hash = {
        let mut h = FeedHandler::for_capture(HandlerConfig::default(), reader.header()).unwrap();
        h.replay_kcap(&reader, &mut no_sink());
        h.books_hash()
    };
    let capture = PcapCapture::from_bytes(pcap_of(&reader)).expect("pcap");
    let mut h = FeedHandler::new(HandlerConfig::default());
    h.replay_pcap(&capture, &mut no_sink());
    let s = h.stats();
    assert_eq!(s.itch_messages, 12_012);
    assert_eq!(
        (s.decode_errors, s.capture_errors, s.skipped_records),
        (0, 0, 0)
    );
    assert_eq!(h.books_hash(), kcap_hash);
}

#[test]
fn length_prefixed_and_frame_by_type_files_pack_identically() {
    let raw = itch_file();
    // The bundled file has zero prefixes (frame by type); write the real lengths instead.
    let mut prefixed = Vec::with_capacity(raw.len());
    for frame in ItchFramer::new(&raw) {
        let message = frame.expect("clean file").message;
        prefixed.extend_from_slice(&u16::try_from(message.len()).unwrap().to_be_bytes());
        prefixed.extend_from_slice(message);
    }
    assert_ne!(prefixed, raw);
    let (a, ra) = write_itch_capture(&raw, Timestamp(0), Vec::new()).expect("pack");
    let (b, rb) = write_itch_capture(&prefixed, Timestamp(0), Vec::new()).expect("pack");
    assert_eq!(ra, rb);
    assert_eq!(ra.messages, 12_012);
    assert!(a == b, "the two framings packed differently");
}
