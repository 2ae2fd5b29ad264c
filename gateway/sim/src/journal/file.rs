//! The journal file: header, framed records, torn-tail detection, appending.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::record::{MAX_BODY, Record, RecordError};

const MAGIC: &[u8; 8] = b"KSIMJRNL";
const VERSION: u16 = 1;
/// Magic, version, fingerprint, CRC.
const HEADER_LEN: usize = 8 + 2 + 8 + 4;

/// Why a journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be opened, read or written.
    #[error("venue journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a venue journal, or of another version.
    #[error("venue journal {path}: {reason}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Written for another capture or venue configuration: replaying it would not rebuild the
    /// same state.
    #[error(
        "venue journal {path} was written for another capture or venue configuration (fingerprint {found:016x}, this venue {expected:016x}); move it away to start a new day"
    )]
    Fingerprint {
        /// The file.
        path: PathBuf,
        /// What the file says.
        found: u64,
        /// What this venue computes.
        expected: u64,
    },
    /// A record with a good CRC that does not decode (a bug or a foreign writer).
    #[error("venue journal {path}: record at byte {offset}: {source}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
        /// Why.
        source: RecordError,
    },
}

/// FNV-1a over `parts`: the fingerprint of what decides the venue's behaviour (capture,
/// participants, latency model, matching and feed settings).
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// What [`read_journal`] found.
#[derive(Debug, Default)]
pub struct ReadJournal {
    /// The records, in order.
    pub records: Vec<Record>,
    /// Bytes of whole records (header included): where appending continues.
    pub valid_len: u64,
    /// Bytes after the last whole record (a write cut short by a crash), cut before appending.
    pub torn_bytes: u64,
}

