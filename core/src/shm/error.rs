//! Why a segment could not be created, opened or attached.

use std::path::PathBuf;

/// A shared-memory error, naming the file and what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    /// A system call on the file failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The segment name is empty, or names a directory.
    #[error("bad segment name `{0}`: give a plain name (a file under /dev/shm) or a path")]
    BadName(String),
    /// The file is shorter than a header or than the size its header declares.
    #[error("{path}: {len} bytes, the segment needs {needed}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: u64,
        /// Bytes required.
        needed: u64,
    },
    /// The first word is not the segment magic (not a Kestrel segment, or not yet written).
    #[error(
        "{path}: not a Kestrel shared-memory segment (magic {found:#018x}, expected {expected:#018x})"
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Found.
        found: u64,
        /// Expected.
        expected: u64,
    },
    /// Layout versions differ: the two sides were built from incompatible code.
    #[error(
        "{path}: layout version {found}, this build speaks version {expected}; rebuild both sides from the same release"
    )]
    LayoutVersion {
        /// The file.
        path: PathBuf,
        /// Found in the file.
        found: u32,
        /// This build's.
        expected: u32,
    },
    /// A size or offset in the header disagrees with this build's layout.
    #[error("{path}: header field {field} is {found}, this build expects {expected}")]
    LayoutMismatch {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// Found in the file.
        found: u64,
        /// This build's.
        expected: u64,
    },
    /// The segment's feature schema is not the one expected.
    #[error(
        "{path}: feature schema differs ({detail}); segment hash {found:#018x}, expected {expected:#018x}"
    )]
    SchemaMismatch {
        /// The file.
        path: PathBuf,
        /// The first difference.
        detail: String,
        /// The segment's schema hash.
        found: u64,
        /// The expected schema hash.
        expected: u64,
    },
    /// The stored schema hash does not match the stored names (a damaged header).
    #[error("{path}: schema hash {stored:#018x} does not match its names ({computed:#018x})")]
    SchemaHash {
        /// The file.
        path: PathBuf,
        /// Stored.
        stored: u64,
        /// Computed from the stored names.
        computed: u64,
    },
    /// Too many or too few feature names.
    #[error("a feature schema has 1 to {capacity} names, got {count}")]
    SchemaSize {
        /// Names given.
        count: usize,
        /// Capacity.
        capacity: usize,
    },
    /// A feature name is empty, too long or not printable ASCII.
    #[error("feature {index} has a bad name `{name}` (1 to 31 printable ASCII bytes)")]
    SchemaName {
        /// Its index.
        index: usize,
        /// The name.
        name: String,
    },
    /// The ring capacity is not a power of two of at least 2, or there are no edge slots.
    #[error("bad segment size: {0}")]
    BadSize(String),
    /// The file is readable or writable by other users, or owned by another user.
    #[error(
        "{path}: mode {mode:o} owner {uid}: a segment must be private to its user (mode 600, owned by uid {expected_uid})"
    )]
    NotPrivate {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Its owner.
        uid: u32,
        /// This process's effective uid.
        expected_uid: u32,
    },
    /// A live core already owns a segment of that name.
    #[error("{path}: in use by a running core (pid {pid})")]
    CoreInUse {
        /// The file.
        path: PathBuf,
        /// Its pid.
        pid: u32,
    },
    /// A live sidecar is already attached.
    #[error("{path}: a sidecar (pid {pid}) is attached and alive; one sidecar per segment")]
    SidecarAttached {
        /// The file.
        path: PathBuf,
        /// Its pid.
        pid: u32,
    },
    /// The ring's indices are inconsistent (head behind tail, or more than a ring apart).
    #[error("feature ring indices inconsistent: head {head}, tail {tail}, capacity {capacity}")]
    RingCorrupt {
        /// Producer index.
        head: u64,
        /// Consumer index.
        tail: u64,
        /// Capacity.
        capacity: u64,
    },
}
