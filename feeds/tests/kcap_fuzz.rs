//! Arbitrary bytes into the `.kcap` reader: never panics, offsets stay inside the input,
//! delivered payloads lie inside the input.

use kestrel_core::Timestamp;
use kestrel_feeds::kcap::{KcapError, KcapHeader, KcapReader, KcapWriter, PayloadKind, Record};
use proptest::prelude::*;

fn valid_capture() -> Vec<u8> {
    let header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "F", Timestamp(1));
    let mut w = KcapWriter::with_block_bytes(Vec::new(), &header, 60).unwrap();
    for i in 0..8u64 {
        w.write_record(&Record {
            recv_ts: Timestamp(i),
            seq: i,
            channel: 0,
            payload: &[i as u8; 13],
        })
        .unwrap();
    }
    w.finish().unwrap()
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(reader) = KcapReader::from_bytes(bytes) else {
        return Ok(());
    };
    let mut records = reader.records();
    let mut n = 0;
    for item in records.by_ref() {
        n += 1;
        prop_assert!(n <= bytes.len() + 1, "iteration does not end");
        match item {
            Ok(r) => prop_assert!(r.payload.len() <= bytes.len()),
            Err(e) => {
                let offset = match e {
                    KcapError::BlockMagic {
                        offset, skipped, ..
                    }
                    | KcapError::BlockHeaderCrc {
                        offset, skipped, ..
                    } => {
                        prop_assert!(offset + skipped <= bytes.len());
                        offset
                    }
                    KcapError::BlockBodyCrc { offset, .. }
                    | KcapError::BlockRecords { offset, .. }
                    | KcapError::Truncated { offset, .. } => offset,
                    other => return Err(TestCaseError::fail(format!("unexpected {other}"))),
                };
                prop_assert!(offset <= bytes.len());
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check(&bytes)?;
    }

    /// A valid capture with random bytes overwritten, inserted or cut off.
    #[test]
    fn mutated_captures_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = valid_capture();
        for (at, value, op) in edits {
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = value,
                1 => bytes.insert(i, value),
                _ => { bytes.remove(i); }
            }
        }
        let cut = cut.index(bytes.len() + 1);
        check(&bytes[..cut])?;
    }
}
