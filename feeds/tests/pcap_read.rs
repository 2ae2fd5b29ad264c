//! pcap / pcapng input: frames built by hand around MoldUDP64 packets (VLAN tags, IP options,
//! Linux cooked and raw IP links, non-UDP, fragments, truncated frames), written with the
//! `pcap-file` writers, read back as records, fed through the MoldUDP64 sequencer and converted
//! to `.kcap`.

use std::borrow::Cow;
use std::time::Duration;

use kestrel_core::Timestamp;
use kestrel_feeds::kcap::{KcapHeader, KcapReader, PayloadKind, capture_info};
use kestrel_feeds::moldudp64::{MoldPacketBuilder, MoldSequencer, MoldSession, SeqEvent};
use kestrel_feeds::pcap::{
    ChannelMap, FrameError, Layer, PcapCapture, PcapError, PcapStats, pcap_to_kcap,
};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::{DataLink, Endianness, TsResolution};

const PORT: u16 = 26400;

fn udp(dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&40000u16.to_be_bytes());
    out.extend_from_slice(&dst_port.to_be_bytes());
    out.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    out
}

fn ipv4(protocol: u8, options: &[u8], fragment: u16, payload: &[u8]) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let header_len = 20 + options.len();
    let total = header_len + payload.len();
    let mut out = vec![0x40 | (header_len / 4) as u8, 0];
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.extend_from_slice(&[0x12, 0x34]);
    out.extend_from_slice(&fragment.to_be_bytes());
    out.extend_from_slice(&[64, protocol, 0, 0]);
    out.extend_from_slice(&[10, 0, 0, 1]);
    out.extend_from_slice(&[233, 54, 12, 1]);
    out.extend_from_slice(options);
    out.extend_from_slice(payload);
    out
}

