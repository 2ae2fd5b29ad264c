//! `.kcap` damage: flipped bytes in every region, truncation at every offset, garbage between
//! blocks, inconsistent records. Never panics; damage is reported with its block and offset;
//! intact blocks still read.

use kestrel_core::Timestamp;
use kestrel_feeds::kcap::format::{BLOCK_HEADER_LEN, BlockHeader};
use kestrel_feeds::kcap::{KcapError, KcapHeader, KcapReader, KcapWriter, PayloadKind, Record};

struct Capture {
    bytes: Vec<u8>,
    header_len: usize,
    /// (offset, end) of each block.
    blocks: Vec<(usize, usize)>,
    /// (block index, seq) of every record.
    records: Vec<(usize, u64)>,
}

fn capture() -> Capture {
    let header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "TEST", Timestamp(5));
    let header_len = header.encode().unwrap().len();
    let mut w = KcapWriter::with_block_bytes(Vec::new(), &header, 90).unwrap();
    for i in 0..10u64 {
        let payload = [i as u8; 20];
        w.write_record(&Record {
            recv_ts: Timestamp(100 + i),
            seq: i,
            channel: 1,
            payload: &payload,
        })
        .unwrap();
    }
    let bytes = w.finish().unwrap();
    let mut blocks = Vec::new();
    let mut records = Vec::new();
    let mut at = header_len;
    while at < bytes.len() {
        let h = BlockHeader::decode(&bytes, at).unwrap();
        let end = at + BLOCK_HEADER_LEN + h.body_len as usize;
        for k in 0..h.records as u64 {
            records.push((blocks.len(), h.first_seq + k));
        }
        blocks.push((at, end));
        at = end;
    }
    assert!(
        blocks.len() >= 3,
        "want several blocks, got {}",
        blocks.len()
    );
    Capture {
        bytes,
        header_len,
        blocks,
        records,
    }
}

/// Reads everything: delivered seqs and errors.
fn read(bytes: &[u8]) -> Result<(Vec<u64>, Vec<KcapError>), KcapError> {
    let reader = KcapReader::from_bytes(bytes)?;
    let mut seqs = Vec::new();
    let mut errors = Vec::new();
    for item in reader.records() {
        match item {
            Ok(r) => {
                assert_eq!(r.payload, [r.seq as u8; 20]);
                assert_eq!(r.recv_ts, Timestamp(100 + r.seq));
                seqs.push(r.seq);
            }
            Err(e) => errors.push(e),
        }
    }
    Ok((seqs, errors))
}

fn error_position(e: &KcapError) -> (u64, usize) {
    match *e {
        KcapError::BlockMagic { block, offset, .. }
        | KcapError::BlockHeaderCrc { block, offset, .. }
        | KcapError::BlockBodyCrc { block, offset, .. }
        | KcapError::Truncated { block, offset, .. } => (block, offset),
        ref other => panic!("unexpected error {other}"),
    }
}

#[test]
fn intact_capture_reads_clean() {
    let c = capture();
    let (seqs, errors) = read(&c.bytes).unwrap();
    assert_eq!(seqs, (0..10).collect::<Vec<_>>());
    assert!(errors.is_empty());
}

#[test]
fn flipped_byte_in_every_region_is_detected_and_contained() {
    let c = capture();
    for at in 0..c.bytes.len() {
        let mut bytes = c.bytes.clone();
        bytes[at] ^= 0x5a;
        if at < c.header_len {
            let err = read(&bytes).unwrap_err();
            assert!(
                matches!(
                    err,
                    KcapError::BadMagic { .. }
                        | KcapError::UnsupportedVersion { .. }
                        | KcapError::HeaderLength { .. }
                        | KcapError::HeaderCrc { .. }
                ),
                "flip at {at}: {err}"
            );
            continue;
        }
        let damaged = c
            .blocks
            .iter()
            .position(|&(s, e)| (s..e).contains(&at))
            .unwrap();
        let (seqs, errors) = read(&bytes).unwrap();
        let expected: Vec<u64> = c
            .records
            .iter()
            .filter(|&&(b, _)| b != damaged)
            .map(|&(_, s)| s)
            .collect();
        assert_eq!(seqs, expected, "flip at {at} in block {damaged}");
        assert_eq!(errors.len(), 1, "flip at {at}: {errors:?}");
        assert!(errors[0].is_block_damage());
        assert_eq!(
            error_position(&errors[0]),
            (damaged as u64, c.blocks[damaged].0),
            "flip at {at}: {}",
            errors[0]
        );
        let in_body = at >= c.blocks[damaged].0 + BLOCK_HEADER_LEN;
        assert_eq!(
            matches!(errors[0], KcapError::BlockBodyCrc { .. }),
            in_body,
            "flip at {at}: {}",
            errors[0]
        );
    }
}

