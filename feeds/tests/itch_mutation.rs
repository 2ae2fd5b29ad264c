//! Corrupted copies of the bundled ITCH file: every problem is reported with an offset inside
//! the input, the framer never reads out of bounds, and the rest of the file still flows.

use kestrel_feeds::itch::{Frame, ItchError, ItchFramer, ItchNormalizer, PREFIX_LEN, decode};
use proptest::prelude::*;

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);

fn file() -> Vec<u8> {
    std::fs::read(ITCH_FILE).expect("bundled ITCH test file")
}

fn frames(data: &[u8]) -> Vec<Frame<'_>> {
    ItchFramer::new(data).map(Result::unwrap).collect()
}

/// Frames `data`, checking the invariants that hold for any input, and returns the good
/// frames as `(offset, length)` with the errors.
fn frame_checked(data: &[u8]) -> (Vec<(usize, usize)>, Vec<ItchError>) {
    let mut framer = ItchFramer::new(data);
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut consumed = 0usize;
    for item in framer.by_ref() {
        match item {
            Ok(frame) => {
                let end = frame.message_offset() + frame.message.len();
                assert!(end <= data.len());
                assert_eq!(frame.message, &data[frame.message_offset()..end]);
                assert!(decode(frame.message).is_ok(), "framed message decodes");
                consumed += PREFIX_LEN + frame.message.len();
                good.push((frame.offset, frame.message.len()));
            }
            Err(e) => {
                assert!(e.offset() < data.len(), "{e} outside {} bytes", data.len());
                errors.push(e);
            }
        }
    }
    let stats = framer.stats();
    assert_eq!(stats.frames as usize, good.len());
    assert_eq!(stats.errors as usize, errors.len());
    // Every byte is either framed or counted as skipped.
    assert_eq!(consumed + stats.bytes_skipped as usize, data.len());
    (good, errors)
}

/// Original frames missing from `got`, as `(offset, length)`.
fn lost(original: &[(usize, usize)], got: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let got: std::collections::HashSet<_> = got.iter().copied().collect();
    original
        .iter()
        .copied()
        .filter(|f| !got.contains(f))
        .collect()
}

fn original_frames(data: &[u8]) -> Vec<(usize, usize)> {
    frames(data)
        .iter()
        .map(|f| (f.offset, f.message.len()))
        .collect()
}

/// Checks one single-byte corruption: only frames around it are lost, and any loss is
/// reported as an error at or after the damaged frame.
fn check_flip(data: &[u8], original: &[(usize, usize)], pos: usize, xor: u8) {
    let mut mutated = data.to_vec();
    mutated[pos] ^= xor;
    let (good, errors) = frame_checked(&mutated);
    let missing = lost(original, &good);
    // Resynchronisation loses at most the damaged frame and the two after it.
    assert!(
        missing.len() <= 3,
        "flip {xor:#x} at {pos}: lost {missing:?}"
    );
    for &(off, len) in &missing {
        assert!(
            off + PREFIX_LEN + len > pos && off <= pos + 100,
            "flip {xor:#x} at {pos}: lost far frame at {off}"
        );
    }
    if !missing.is_empty() {
        assert!(!errors.is_empty(), "flip {xor:#x} at {pos}: silent loss");
        let first_lost = missing[0].0;
        assert!(
            errors[0].offset() >= first_lost,
            "flip at {pos}: {:?}",
            errors[0]
        );
    }
    assert!(errors.len() <= 2, "flip {xor:#x} at {pos}: {errors:?}");
}

#[test]
fn byte_flips_across_the_file_lose_only_nearby_frames() {
    let data = file();
    let original = original_frames(&data);
    // Every 389th byte (a prime, so positions fall on every field of every message type)
    // with three masks: all bits, the lowest bit (turns some types into other valid types),
    // and bit 6 (letters into control bytes).
    for xor in [0xFF, 0x01, 0x40] {
        for pos in (0..data.len()).step_by(389) {
            check_flip(&data, &original, pos, xor);
        }
    }
}

#[test]
fn a_damaged_length_prefix_is_reported_where_it_is() {
    let data = file();
    let original = original_frames(&data);
    // Offset 232 is the first A message's prefix.
    let mut mutated = data.clone();
    mutated[232] = 0x01;
    let (good, errors) = frame_checked(&mutated);
    assert_eq!(
        errors,
        [ItchError::PrefixMismatch {
            offset: 232,
            msg_type: b'A',
            prefix: 0x0100,
            expected: 36
        }]
    );
    assert_eq!(lost(&original, &good), [(232, 36)]);
}

#[test]
fn a_damaged_type_byte_is_reported_where_it_is() {
    let data = file();
    let original = original_frames(&data);
    // Offset 14 is the first R message; its type byte is at 16.
    let mut mutated = data.clone();
    mutated[16] = b'z';
    let (good, errors) = frame_checked(&mutated);
    assert_eq!(
        errors,
        [ItchError::UnknownType {
            offset: 14,
            msg_type: b'z'
        }]
    );
    assert_eq!(lost(&original, &good), [(14, 39)]);
    // The normaliser then sees no R for locate 1 and registers a placeholder for it.
    let mut norm = ItchNormalizer::new();
    for frame in ItchFramer::new(&mutated).flatten() {
        norm.normalize(&decode(frame.message).unwrap());
    }
    assert_eq!(norm.stats().placeholders, 1);
    assert_eq!(norm.stats().events, 12_003);
}

#[test]
fn truncation_reports_the_cut_frame_and_keeps_everything_before_it() {
    let data = file();
    let original = original_frames(&data);
    for cut in (1..data.len()).step_by(997) {
        let (good, errors) = frame_checked(&data[..cut]);
        let complete: Vec<_> = original
            .iter()
            .copied()
            .filter(|(off, len)| off + PREFIX_LEN + len <= cut)
            .collect();
        assert_eq!(good, complete, "cut at {cut}");
        let at_boundary = complete
            .last()
            .is_some_and(|(off, len)| off + PREFIX_LEN + len == cut);
        if at_boundary {
            assert!(errors.is_empty(), "cut at {cut}: {errors:?}");
        } else {
            let start = complete
                .last()
                .map_or(0, |(off, len)| off + PREFIX_LEN + len);
            assert_eq!(errors.len(), 1, "cut at {cut}: {errors:?}");
            assert!(
                matches!(errors[0], ItchError::Truncated { offset, .. } if offset == start),
                "cut at {cut}: {errors:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_byte_flips_keep_the_stream_flowing(pos in 0usize..465_048, xor in 1u8..=255) {
        let data = file();
        let original = original_frames(&data);
        check_flip(&data, &original, pos, xor);
    }

    #[test]
    fn inserted_garbage_is_skipped_and_reported(
        msg_index in 0usize..12_012,
        garbage in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let data = file();
        let original = original_frames(&data);
        let at = original[msg_index].0;
        let mut mutated = data[..at].to_vec();
        mutated.extend_from_slice(&garbage);
        mutated.extend_from_slice(&data[at..]);
        let (good, errors) = frame_checked(&mutated);
        // Everything before the insertion is intact; everything from 200 bytes after it is
        // found again, shifted by the garbage's length.
        let shifted: Vec<_> = original
            .iter()
            .map(|&(off, len)| if off >= at { (off + garbage.len(), len) } else { (off, len) })
            .collect();
        let missing = lost(&shifted, &good);
        for &(off, _) in &missing {
            prop_assert!(off >= at && off < at + garbage.len() + 200, "lost frame at {}", off);
        }
        if !missing.is_empty() || good.len() != original.len() {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors[0].offset() >= at);
        }
    }
}