fn ethernet(vlans: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x01, 0x00, 0x5e, 0x36, 0x0c, 0x01, 0x02, 0, 0, 0, 0, 1];
    for (i, vid) in vlans.iter().enumerate() {
        let tpid: u16 = if i == 0 && vlans.len() > 1 {
            0x88a8
        } else {
            0x8100
        };
        out.extend_from_slice(&tpid.to_be_bytes());
        out.extend_from_slice(&vid.to_be_bytes());
    }
    out.extend_from_slice(&ethertype.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn mold_udp_frame(vlans: &[u16], options: &[u8], port: u16, mold: &[u8]) -> Vec<u8> {
    ethernet(vlans, 0x0800, &ipv4(17, options, 0x4000, &udp(port, mold)))
}

/// Five MoldUDP64 packets of 2 messages each (sequences 1..=10); payload = sequence.
fn mold_packets() -> Vec<Vec<u8>> {
    let mut b = MoldPacketBuilder::new(MoldSession::from_name("TEST").unwrap(), 1);
    let mut out = Vec::new();
    (0..5)
        .map(|_| {
            for _ in 0..2 {
                let seq = b.next_sequence();
                b.push(&seq.to_be_bytes(), &mut out).unwrap();
            }
            b.finish_into(&mut out);
            out.clone()
        })
        .collect()
}

struct Fixture {
    /// (timestamp ns, frame bytes, orig_len)
    frames: Vec<(u64, Vec<u8>, u32)>,
    mold: Vec<Vec<u8>>,
}

/// Frame index: 0 plain, 1 VLAN, 2 QinQ, 3 ARP, 4 IP options, 5 IPv6, 6 TCP, 7 fragment,
/// 8 truncated UDP (snap length), 9 padded + other port.
fn fixture() -> Fixture {
    let mold = mold_packets();
    let mut frames = Vec::new();
    let mut push_orig = |frame: Vec<u8>, orig: Option<u32>| {
        let len = orig.unwrap_or(frame.len() as u32);
        frames.push((
            1_700_000_000_000_000_000 + 1_000 * frames.len() as u64,
            frame,
            len,
        ));
    };
    push_orig(mold_udp_frame(&[], &[], PORT, &mold[0]), None);
    push_orig(mold_udp_frame(&[100], &[], PORT, &mold[1]), None);
    push_orig(mold_udp_frame(&[10, 200], &[], PORT, &mold[2]), None);
    push_orig(ethernet(&[], 0x0806, &[0; 28]), None);
    let options = [0x94, 0x04, 0, 0, 1, 1, 1, 0];
    push_orig(mold_udp_frame(&[], &options, PORT, &mold[3]), None);
    push_orig(ethernet(&[], 0x86dd, &[0x60; 48]), None);
    push_orig(ethernet(&[], 0x0800, &ipv4(6, &[], 0x4000, &[0; 20])), None);
    let fragment = ipv4(17, &[], 0x2000, &udp(PORT, &mold[4]));
    push_orig(ethernet(&[], 0x0800, &fragment), None);
    let mut cut = mold_udp_frame(&[], &[], PORT, &mold[4]);
    let orig = cut.len() as u32;
    cut.truncate(cut.len() - 5);
    push_orig(cut, Some(orig));
    let mut padded = mold_udp_frame(&[], &[], PORT + 1, &mold[4]);
    padded.extend_from_slice(&[0; 6]);
    push_orig(padded, None);
    Fixture { frames, mold }
}

fn write_pcap(frames: &[(u64, Vec<u8>, u32)], datalink: DataLink, nanos: bool) -> Vec<u8> {
    let header = PcapHeader {
        datalink,
        ts_resolution: if nanos {
            TsResolution::NanoSecond
        } else {
            TsResolution::MicroSecond
        },
        endianness: Endianness::Little,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (ts, data, orig) in frames {
        w.write_packet(&PcapPacket::new(Duration::from_nanos(*ts), *orig, data))
            .unwrap();
    }
    w.into_writer()
}

/// (receive ns, seq, channel, payload)
type OwnedRecord = (u64, u64, u16, Vec<u8>);

fn collect(
    capture: &PcapCapture,
    channels: &ChannelMap,
) -> (Vec<OwnedRecord>, Vec<PcapError>, PcapStats) {
    let mut it = capture.records(channels);
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in it.by_ref() {
        match item {
            Ok(r) => records.push((r.recv_ts.nanos(), r.seq, r.channel, r.payload.to_vec())),
            Err(e) => errors.push(e),
        }
    }
    (records, errors, it.stats())
}

#[test]
fn classic_pcap_yields_udp_payloads_and_counts_the_rest() {
    let f = fixture();
    let capture = PcapCapture::from_bytes(write_pcap(&f.frames, DataLink::ETHERNET, true)).unwrap();
    let (records, errors, stats) = collect(&capture, &ChannelMap::by_port());
    let expect = |frame: usize, channel: u16, mold: usize| {
        (
            f.frames[frame].0,
            frame as u64,
            channel,
            f.mold[mold].clone(),
        )
    };
    assert_eq!(
        records,
        vec![
            expect(0, PORT, 0),
            expect(1, PORT, 1),
            expect(2, PORT, 2),
            expect(4, PORT, 3),
            expect(9, PORT + 1, 4),
        ]
    );
    assert_eq!(errors.len(), 1);
    match &errors[0] {
        PcapError::Frame {
            frame: 8, source, ..
        } => assert!(
            matches!(
                source,
                FrameError::Truncated {
                    layer: Layer::Ipv4,
                    ..
                }
            ),
            "{source}"
        ),
        other => panic!("unexpected {other}"),
    }
    assert_eq!(
        stats,
        PcapStats {
            frames: 10,
            records: 5,
            not_ipv4: 2,
            not_udp: 1,
            fragments: 1,
            unsupported_link: 0,
            unmapped_port: 0,
            frame_errors: 1,
            stopped_early: false,
        }
    );
}

#[test]
fn microsecond_pcap_timestamps_are_scaled() {
    let f = fixture();
    let capture =
        PcapCapture::from_bytes(write_pcap(&f.frames[..1], DataLink::ETHERNET, false)).unwrap();
    let (records, _, _) = collect(&capture, &ChannelMap::by_port());
    assert_eq!(records[0].0, f.frames[0].0 / 1_000 * 1_000);
}

#[test]
fn pcap_records_feed_the_mold_sequencer() {
    let f = fixture();
    let capture = PcapCapture::from_bytes(write_pcap(&f.frames, DataLink::ETHERNET, true)).unwrap();
    let channels = ChannelMap::by_port();
    let mut seq = MoldSequencer::new(Default::default());
    let mut delivered = Vec::new();
    for r in capture.records(&channels).flatten() {
        seq.on_packet(r.payload, |e| {
            if let SeqEvent::Message { seq, payload } = e {
                assert_eq!(payload, seq.to_be_bytes());
                delivered.push(seq);
            }
        })
        .unwrap();
    }
    assert_eq!(delivered, (1..=10).collect::<Vec<_>>());
}

#[test]
fn channel_map_overrides_and_filters_ports() {
    let f = fixture();
    let capture = PcapCapture::from_bytes(write_pcap(&f.frames, DataLink::ETHERNET, true)).unwrap();
    let channels = ChannelMap::by_port().with(PORT, 1).only_mapped();
    let (records, _, stats) = collect(&capture, &channels);
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r.2 == 1));
    assert_eq!(stats.unmapped_port, 1);
}