#[test]
fn truncation_at_every_offset_keeps_complete_blocks() {
    let c = capture();
    for cut in 0..c.bytes.len() {
        let bytes = &c.bytes[..cut];
        if cut < c.header_len {
            assert!(read(bytes).is_err(), "cut at {cut}");
            continue;
        }
        let (seqs, errors) = read(bytes).unwrap();
        let complete = c.blocks.iter().filter(|&&(_, e)| e <= cut).count();
        let expected: Vec<u64> = c
            .records
            .iter()
            .filter(|&&(b, _)| b < complete)
            .map(|&(_, s)| s)
            .collect();
        assert_eq!(seqs, expected, "cut at {cut}");
        let at_boundary = cut == c.header_len || c.blocks.iter().any(|&(_, e)| e == cut);
        if at_boundary {
            assert!(errors.is_empty(), "cut at {cut}: {errors:?}");
        } else {
            assert_eq!(errors.len(), 1, "cut at {cut}");
            assert!(matches!(errors[0], KcapError::Truncated { .. }));
            assert_eq!(
                error_position(&errors[0]),
                (complete as u64, c.blocks[complete].0)
            );
        }
    }
}

#[test]
fn garbage_between_blocks_is_skipped_by_scanning() {
    let c = capture();
    let (s1, _) = c.blocks[1];
    let mut bytes = c.bytes[..s1].to_vec();
    bytes.extend_from_slice(b"garbage KBL garbage KBLK not a header");
    bytes.extend_from_slice(&c.bytes[s1..]);
    let (seqs, errors) = read(&bytes).unwrap();
    assert_eq!(seqs, (0..10).collect::<Vec<_>>());
    assert_eq!(errors.len(), 1);
    assert!(matches!(
        errors[0],
        KcapError::BlockMagic {
            block: 1,
            skipped: 37,
            ..
        }
    ));
    assert_eq!(error_position(&errors[0]), (1, s1));
}

#[test]
fn inconsistent_records_in_a_checksummed_block_are_reported() {
    let header = KcapHeader::new(PayloadKind::Raw, "X", Timestamp(0));
    let mut bytes = header.encode().unwrap();
    // One valid record of 3 bytes followed by a record header claiming 1000 payload bytes.
    let mut body = Vec::new();
    for (seq, len, payload) in [(0u64, 3u32, &b"abc"[..]), (1, 1000, &b"xy"[..])] {
        body.extend_from_slice(&7u64.to_le_bytes());
        body.extend_from_slice(&seq.to_le_bytes());
        body.extend_from_slice(&9u16.to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(payload);
    }
    let block = BlockHeader {
        records: 2,
        body_len: body.len() as u32,
        body_crc: crc32(&body),
        first_seq: 0,
    };
    bytes.extend_from_slice(&block.encode());
    bytes.extend_from_slice(&body);
    let reader = KcapReader::from_bytes(&bytes).unwrap();
    let items: Vec<_> = reader.records().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().payload, b"abc");
    assert!(matches!(
        items[1],
        Err(KcapError::BlockRecords { block: 0, .. })
    ));
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(bytes);
    h.finalize()
}

#[test]
fn garbage_header_is_a_clear_error() {
    assert!(matches!(
        KcapReader::from_bytes(&[0xff; 100]),
        Err(KcapError::BadMagic { .. })
    ));
    let mut bytes = KcapHeader::new(PayloadKind::Raw, "X", Timestamp(0))
        .encode()
        .unwrap();
    bytes[8] = 9;
    assert!(matches!(
        KcapReader::from_bytes(&bytes),
        Err(KcapError::UnsupportedVersion { version: 9 })
    ));
}
