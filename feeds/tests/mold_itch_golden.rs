//! Golden end-to-end run on real data: the bundled NASDAQ ITCH 5.0 test file (12,012 messages)
//! is packed into MoldUDP64 packets, captured as `.kcap` (directly and through a pcap of
//! Ethernet/IPv4/UDP frames), scrambled like a network would, and sequenced back: every message
//! comes out once, in order, byte for byte.

use std::time::Duration;

use kestrel_core::Timestamp;
use kestrel_feeds::kcap::{KcapHeader, KcapReader, KcapWriter, PayloadKind, Record};
use kestrel_feeds::moldudp64::{
    MoldPacket, MoldPacketBuilder, MoldSequencer, MoldSession, SeqEvent, SequencerConfig,
    SequencerStats,
};
use kestrel_feeds::pcap::{ChannelMap, PcapCapture, convert::copy_records};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

const ITCH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);
const MESSAGES: usize = 12_012;
const PORT: u16 = 26477;

/// ITCH 5.0 message length by type, type byte included (the spec's table; test-only framing,
/// because this file's 2-byte length prefixes are all zero).
fn itch_len(kind: u8) -> Option<usize> {
    Some(match kind {
        b'S' | b'W' => 12,
        b'R' => 39,
        b'H' => 25,
        b'Y' | b'N' => 20,
        b'L' => 26,
        b'V' | b'J' | b'U' => 35,
        b'K' => 28,
        b'h' => 21,
        b'A' | b'C' => 36,
        b'F' | b'Q' => 40,
        b'E' => 31,
        b'X' => 23,
        b'D' | b'B' => 19,
        b'P' => 44,
        b'I' => 50,
        b'O' => 48,
        _ => return None,
    })
}

fn itch_messages(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let kind = bytes[at + 2];
        let len = itch_len(kind).unwrap_or_else(|| panic!("unknown type {kind} at {at}"));
        out.push(&bytes[at + 2..at + 2 + len]);
        at += 2 + len;
    }
    assert_eq!(at, bytes.len(), "framing must consume the file exactly");
    out
}

fn mold_packets(messages: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut b = MoldPacketBuilder::new(MoldSession::from_name("20101224").unwrap(), 1);
    let mut out = Vec::with_capacity(b.max_packet());
    let mut packets = Vec::new();
    for m in messages {
        if b.push(m, &mut out).unwrap() {
            packets.push(out.clone());
        }
    }
    if b.finish_into(&mut out) {
        packets.push(out.clone());
    }
    b.end_of_session_into(&mut out);
    packets.push(out);
    packets
}

/// What the sequencer delivers from datagrams, checked for order and loss.
fn sequence<'a>(datagrams: impl Iterator<Item = &'a [u8]>) -> (Vec<Vec<u8>>, u64, SequencerStats) {
    let mut s = MoldSequencer::new(SequencerConfig::default());
    let mut delivered = Vec::new();
    let mut lost = 0;
    for d in datagrams {
        s.on_packet(d, |e| match e {
            SeqEvent::Message { seq, payload } => {
                assert_eq!(seq, delivered.len() as u64 + 1 + lost);
                delivered.push(payload.to_vec());
            }
            SeqEvent::Lost(r) => lost += r.len(),
            SeqEvent::SessionChanged { .. } => panic!("one session"),
        })
        .unwrap();
    }
    assert!(s.ended());
    (delivered, lost, s.stats())
}

fn kcap_of(packets: &[Vec<u8>]) -> Vec<u8> {
    let header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "NASDAQ TEST", Timestamp(0));
    let mut w = KcapWriter::new(Vec::new(), &header).unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.write_record(&Record {
            recv_ts: Timestamp(1_000_000 + i as u64 * 1_000),
            seq: i as u64,
            channel: PORT,
            payload: p,
        })
        .unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn real_itch_through_mold_and_kcap_is_delivered_exactly() {
    let bytes = std::fs::read(ITCH).unwrap();
    let messages = itch_messages(&bytes);
    assert_eq!(messages.len(), MESSAGES);
    let packets = mold_packets(&messages);
    assert!(packets.iter().all(|p| p.len() <= 1400));
    let total: usize = packets
        .iter()
        .map(|p| MoldPacket::parse(p).unwrap().message_count() as usize)
        .sum();
    assert_eq!(total, MESSAGES);

    let kcap = kcap_of(&packets);
    let reader = KcapReader::from_vec(kcap).unwrap();
    let (delivered, lost, _) = sequence(reader.records().map(|r| r.unwrap().payload));
    assert_eq!(lost, 0);
    assert!(delivered == messages, "delivered messages differ");
}

#[test]
fn real_itch_scrambled_by_the_network_is_still_exact() {
    let bytes = std::fs::read(ITCH).unwrap();
    let messages = itch_messages(&bytes);
    let packets = mold_packets(&messages);
    let eos = packets.len() - 1;
    // Swap neighbours, send every 5th packet twice, and resend every 11th packet late.
    let mut wire: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    while i < eos {
        let pair: &[usize] = if i + 1 < eos { &[i + 1, i] } else { &[i] };
        for &k in pair {
            wire.push(&packets[k]);
            if k % 5 == 0 {
                wire.push(&packets[k]);
            }
            if k % 11 == 0 && k >= 3 {
                wire.push(&packets[k - 3]);
            }
        }
        i += 2;
    }
    wire.push(&packets[eos]);
    let (delivered, lost, stats) = sequence(wire.into_iter());
    assert_eq!(lost, 0);
    assert!(stats.reorders_filled > 100, "{stats:?}");
    assert!(stats.duplicate_packets >= 100, "{stats:?}");
    assert!(delivered == messages, "delivered messages differ");
}

#[test]
fn real_itch_through_pcap_import_matches_direct_capture() {
    let bytes = std::fs::read(ITCH).unwrap();
    let messages = itch_messages(&bytes);
    let packets = mold_packets(&messages);
    let mut w = PcapWriter::with_header(Vec::new(), PcapHeader::default()).unwrap();
    for (i, p) in packets.iter().enumerate() {
        let mut udp = Vec::new();
        udp.extend_from_slice(&40000u16.to_be_bytes());
        udp.extend_from_slice(&PORT.to_be_bytes());
        udp.extend_from_slice(&((8 + p.len()) as u16).to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(p);
        let mut frame = vec![1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        frame.extend_from_slice(&[0x45, 0]);
        frame.extend_from_slice(&((20 + udp.len()) as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 233, 54, 12, 1]);
        frame.extend_from_slice(&udp);
        let ts = Duration::from_nanos(1_000_000 + i as u64 * 1_000);
        w.write_packet(&PcapPacket::new(ts, frame.len() as u32, &frame))
            .unwrap();
    }
    let capture = PcapCapture::from_bytes(w.into_writer()).unwrap();
    let header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "NASDAQ TEST", Timestamp(0));
    let mut kw = KcapWriter::new(Vec::new(), &header).unwrap();
    let report = copy_records(&capture, &ChannelMap::by_port(), &mut kw).unwrap();
    assert_eq!(report.records, packets.len() as u64);
    assert_eq!(report.errors, 0);
    let imported = kw.finish().unwrap();
    // Same records, same bytes as writing the capture directly (whole microseconds, so the
    // classic pcap's microsecond timestamps lose nothing).
    assert!(imported == kcap_of(&packets), "imported capture differs");
    let reader = KcapReader::from_vec(imported).unwrap();
    let (delivered, _, _) = sequence(reader.records().map(|r| r.unwrap().payload));
    assert!(delivered == messages, "delivered messages differ");
}