#[test]
fn linux_cooked_and_raw_ip_links() {
    let mold = mold_packets();
    let ip = ipv4(17, &[], 0, &udp(PORT, &mold[0]));
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend_from_slice(&ip);
    for (link, frame) in [
        (DataLink::LINUX_SLL, sll),
        (DataLink::LINUX_SLL2, sll2),
        (DataLink::RAW, ip.clone()),
    ] {
        let len = frame.len() as u32;
        let capture = PcapCapture::from_bytes(write_pcap(&[(7, frame, len)], link, true)).unwrap();
        let (records, errors, _) = collect(&capture, &ChannelMap::by_port());
        assert!(errors.is_empty(), "{link:?}: {errors:?}");
        assert_eq!(records, vec![(7, 0, PORT, mold[0].clone())], "{link:?}");
    }
    let len = ip.len() as u32;
    let capture =
        PcapCapture::from_bytes(write_pcap(&[(7, ip, len)], DataLink::PPP, true)).unwrap();
    let (records, _, stats) = collect(&capture, &ChannelMap::by_port());
    assert!(records.is_empty());
    assert_eq!(stats.unsupported_link, 1);
}

#[test]
fn truncated_file_stops_with_a_typed_error_after_good_frames() {
    let f = fixture();
    let bytes = write_pcap(&f.frames[..3], DataLink::ETHERNET, true);
    let capture = PcapCapture::from_bytes(bytes[..bytes.len() - 10].to_vec()).unwrap();
    let (records, errors, stats) = collect(&capture, &ChannelMap::by_port());
    assert_eq!(records.len(), 2);
    assert!(matches!(
        errors[..],
        [PcapError::Container { frame: 2, .. }]
    ));
    assert!(stats.stopped_early);
}

#[test]
fn garbage_and_unknown_files_are_clear_errors() {
    assert!(matches!(
        PcapCapture::from_bytes(b"hello world".to_vec()),
        Err(PcapError::UnknownFormat { .. })
    ));
    assert!(matches!(
        PcapCapture::from_bytes(vec![0xd4, 0xc3, 0xb2, 0xa1, 0, 0]),
        Err(PcapError::Header(_))
    ));
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        PcapCapture::open(dir.path().join("none.pcap")),
        Err(PcapError::File { .. })
    ));
}

