//! Creating, validating and attaching to a segment file.
//!
//! The core creates the file (mode 0600, exclusive), sizes it, writes the header with a zero
//! magic and publishes it by storing the magic. A sidecar opens the existing file, checks that it
//! is private to its user, maps it, and validates the magic, the layout version, every size and
//! offset, and the feature schema against its model's before touching anything else; then it
//! claims the sidecar pid slot (refused while another live sidecar holds it; taken over from a
//! dead one, which is how a restarted sidecar resumes on the same segment).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::error::ShmError;
use super::layout::{
    ConsumerLine, CoreSide, EdgeSlot, FEATURE_CAPACITY, FeatureRecord, HEADER_PAD, HEADER_SIZE,
    Header, Identity, LAYOUT_VERSION, Layout, MAGIC, ProducerLine, SchemaBlock, SidecarSide,
    core_state,
};
use super::mapping::Mapping;
use super::ring::{FeatureConsumer, FeatureProducer};
use super::schema::FeatureSchema;
use super::seqlock::{EdgeReader, EdgeWriter};
use super::sys::{effective_uid, monotonic_ns, own_pid, process_alive};

/// Where plain segment names live.
pub const SHM_DIR: &str = "/dev/shm";

/// A sidecar whose heartbeat is older than this is taken over even if its pid still exists
/// (pid reuse, or a process stopped for good).
pub const TAKEOVER_AFTER_NS: u64 = 2_000_000_000;

/// The file of segment `name`: a plain name is a file under [`SHM_DIR`]; a name with a `/` is a
/// path as given.
pub fn segment_path(name: &str) -> Result<PathBuf, ShmError> {
    if name.is_empty() || name.ends_with('/') || name == "." || name == ".." {
        return Err(ShmError::BadName(name.to_owned()));
    }
    if name.contains('/') {
        Ok(PathBuf::from(name))
    } else {
        Ok(Path::new(SHM_DIR).join(name))
    }
}

/// What to create.
#[derive(Clone, Debug)]
pub struct SegmentSpec {
    /// Feature records in the ring (a power of two, at least 2).
    pub ring_capacity: usize,
    /// Edge slots: one per instrument (dense ids `0..instruments`).
    pub instruments: usize,
    /// Feature names in record order.
    pub schema: FeatureSchema,
}

/// A live snapshot of a segment's shared counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentStatus {
    /// Core pid.
    pub core_pid: u32,
    /// Core state ([`core_state`]).
    pub core_state: u32,
    /// Attached sidecar pid (0: none).
    pub sidecar_pid: u32,
    /// Sidecar heartbeat, `CLOCK_MONOTONIC` ns (0: never).
    pub sidecar_heartbeat_ns: u64,
    /// Sidecar attaches so far.
    pub sidecar_attaches: u64,
    /// Model id and version of the attached sidecar.
    pub model_id: u32,
    /// Model version of the attached sidecar.
    pub model_version: u32,
    /// Records published.
    pub head: u64,
    /// Records consumed.
    pub tail: u64,
    /// Records dropped on a full ring.
    pub dropped: u64,
}

fn status_of(h: &Header) -> SegmentStatus {
    SegmentStatus {
        core_pid: h.core.pid.load(Ordering::Relaxed),
        core_state: h.core.state.load(Ordering::Relaxed),
        sidecar_pid: h.sidecar.pid.load(Ordering::Acquire),
        sidecar_heartbeat_ns: h.sidecar.heartbeat_ns.load(Ordering::Relaxed),
        sidecar_attaches: h.sidecar.attaches.load(Ordering::Relaxed),
        model_id: h.sidecar.model_id.load(Ordering::Relaxed),
        model_version: h.sidecar.model_version.load(Ordering::Relaxed),
        head: h.producer.head.load(Ordering::Acquire),
        tail: h.consumer.tail.load(Ordering::Acquire),
        dropped: h.producer.dropped.load(Ordering::Relaxed),
    }
}

/// Whether the sidecar of `h` is alive at `now_ns`: attached and its heartbeat at most
/// `timeout_ns` old.
#[inline]
fn sidecar_alive(h: &Header, now_ns: u64, timeout_ns: u64) -> bool {
    h.sidecar.pid.load(Ordering::Relaxed) != 0
        && now_ns.saturating_sub(h.sidecar.heartbeat_ns.load(Ordering::Relaxed)) <= timeout_ns
}

