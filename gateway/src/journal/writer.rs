//! The journal writer: a thread of its own (off the hot path) that drains a ring of
//! [`Entry`]s, encodes them, appends them to the file and syncs it per the [`FsyncPolicy`].
//!
//! The gateway thread's side is a [`JournalSender`]: a ring producer that never drops an
//! entry. A full ring makes it wait, and the waits are counted (backpressure, visible in the
//! session's figures).

use super::JournalError;
use super::codec::{self, HEADER_LEN, MAX_RECORD};
use super::entry::{Entry, JournalSink};
use kestrel_core::clock::TscClock;
use kestrel_core::pipeline::{Received, RingSender, WaitStrategy, ring};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// When the writer forces the file to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// Never (the OS writes back on its own; a process crash loses nothing already written,
    /// a power loss may).
    Never,
    /// After every batch the writer drains (each record is durable before the next batch).
    #[default]
    EveryBatch,
    /// After every `n` records.
    EveryRecords(u32),
    /// At most every `ms` milliseconds (and at the end).
    IntervalMs(u64),
}

impl FsyncPolicy {
    /// Parses `never`, `batch`, `records:N` or `interval:MS`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "never" => Some(FsyncPolicy::Never),
            "batch" => Some(FsyncPolicy::EveryBatch),
            _ => {
                let (k, v) = s.split_once(':')?;
                match k {
                    "records" => v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .map(FsyncPolicy::EveryRecords),
                    "interval" => v.parse().ok().map(FsyncPolicy::IntervalMs),
                    _ => None,
                }
            }
        }
    }
}

/// Journal writer settings.
#[derive(Clone, Debug)]
pub struct JournalConfig {
    /// The file (created with a header, or appended to).
    pub path: PathBuf,
    /// Sync policy.
    pub fsync: FsyncPolicy,
    /// Ring slots between the gateway thread and the writer (a power of two).
    pub ring_size: usize,
}

impl JournalConfig {
    /// Defaults for `path`: sync every batch, 65,536 slots.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            fsync: FsyncPolicy::EveryBatch,
            ring_size: 65_536,
        }
    }
}

/// What the writer did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Records written.
    pub records: u64,
    /// Bytes written (records only).
    pub bytes: u64,
    /// `fsync` calls.
    pub syncs: u64,
}

/// The gateway thread's end: implements [`JournalSink`].
pub struct JournalSender {
    tx: RingSender<Entry>,
    waits: u64,
    wait_ns: u64,
}

impl std::fmt::Debug for JournalSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalSender")
            .field("published", &self.tx.published())
            .field("waits", &self.waits)
            .finish_non_exhaustive()
    }
}

impl JournalSender {
    /// Entries handed to the writer.
    pub fn published(&self) -> u64 {
        self.tx.published()
    }

    /// Times the ring was full (the gateway thread waited), and the total wait.
    pub fn backpressure(&self) -> (u64, u64) {
        (self.waits, self.wait_ns)
    }
}

impl JournalSink for JournalSender {
    #[inline]
    fn record(&mut self, entry: &Entry) {
        let waited = self.tx.send(*entry);
        if waited > 0 {
            self.waits += 1;
            self.wait_ns += waited;
        }
    }
}

/// The writer thread; join it after dropping the sender.
#[derive(Debug)]
pub struct JournalHandle {
    thread: JoinHandle<Result<WriterStats, JournalError>>,
}

impl JournalHandle {
    /// Waits for the writer to drain the ring, sync and close the file.
    pub fn join(self) -> Result<WriterStats, JournalError> {
        self.thread
            .join()
            .map_err(|_| JournalError::WriterPanicked)?
    }
}

/// Opens `path` for appending: writes a header to a new or empty file, checks the header of
/// an existing one.
pub fn open_for_append(path: &Path) -> Result<File, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    let len = file.seek(SeekFrom::End(0)).map_err(io)?;
    if len == 0 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        file.write_all(&codec::header(now)).map_err(io)?;
        file.sync_all().map_err(io)?;
    } else if len < HEADER_LEN as u64 {
        return Err(JournalError::BadHeader(path.to_path_buf()));
    } else {
        let mut h = [0u8; HEADER_LEN];
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut h, 0).map_err(io)?;
        if h[..4] != codec::MAGIC {
            return Err(JournalError::BadHeader(path.to_path_buf()));
        }
    }
    Ok(file)
}

/// Starts the writer thread (named `journal`) and returns the gateway's end of its ring.
pub fn spawn(cfg: &JournalConfig) -> Result<(JournalSender, JournalHandle), JournalError> {
    let file = open_for_append(&cfg.path)?;
    let (tx, mut rxs) = ring(
        cfg.ring_size,
        Entry::default,
        1,
        WaitStrategy::SpinYield { spins: 200 },
        TscClock::new(),
    )
    .map_err(|e| JournalError::Config(e.to_string()))?;
    let mut rx = rxs
        .pop()
        .ok_or_else(|| JournalError::Config("no receiver".into()))?;
    let policy = cfg.fsync;
    let path = cfg.path.clone();
    let thread = std::thread::Builder::new()
        .name("journal".to_owned())
        .spawn(move || {
            let io = |source| JournalError::Io {
                path: path.clone(),
                source,
            };
            let mut out = BufWriter::with_capacity(1 << 16, file);
            let mut stats = WriterStats::default();
            let mut buf = [0u8; MAX_RECORD];
            let mut since_sync: u64 = 0;
            let mut last_sync = std::time::Instant::now();
            let mut waiter = WaitStrategy::Sleep { micros: 200 }.waiter();
            let mut failure: Option<std::io::Error> = None;
            loop {
                let got = rx.poll_batch(|e, _| {
                    if failure.is_some() {
                        return;
                    }
                    let n = codec::encode(e, &mut buf);
                    if let Err(err) = out.write_all(&buf[..n]) {
                        failure = Some(err);
                    }
                    stats.records += 1;
                    stats.bytes += n as u64;
                    since_sync += 1;
                });
                if let Some(err) = failure.take() {
                    return Err(io(err));
                }
                match got {
                    Received::Batch(_) => {
                        waiter.reset();
                        out.flush().map_err(io)?;
                        let due = match policy {
                            FsyncPolicy::Never => false,
                            FsyncPolicy::EveryBatch => true,
                            FsyncPolicy::EveryRecords(n) => since_sync >= u64::from(n),
                            FsyncPolicy::IntervalMs(ms) => {
                                last_sync.elapsed().as_millis() >= u128::from(ms)
                            }
                        };
                        if due {
                            out.get_ref().sync_data().map_err(io)?;
                            stats.syncs += 1;
                            since_sync = 0;
                            last_sync = std::time::Instant::now();
                        }
                    }
                    Received::Empty => waiter.idle(),
                    Received::Closed => break,
                }
            }
            out.flush().map_err(io)?;
            if policy != FsyncPolicy::Never {
                out.get_ref().sync_all().map_err(io)?;
                stats.syncs += 1;
            }
            Ok(stats)
        })
        .map_err(|source| JournalError::Io {
            path: cfg.path.clone(),
            source,
        })?;
    Ok((
        JournalSender {
            tx,
            waits: 0,
            wait_ns: 0,
        },
        JournalHandle { thread },
    ))
}