/// Reads `path` (absent or empty: no records) and checks it belongs to a venue with
/// `expected` fingerprint.
pub fn read_journal(path: &Path, expected: u64) -> Result<ReadJournal, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ReadJournal::default()),
        Err(e) => return Err(io(e)),
    };
    if bytes.is_empty() {
        return Ok(ReadJournal::default());
    }
    let header = |reason: &str| JournalError::Header {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.len() < HEADER_LEN {
        // A crash while writing the header: nothing was journaled yet.
        return Ok(ReadJournal {
            torn_bytes: bytes.len() as u64,
            ..ReadJournal::default()
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(header("not a venue journal (bad magic)"));
    }
    let crc = u32::from_le_bytes(bytes[18..22].try_into().unwrap_or_default());
    if crc != crc32fast::hash(&bytes[..18]) {
        return Err(header("header CRC mismatch"));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(header(&format!(
            "version {version}, this build reads {VERSION}"
        )));
    }
    let found = u64::from_le_bytes(bytes[10..18].try_into().unwrap_or_default());
    if found != expected {
        return Err(JournalError::Fingerprint {
            path: path.to_owned(),
            found,
            expected,
        });
    }
    let mut records = Vec::new();
    let mut at = HEADER_LEN;
    while let Some(len) = bytes
        .get(at..at + 2)
        .map(|l| usize::from(u16::from_le_bytes([l[0], l[1]])))
    {
        let Some(frame) = bytes.get(at + 2..at + 2 + len + 4) else {
            break;
        };
        let (body, crc) = frame.split_at(len);
        if len == 0
            || len > MAX_BODY
            || u32::from_le_bytes(crc.try_into().unwrap_or_default()) != crc32fast::hash(body)
        {
            break;
        }
        let record = Record::decode(body).map_err(|source| JournalError::Record {
            path: path.to_owned(),
            offset: at as u64,
            source,
        })?;
        records.push(record);
        at += 2 + len + 4;
    }
    Ok(ReadJournal {
        records,
        valid_len: at as u64,
        torn_bytes: (bytes.len() - at) as u64,
    })
}

/// Appends records, each with one `write` call (and `fdatasync` when asked).
#[derive(Debug)]
pub struct JournalWriter {
    file: File,
    path: PathBuf,
    sync: bool,
    records: u64,
    errors: u64,
    buf: Vec<u8>,
}

impl JournalWriter {
    /// Opens `path` for appending after `valid_len` bytes (what [`read_journal`] found; 0 for a
    /// new journal, which gets a header). A torn tail beyond `valid_len` is cut.
    pub fn open(
        path: &Path,
        fingerprint: u64,
        valid_len: u64,
        sync: bool,
    ) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let mut w = Self {
            file: file.try_clone().map_err(io)?,
            path: path.to_owned(),
            sync,
            records: 0,
            errors: 0,
            buf: Vec::with_capacity(2 + MAX_BODY + 4),
        };
        if valid_len == 0 {
            file.set_len(0).map_err(io)?;
            let mut h = [0u8; HEADER_LEN];
            h[..8].copy_from_slice(MAGIC);
            h[8..10].copy_from_slice(&VERSION.to_le_bytes());
            h[10..18].copy_from_slice(&fingerprint.to_le_bytes());
            let crc = crc32fast::hash(&h[..18]);
            h[18..22].copy_from_slice(&crc.to_le_bytes());
            file.write_all(&h).map_err(io)?;
            if sync {
                file.sync_data().map_err(io)?;
            }
        } else {
            file.set_len(valid_len).map_err(io)?;
        }
        w.file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(w)
    }

    /// Appends one record. A failed write is counted (the venue keeps running; the journal
    /// then no longer covers the day, which [`JournalWriter::errors`] says).
    pub fn append(&mut self, record: &Record) {
        let mut body = [0u8; MAX_BODY];
        let n = record.encode(&mut body);
        self.buf.clear();
        self.buf.extend_from_slice(&(n as u16).to_le_bytes());
        self.buf.extend_from_slice(&body[..n]);
        self.buf
            .extend_from_slice(&crc32fast::hash(&body[..n]).to_le_bytes());
        if self.file.write_all(&self.buf).is_err() || (self.sync && self.file.sync_data().is_err())
        {
            self.errors += 1;
            return;
        }
        self.records += 1;
    }

    /// Records appended by this writer.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends that failed.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::Timestamp;

    fn tmp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("ksim-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn appends_reads_back_and_cuts_a_torn_tail() {
        let p = tmp("torn");
        let mut w = JournalWriter::open(&p, 42, 0, false).unwrap();
        for i in 0..5 {
            w.append(&Record::Advance { now: Timestamp(i) });
        }
        drop(w);
        let full = std::fs::read(&p).unwrap();
        // A crash in the middle of the last record.
        std::fs::write(&p, &full[..full.len() - 3]).unwrap();
        let r = read_journal(&p, 42).unwrap();
        assert_eq!(r.records.len(), 4);
        assert_eq!(r.torn_bytes, 12);
        let mut w = JournalWriter::open(&p, 42, r.valid_len, false).unwrap();
        w.append(&Record::EndOfDay { ts: Timestamp(9) });
        drop(w);
        let r = read_journal(&p, 42).unwrap();
        assert_eq!(r.torn_bytes, 0);
        assert_eq!(
            r.records.last(),
            Some(&Record::EndOfDay { ts: Timestamp(9) })
        );
        assert_eq!(r.records.len(), 5);
        // Another venue's journal is refused; so is a file that is not a journal.
        assert!(matches!(
            read_journal(&p, 43),
            Err(JournalError::Fingerprint { found: 42, .. })
        ));
        std::fs::write(&p, b"not a journal at all, no").unwrap();
        assert!(matches!(
            read_journal(&p, 42),
            Err(JournalError::Header { .. })
        ));
        // A flipped bit inside a record ends the readable part there.
        let mut bad = full.clone();
        let at = HEADER_LEN + 13 + 3;
        bad[at] ^= 0x40;
        std::fs::write(&p, &bad).unwrap();
        let r = read_journal(&p, 42).unwrap();
        assert_eq!(r.records.len(), 1);
        assert!(r.torn_bytes > 0);
        std::fs::remove_file(&p).ok();
        assert_eq!(
            read_journal(&p, 42).unwrap().records.len(),
            0,
            "absent: empty"
        );
    }
}