/// The core's end of a segment. Dropping it marks the segment closed and removes the file.
#[derive(Debug)]
pub struct CoreSegment {
    map: Arc<Mapping>,
    producer_taken: AtomicBool,
    remove_on_drop: bool,
}

impl CoreSegment {
    /// Creates segment `name` (see [`segment_path`]) for `spec`. An existing file is replaced
    /// unless a running core owns it ([`ShmError::CoreInUse`]).
    pub fn create(name: &str, spec: &SegmentSpec) -> Result<Self, ShmError> {
        let path = segment_path(name)?;
        if spec.ring_capacity < 2 || !spec.ring_capacity.is_power_of_two() {
            return Err(ShmError::BadSize(format!(
                "ring capacity {} is not a power of two of at least 2",
                spec.ring_capacity
            )));
        }
        if spec.instruments == 0 || u32::try_from(spec.instruments).is_err() {
            return Err(ShmError::BadSize(format!(
                "{} edge slots (1 to 2^32-1)",
                spec.instruments
            )));
        }
        let layout = Layout::new(spec.ring_capacity, spec.instruments)
            .ok_or_else(|| ShmError::BadSize("segment size overflows".to_owned()))?;
        let io = |what, source| ShmError::Io {
            what,
            path: path.clone(),
            source,
        };
        if path.exists() {
            if let Some(pid) = running_core(&path) {
                return Err(ShmError::CoreInUse { path, pid });
            }
            std::fs::remove_file(&path).map_err(|e| io("removing the stale segment", e))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io("creating", e))?;
        // The umask can only clear bits of 0600; make the mode exact anyway.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io("setting the mode of", e))?;
        file.set_len(layout.total_size as u64)
            .map_err(|e| io("sizing", e))?;
        let mut map = Mapping::map(&file, &path, layout)?;
        map.write_header(new_header(&layout, &spec.schema));
        let h = map.header();
        h.core.pid.store(own_pid(), Ordering::Relaxed);
        h.core.state.store(core_state::RUNNING, Ordering::Relaxed);
        h.core.heartbeat_ns.store(monotonic_ns(), Ordering::Relaxed);
        h.identity.magic.store(MAGIC, Ordering::Release);
        Ok(Self {
            map: Arc::new(map),
            producer_taken: AtomicBool::new(false),
            remove_on_drop: true,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        self.map.path()
    }

    /// The ring's producer; `None` after the first call (one producer per segment).
    pub fn take_producer(&self) -> Option<FeatureProducer> {
        (!self.producer_taken.swap(true, Ordering::AcqRel))
            .then(|| FeatureProducer::new(Arc::clone(&self.map)))
    }

    /// A reader of the edge table.
    pub fn edge_reader(&self) -> EdgeReader {
        EdgeReader::new(Arc::clone(&self.map))
    }

    /// A handle for the core's hot path to check the sidecar's liveness and beat the core's
    /// heartbeat.
    pub fn liveness(&self) -> Liveness {
        Liveness {
            map: Arc::clone(&self.map),
        }
    }

    /// The shared counters now.
    pub fn status(&self) -> SegmentStatus {
        status_of(self.map.header())
    }

    /// Keeps the file when this handle is dropped (for inspection after a run).
    pub fn keep_file(mut self) -> Self {
        self.remove_on_drop = false;
        self
    }
}

impl Drop for CoreSegment {
    fn drop(&mut self) {
        let path = self.map.path();
        // Only our own file: a newer core may have replaced it after we were declared gone.
        let ours = File::open(path)
            .ok()
            .and_then(|f| read_core_pid(&f).ok().flatten())
            == Some(own_pid());
        self.map
            .header()
            .core
            .state
            .store(core_state::CLOSED, Ordering::Release);
        if self.remove_on_drop && ours {
            // Nothing to do about a failure here (the file may be gone already).
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The core's view of the sidecar's liveness (cheap: two relaxed loads per check).
#[derive(Debug, Clone)]
pub struct Liveness {
    map: Arc<Mapping>,
}

impl Liveness {
    /// Whether a sidecar is attached with a heartbeat at most `timeout_ns` old at `now_ns`
    /// (`CLOCK_MONOTONIC`, see [`super::monotonic_ns`]).
    #[inline]
    pub fn sidecar_alive(&self, now_ns: u64, timeout_ns: u64) -> bool {
        sidecar_alive(self.map.header(), now_ns, timeout_ns)
    }

    /// Stores the core's heartbeat.
    #[inline]
    pub fn beat(&self, now_ns: u64) {
        self.map
            .header()
            .core
            .heartbeat_ns
            .store(now_ns, Ordering::Relaxed);
    }

    /// Adds to the core's count of edge versions seen (informational for the sidecar).
    #[inline]
    pub fn note_edges_seen(&self, total: u64) {
        self.map
            .header()
            .core
            .edges_seen
            .store(total, Ordering::Relaxed);
    }

    /// The shared counters now.
    pub fn status(&self) -> SegmentStatus {
        status_of(self.map.header())
    }
}

/// Pid of the running core that owns the segment at `path`, if its magic is valid and its pid
/// is alive and not closed.
fn running_core(path: &Path) -> Option<u32> {
    let file = File::open(path).ok()?;
    let pid = read_core_pid(&file).ok()??;
    process_alive(pid).then_some(pid)
}

/// The core pid and state of an existing segment file, read with plain file I/O (no mapping),
/// `None` if it is not a valid, running segment.
fn read_core_pid(file: &File) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; HEADER_SIZE];
    if file.read_at(&mut buf, 0)? < HEADER_SIZE {
        return Ok(None);
    }
    let magic = u64::from_le_bytes(buf[0..8].try_into().unwrap_or_default());
    if magic != MAGIC {
        return Ok(None);
    }
    let at = core::mem::offset_of!(Header, core);
    let pid = u32::from_le_bytes(buf[at..at + 4].try_into().unwrap_or_default());
    let state = u32::from_le_bytes(buf[at + 4..at + 8].try_into().unwrap_or_default());
    Ok((state == core_state::RUNNING && pid != 0).then_some(pid))
}

fn new_header(layout: &Layout, schema: &FeatureSchema) -> Header {
    Header {
        identity: Identity {
            magic: AtomicU64::new(0),
            layout_version: LAYOUT_VERSION,
            header_size: HEADER_SIZE as u32,
            total_size: layout.total_size as u64,
            ring_offset: layout.ring_offset as u64,
            ring_capacity: layout.ring_capacity as u32,
            record_size: size_of::<FeatureRecord>() as u32,
            edge_offset: layout.edge_offset as u64,
            edge_slots: layout.edge_slots as u32,
            slot_size: size_of::<EdgeSlot>() as u32,
            feature_count: schema.len() as u32,
            feature_capacity: FEATURE_CAPACITY as u32,
        },
        schema: SchemaBlock {
            hash: schema.hash(),
            reserved: [0; 7],
            names: schema.to_table(),
        },
        core: CoreSide {
            pid: AtomicU32::new(0),
            state: AtomicU32::new(0),
            heartbeat_ns: AtomicU64::new(0),
            edges_seen: AtomicU64::new(0),
        },
        sidecar: SidecarSide {
            pid: AtomicU32::new(0),
            model_id: AtomicU32::new(0),
            heartbeat_ns: AtomicU64::new(0),
            attaches: AtomicU64::new(0),
            model_version: AtomicU32::new(0),
            reserved: 0,
        },
        producer: ProducerLine {
            head: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        },
        consumer: ConsumerLine {
            tail: AtomicU64::new(0),
        },
        reserved: [0; HEADER_PAD],
    }
}

/// What an opened segment declares, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The file.
    pub path: PathBuf,
    /// Records in the ring.
    pub ring_capacity: usize,
    /// Edge slots.
    pub instruments: usize,
    /// Feature names.
    pub schema: FeatureSchema,
}

/// Opens and validates an existing segment file (privacy, magic, version, sizes, schema hash);
/// checks the schema against `expected` when given.
fn open_validated(
    name: &str,
    expected: Option<&FeatureSchema>,
) -> Result<(Mapping, SegmentInfo), ShmError> {
    let path = segment_path(name)?;
    let io = |what, source| ShmError::Io {
        what,
        path: path.clone(),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| io("opening", e))?;
    let meta = file
        .metadata()
        .map_err(|e| io("reading the metadata of", e))?;
    let uid = effective_uid();
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 || uid.is_some_and(|u| u != meta.uid()) {
        return Err(ShmError::NotPrivate {
            path,
            mode,
            uid: meta.uid(),
            expected_uid: uid.unwrap_or(u32::MAX),
        });
    }
    if meta.len() < HEADER_SIZE as u64 {
        return Err(ShmError::Truncated {
            path,
            len: meta.len(),
            needed: HEADER_SIZE as u64,
        });
    }
    // Map the header alone first; the full geometry is only trusted after validation.
    let header_only = Layout {
        ring_capacity: 0,
        edge_slots: 0,
        ring_offset: HEADER_SIZE,
        edge_offset: HEADER_SIZE,
        total_size: HEADER_SIZE,
    };
    let probe = Mapping::map(&file, &path, header_only)?;
    let (layout, schema) = validate(probe.header(), meta.len(), &path)?;
    drop(probe);
    if let Some(want) = expected
        && *want != schema
    {
        return Err(ShmError::SchemaMismatch {
            detail: want
                .difference(&schema)
                .unwrap_or_else(|| "names differ".to_owned()),
            path,
            found: schema.hash(),
            expected: want.hash(),
        });
    }
    let map = Mapping::map(&file, &path, layout)?;
    let info = SegmentInfo {
        path,
        ring_capacity: layout.ring_capacity,
        instruments: layout.edge_slots,
        schema,
    };
    Ok((map, info))
}

fn validate(h: &Header, file_len: u64, path: &Path) -> Result<(Layout, FeatureSchema), ShmError> {
    let id = &h.identity;
    let magic = id.magic.load(Ordering::Acquire);
    if magic != MAGIC {
        return Err(ShmError::BadMagic {
            path: path.to_owned(),
            found: magic,
            expected: MAGIC,
        });
    }
    if id.layout_version != LAYOUT_VERSION {
        return Err(ShmError::LayoutVersion {
            path: path.to_owned(),
            found: id.layout_version,
            expected: LAYOUT_VERSION,
        });
    }
    let mismatch = |field: &'static str, found: u64, expected: u64| {
        if found == expected {
            Ok(())
        } else {
            Err(ShmError::LayoutMismatch {
                path: path.to_owned(),
                field,
                found,
                expected,
            })
        }
    };
    mismatch("header_size", id.header_size.into(), HEADER_SIZE as u64)?;
    mismatch(
        "record_size",
        id.record_size.into(),
        size_of::<FeatureRecord>() as u64,
    )?;
    mismatch(
        "slot_size",
        id.slot_size.into(),
        size_of::<EdgeSlot>() as u64,
    )?;
    mismatch(
        "feature_capacity",
        id.feature_capacity.into(),
        FEATURE_CAPACITY as u64,
    )?;
    let cap = id.ring_capacity as usize;
    if cap < 2 || !cap.is_power_of_two() {
        return Err(ShmError::LayoutMismatch {
            path: path.to_owned(),
            field: "ring_capacity",
            found: cap as u64,
            expected: cap.max(2).next_power_of_two() as u64,
        });
    }
    let slots = id.edge_slots as usize;
    let layout = Layout::new(cap, slots).ok_or_else(|| ShmError::LayoutMismatch {
        path: path.to_owned(),
        field: "edge_slots",
        found: slots as u64,
        expected: 0,
    })?;
    if slots == 0 {
        return Err(ShmError::LayoutMismatch {
            path: path.to_owned(),
            field: "edge_slots",
            found: 0,
            expected: 1,
        });
    }
    mismatch("ring_offset", id.ring_offset, layout.ring_offset as u64)?;
    mismatch("edge_offset", id.edge_offset, layout.edge_offset as u64)?;
    mismatch("total_size", id.total_size, layout.total_size as u64)?;
    if file_len < layout.total_size as u64 {
        return Err(ShmError::Truncated {
            path: path.to_owned(),
            len: file_len,
            needed: layout.total_size as u64,
        });
    }
    let schema = FeatureSchema::from_table(&h.schema.names, id.feature_count as usize)?;
    if schema.hash() != h.schema.hash {
        return Err(ShmError::SchemaHash {
            path: path.to_owned(),
            stored: h.schema.hash,
            computed: schema.hash(),
        });
    }
    Ok((layout, schema))
}

/// Reads what a segment declares without attaching (for tools and error messages).
pub fn inspect(name: &str) -> Result<(SegmentInfo, SegmentStatus), ShmError> {
    let (map, info) = open_validated(name, None)?;
    let status = status_of(map.header());
    Ok((info, status))
}

/// What the sidecar learns about the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreState {
    /// Running.
    Running,
    /// Finished its run and closed the segment.
    Closed,
    /// Its process is gone without closing.
    Gone,
}