#[test]
fn pcapng_with_resolution_options_and_two_interfaces() {
    for endianness in [Endianness::Big, Endianness::Little] {
        let mold = mold_packets();
        let mut w = PcapNgWriter::with_endianness(Vec::new(), endianness).unwrap();
        let mut nanos = InterfaceDescriptionBlock::new(DataLink::ETHERNET, 65535);
        nanos.options.push(InterfaceDescriptionOption::IfTsResol(9));
        w.write_pcapng_block(nanos).unwrap();
        // Interface 1: default microsecond resolution, Linux cooked.
        w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::LINUX_SLL, 65535))
            .unwrap();
        let eth = mold_udp_frame(&[5], &[], PORT, &mold[0]);
        let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ipv4(17, &[], 0, &udp(PORT + 2, &mold[1])));
        // The writer stores the Duration's nanoseconds as the raw timestamp units.
        for (iface, raw_units, data) in [(0u32, 1_234_567_891u64, &eth), (1, 1_500_000, &sll)] {
            w.write_pcapng_block(EnhancedPacketBlock {
                interface_id: iface,
                timestamp: Duration::from_nanos(raw_units),
                original_len: data.len() as u32,
                data: Cow::Borrowed(data),
                options: vec![],
            })
            .unwrap();
        }
        let capture = PcapCapture::from_bytes(w.into_inner()).unwrap();
        let (records, errors, stats) = collect(&capture, &ChannelMap::by_port());
        assert!(errors.is_empty(), "{endianness:?}: {errors:?}");
        assert_eq!(
            records,
            vec![
                (1_234_567_891, 0, PORT, mold[0].clone()),
                (1_500_000_000, 1, PORT + 2, mold[1].clone()),
            ],
            "{endianness:?}"
        );
        assert_eq!(stats.frames, 2);
    }
}

#[test]
fn pcap_to_kcap_keeps_every_record() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.pcap");
    let output = dir.path().join("out.kcap");
    let bytes = write_pcap(&f.frames, DataLink::ETHERNET, true);
    std::fs::write(&input, &bytes).unwrap();
    let header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "TEST", Timestamp(1));
    let report = pcap_to_kcap(&input, &output, &header, &ChannelMap::by_port()).unwrap();
    assert_eq!(report.records, 5);
    assert_eq!(report.errors, 1);
    assert_eq!(report.stats.frames, 10);
    assert!(
        report.first_errors[0].contains("frame 8"),
        "{:?}",
        report.first_errors
    );

    let capture = PcapCapture::from_bytes(bytes).unwrap();
    let (from_pcap, _, _) = collect(&capture, &ChannelMap::by_port());
    let reader = KcapReader::open(&output).unwrap();
    let from_kcap: Vec<_> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r.recv_ts.nanos(), r.seq, r.channel, r.payload.to_vec())
        })
        .collect();
    assert_eq!(from_kcap, from_pcap);
    let info = capture_info(&output).unwrap();
    assert_eq!(info.records, 5);
    assert_eq!(info.channels.len(), 2);
}

#[test]
fn pcapng_truncated_tail_and_undeclared_interface() {
    let mold = mold_packets();
    let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Big).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 65535))
        .unwrap();
    let frame = mold_udp_frame(&[], &[], PORT, &mold[0]);
    for _ in 0..2 {
        w.write_pcapng_block(EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_nanos(10),
            original_len: frame.len() as u32,
            data: Cow::Borrowed(&frame),
            options: vec![],
        })
        .unwrap();
    }
    let mut bytes = w.into_inner();
    // An enhanced packet block naming interface 7, which was never declared.
    let mut bad = Vec::new();
    bad.extend_from_slice(&6u32.to_be_bytes());
    bad.extend_from_slice(&32u32.to_be_bytes());
    bad.extend_from_slice(&7u32.to_be_bytes());
    bad.extend_from_slice(&[0; 16]);
    bad.extend_from_slice(&32u32.to_be_bytes());
    bytes.extend_from_slice(&bad);
    let full = PcapCapture::from_bytes(bytes.clone()).unwrap();
    let (records, errors, stats) = collect(&full, &ChannelMap::by_port());
    assert_eq!(records.len(), 2);
    assert!(
        matches!(errors[..], [PcapError::BadBlock { frame: 2, .. }]),
        "{errors:?}"
    );
    assert_eq!(stats.frame_errors, 1);

    // Cut inside the second packet block: the first record, then a stop.
    let cut = bytes.len() - bad.len() - 10;
    let truncated = PcapCapture::from_bytes(bytes[..cut].to_vec()).unwrap();
    let (records, errors, stats) = collect(&truncated, &ChannelMap::by_port());
    assert_eq!(records.len(), 1);
    assert!(
        matches!(errors[..], [PcapError::Container { frame: 1, .. }]),
        "{errors:?}"
    );
    assert!(stats.stopped_early);
}
