//! Arbitrary bytes into the frame parser and the capture reader: never panic; offsets and
//! payloads stay inside the frame.

use kestrel_feeds::pcap::{ChannelMap, FrameError, FrameKind, LinkType, PcapCapture, parse_frame};
use proptest::prelude::*;

fn link() -> impl Strategy<Value = LinkType> {
    prop_oneof![
        Just(LinkType::Ethernet),
        Just(LinkType::LinuxSll),
        Just(LinkType::LinuxSll2),
        Just(LinkType::RawIp),
    ]
}

/// An Ethernet + IPv4 + UDP prefix with random fields after it, so deep paths are reached.
fn plausible_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![0x0800u16, 0x8100, 0x88a8, 0x0806]),
        0x45u8..0x48,
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(ethertype, vihl, tail)| {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&ethertype.to_be_bytes());
            if ethertype != 0x0800 {
                f.extend_from_slice(&[0, 1, 0x08, 0x00]);
            }
            f.push(vihl);
            f.extend_from_slice(&tail);
            f
        })
}

fn check(link: LinkType, frame: &[u8]) -> Result<(), TestCaseError> {
    match parse_frame(link, frame) {
        Ok(FrameKind::Udp(d)) => {
            prop_assert!(d.payload_offset + d.payload.len() <= frame.len());
        }
        Ok(FrameKind::Skipped(_)) => {}
        Err(FrameError::Truncated {
            offset,
            needed,
            available,
            ..
        }) => {
            prop_assert!(offset <= frame.len());
            prop_assert!(available < needed);
        }
        Err(FrameError::BadIpv4 { offset, .. } | FrameError::BadUdpLength { offset, .. }) => {
            prop_assert!(offset < frame.len());
        }
    }
    Ok(())
}

/// A pcapng section header and an Ethernet interface, ready for random blocks.
fn pcapng_prefix() -> Vec<u8> {
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    use pcap_file::{DataLink, Endianness};
    let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Big).unwrap();
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 65535))
        .unwrap();
    w.into_inner()
}

proptest! {
    #[test]
    fn frame_parser_arbitrary_bytes(link in link(), frame in prop::collection::vec(any::<u8>(), 0..100)) {
        check(link, &frame)?;
    }

    #[test]
    fn frame_parser_plausible_frames(frame in plausible_frame()) {
        check(LinkType::Ethernet, &frame)?;
    }

    #[test]
    fn capture_reader_arbitrary_bodies(
        magic in prop::sample::select(vec![
            vec![0xd4u8, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0],
            vec![0xa1u8, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1],
            pcapng_prefix(),
        ]),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = magic;
        bytes.extend_from_slice(&body);
        let len = bytes.len();
        if let Ok(capture) = PcapCapture::from_bytes(bytes) {
            let channels = ChannelMap::by_port();
            let mut records = capture.records(&channels);
            for r in records.by_ref().flatten() {
                prop_assert!(r.payload.len() <= len);
            }
            prop_assert!(records.stats().records <= records.stats().frames);
        }
    }

    /// Well-framed pcapng blocks (enhanced / simple / obsolete packet, others) with random
    /// bodies; enhanced packets name interface 0 or 1 and a random captured length, and carry
    /// either random bytes or an Ethernet/IPv4/UDP-looking frame.
    #[test]
    fn pcapng_framed_random_blocks(
        blocks in prop::collection::vec(
            (
                prop::sample::select(vec![6u32, 6, 6, 3, 2, 5, 77]),
                0u32..2,
                0u32..160,
                prop_oneof![prop::collection::vec(any::<u8>(), 0..120), plausible_frame()],
            ),
            0..6,
        ),
    ) {
        let mut bytes = pcapng_prefix();
        for (kind, iface, caplen, data) in blocks {
            let mut body = Vec::new();
            if kind == 6 {
                body.extend_from_slice(&iface.to_be_bytes());
                body.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
                body.extend_from_slice(&caplen.min(data.len() as u32 + 8).to_be_bytes());
                body.extend_from_slice(&caplen.to_be_bytes());
            }
            body.extend_from_slice(&data);
            body.resize(body.len().div_ceil(4) * 4, 0);
            let len = (body.len() + 12) as u32;
            bytes.extend_from_slice(&kind.to_be_bytes());
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&body);
            bytes.extend_from_slice(&len.to_be_bytes());
        }
        let len = bytes.len();
        let capture = PcapCapture::from_bytes(bytes).unwrap();
        let channels = ChannelMap::by_port();
        let mut records = capture.records(&channels);
        for r in records.by_ref().flatten() {
            prop_assert!(r.payload.len() <= len);
        }
        prop_assert!(!records.stats().stopped_early);
    }

    /// Garbage after a pcapng section-header type, with either byte-order magic in place.
    #[test]
    fn pcapng_garbage_section_headers(
        len in 0u32..64,
        bom in prop::sample::select(vec![[0x1au8, 0x2b, 0x3c, 0x4d], [0x4d, 0x3c, 0x2b, 0x1a], [0, 0, 0, 0]]),
        tail in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut bytes = vec![0x0a, 0x0d, 0x0d, 0x0a];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(&bom);
        bytes.extend_from_slice(&tail);
        if let Ok(capture) = PcapCapture::from_bytes(bytes) {
            let channels = ChannelMap::by_port();
            for _ in capture.records(&channels) {}
        }
    }
}