/// The sidecar's end of a segment. Dropping it detaches (clears the sidecar pid).
#[derive(Debug)]
pub struct SidecarSegment {
    map: Arc<Mapping>,
    info: SegmentInfo,
    pid: u32,
    consumer_taken: AtomicBool,
    writer_taken: AtomicBool,
}

impl SidecarSegment {
    /// Opens segment `name`, validates it against `schema`, and attaches as its sidecar with
    /// the given model id and version. Refused while another live sidecar is attached; a dead
    /// one (pid gone, or heartbeat older than [`TAKEOVER_AFTER_NS`]) is taken over.
    pub fn attach(
        name: &str,
        schema: &FeatureSchema,
        model_id: u32,
        model_version: u32,
    ) -> Result<Self, ShmError> {
        let (map, info) = open_validated(name, Some(schema))?;
        let pid = own_pid();
        let h = map.header();
        loop {
            let current = h.sidecar.pid.load(Ordering::Acquire);
            if current != 0 && current != pid {
                let beat = h.sidecar.heartbeat_ns.load(Ordering::Relaxed);
                let fresh = monotonic_ns().saturating_sub(beat) <= TAKEOVER_AFTER_NS;
                if process_alive(current) && fresh {
                    return Err(ShmError::SidecarAttached {
                        path: info.path,
                        pid: current,
                    });
                }
            }
            if h.sidecar
                .pid
                .compare_exchange(current, pid, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                break;
            }
        }
        h.sidecar.model_id.store(model_id, Ordering::Relaxed);
        h.sidecar
            .model_version
            .store(model_version, Ordering::Relaxed);
        h.sidecar
            .heartbeat_ns
            .store(monotonic_ns(), Ordering::Relaxed);
        h.sidecar.attaches.fetch_add(1, Ordering::AcqRel);
        Ok(Self {
            map: Arc::new(map),
            info,
            pid,
            consumer_taken: AtomicBool::new(false),
            writer_taken: AtomicBool::new(false),
        })
    }

