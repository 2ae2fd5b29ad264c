//! A walk over a DBN stream's record headers before the `dbn` crate decodes any record.
//!
//! The `dbn` crate's decoder reads records into one buffer, back to back, and reads each one
//! in place as a `#[repr(C)]` struct of 8-byte alignment. Every real record is a multiple of 8
//! bytes long, so every record starts aligned. A corrupt length byte can make a record 4 bytes
//! off that (or shorter than the 16-byte header itself): the next record then lies unaligned in
//! the buffer. In `dbn` 0.73 that panics in debug builds ("unaligned buffer passed to
//! `RecordRef::new`") and reads unaligned in release builds. Found by the AFL++ campaign of the
//! `dbn` target (`fuzz/crashes/dbn/`). This walk finds the first such record so the importer
//! hands `dbn` only the records before it and reports the rest as corrupt, with its position.

use super::error::DbnErrorKind;

/// Bytes of a DBN record header (`RecordHeader`: length, rtype, publisher, instrument, time).
pub const HEADER_LEN: usize = 16;

/// What the walk found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Framing {
    /// Where the well-framed records end (a byte offset in the stream): at the first corrupt
    /// length, at a record cut short by the end of the input, or at the end.
    pub end: usize,
    /// Well-framed records before `end`.
    pub records: u64,
    /// The corrupt length that ended the walk, if one did (a cut-short last record is not
    /// one: the importer reports it as truncated).
    pub corrupt: Option<DbnErrorKind>,
}

/// Walks the records of `bytes` from `records_start` (the end of the metadata) by their
/// header lengths.
pub fn frame_records(bytes: &[u8], records_start: usize) -> Framing {
    let mut pos = records_start.min(bytes.len());
    let mut records = 0;
    while let Some(&units) = bytes.get(pos) {
        let len = usize::from(units) * 4;
        let corrupt = if len < HEADER_LEN {
            Some(format!(
                "record length {len} bytes is shorter than the {HEADER_LEN}-byte header (a corrupt length)"
            ))
        } else if !len.is_multiple_of(8) {
            Some(format!(
                "record length {len} bytes is not a multiple of 8 (a corrupt length)"
            ))
        } else {
            None
        };
        if let Some(why) = corrupt {
            return Framing {
                end: pos,
                records,
                corrupt: Some(DbnErrorKind::Decode(why)),
            };
        }
        if pos + len > bytes.len() {
            break;
        }
        pos += len;
        records += 1;
    }
    Framing {
        end: pos,
        records,
        corrupt: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(units: u8) -> Vec<u8> {
        let mut r = vec![0u8; usize::from(units) * 4];
        if let Some(b) = r.first_mut() {
            *b = units;
        }
        r
    }

    #[test]
    fn whole_records_walk_to_the_end() {
        let mut s = vec![0xAA; 8];
        s.extend(record(14));
        s.extend(record(4));
        let f = frame_records(&s, 8);
        assert_eq!((f.end, f.records, f.corrupt), (s.len(), 2, None));
    }

    #[test]
    fn a_length_off_the_8_byte_grid_ends_the_walk_at_that_record() {
        let mut s = vec![0xAA; 8];
        s.extend(record(14));
        let at = s.len();
        s.extend(record(15)); // 60 bytes: the next record would start unaligned
        s.extend(record(14));
        let f = frame_records(&s, 8);
        assert_eq!((f.end, f.records), (at, 1));
        assert!(
            matches!(&f.corrupt, Some(DbnErrorKind::Decode(m)) if m.contains("multiple of 8")),
            "{f:?}"
        );
    }

    #[test]
    fn a_length_shorter_than_the_header_is_corrupt() {
        for units in [0u8, 1, 2, 3] {
            let mut s = record(14);
            let at = s.len();
            s.push(units);
            s.extend([0u8; 15]);
            let f = frame_records(&s, 0);
            assert_eq!((f.end, f.records), (at, 1), "units {units}");
            assert!(f.corrupt.is_some(), "units {units}");
        }
    }

    #[test]
    fn a_record_cut_short_is_left_to_the_truncation_check() {
        let mut s = record(14);
        s.extend(&record(14)[..20]);
        let f = frame_records(&s, 0);
        assert_eq!((f.end, f.records, f.corrupt), (56, 1, None));
        // A start past the input walks nothing.
        assert_eq!(frame_records(&s, 1_000).end, s.len());
    }
}