    /// What the segment declares.
    pub fn info(&self) -> &SegmentInfo {
        &self.info
    }

    /// The ring's consumer; `None` after the first call.
    pub fn take_consumer(&self) -> Option<FeatureConsumer> {
        (!self.consumer_taken.swap(true, Ordering::AcqRel))
            .then(|| FeatureConsumer::new(Arc::clone(&self.map)))
    }

    /// The edge table's writer; `None` after the first call.
    pub fn take_edge_writer(&self) -> Option<EdgeWriter> {
        (!self.writer_taken.swap(true, Ordering::AcqRel))
            .then(|| EdgeWriter::new(Arc::clone(&self.map)))
    }

    /// A heartbeat handle (for a heartbeat thread).
    pub fn heartbeat(&self) -> Heartbeat {
        Heartbeat {
            map: Arc::clone(&self.map),
        }
    }

    /// The core's state now.
    pub fn core_state(&self) -> CoreState {
        let h = self.map.header();
        if h.core.state.load(Ordering::Acquire) == core_state::CLOSED {
            CoreState::Closed
        } else if !process_alive(h.core.pid.load(Ordering::Relaxed)) {
            CoreState::Gone
        } else {
            CoreState::Running
        }
    }

    /// The shared counters now.
    pub fn status(&self) -> SegmentStatus {
        status_of(self.map.header())
    }
}

impl Drop for SidecarSegment {
    fn drop(&mut self) {
        let _ = self.map.header().sidecar.pid.compare_exchange(
            self.pid,
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }
}

/// Beats the sidecar's heartbeat.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    map: Arc<Mapping>,
}

impl Heartbeat {
    /// Stores `CLOCK_MONOTONIC` now as the sidecar's heartbeat.
    pub fn beat(&self) {
        self.map
            .header()
            .sidecar
            .heartbeat_ns
            .store(monotonic_ns(), Ordering::Relaxed);
    }
}
