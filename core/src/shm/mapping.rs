//! The memory map of a segment file and typed access into it. Every pointer into the segment
//! is made here, from offsets validated once when the mapping is built.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;

use memmap2::MmapMut;

use super::error::ShmError;
use super::layout::{EdgeSlot, FeatureRecord, HEADER_SIZE, Header, Layout};

/// A mapped segment with its validated geometry.
#[derive(Debug)]
pub(crate) struct Mapping {
    /// Keeps the map alive; never accessed through a reference (all access goes through
    /// `base`).
    _map: MmapMut,
    base: NonNull<u8>,
    len: usize,
    layout: Layout,
    path: PathBuf,
}

// SAFETY: the mapping is plain shared memory. Every location that more than one thread or
// process writes is an atomic (header lines, seqlock slots); feature records are written only by
// the single producer before it publishes them with a release store and read only by the single
// consumer after an acquire load (the SPSC protocol in `ring.rs`). Sending or sharing the
// handle across threads therefore adds no access that the protocols do not already order.
unsafe impl Send for Mapping {}
// SAFETY: see `Send` above.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `file` (already sized) read-write. `layout` must describe a file of at least
    /// `layout.total_size` bytes; checked here.
    pub(crate) fn map(file: &File, path: &Path, layout: Layout) -> Result<Self, ShmError> {
        let io = |what, source| ShmError::Io {
            what,
            path: path.to_owned(),
            source,
        };
        let len = file
            .metadata()
            .map_err(|e| io("reading the size of", e))?
            .len();
        if len < layout.total_size as u64 || layout.total_size < HEADER_SIZE {
            return Err(ShmError::Truncated {
                path: path.to_owned(),
                len,
                needed: layout.total_size.max(HEADER_SIZE) as u64,
            });
        }
        // SAFETY: the file is a private (mode 0600) segment shared only with the peer process
        // of the same user; concurrent modification by that peer is the point of the mapping
        // and is only ever observed through atomics and the SPSC/seqlock protocols (never
        // through references to plain data that the peer writes).
        let mut map =
            unsafe { memmap2::MmapOptions::new().map_mut(file) }.map_err(|e| io("mapping", e))?;
        debug_assert!(map.len() >= layout.total_size);
        let base = NonNull::new(map.as_mut_ptr()).ok_or_else(|| {
            io(
                "mapping",
                std::io::Error::other("the map returned a null pointer"),
            )
        })?;
        Ok(Self {
            len: map.len(),
            _map: map,
            base,
            layout,
            path: path.to_owned(),
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The validated geometry.
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The header.
    #[inline]
    pub(crate) fn header(&self) -> &Header {
        debug_assert!(self.len >= size_of::<Header>());
        debug_assert!((self.base.as_ptr() as usize).is_multiple_of(align_of::<Header>()));
        // SAFETY: the map is at least `HEADER_SIZE` (= size_of::<Header>()) bytes (checked in
        // `map`) and page-aligned (mmap), which satisfies `Header`'s 64-byte alignment; it lives
        // as long as `self`. Fields that change after creation are atomics; the plain fields are
        // written once before the magic is published and never written again, so a shared
        // reference never observes a write.
        unsafe { &*self.base.as_ptr().cast::<Header>() }
    }

    /// Writes a whole header (creation only, before anyone can see the magic).
    pub(crate) fn write_header(&mut self, header: Header) {
        debug_assert!(self.len >= size_of::<Header>());
        // SAFETY: as in `header`: in bounds and aligned. `&mut self` proves no reference into
        // the header is alive in this process; the peer ignores the segment until the magic,
        // which `header` carries as zero, is stored afterwards.
        unsafe { self.base.as_ptr().cast::<Header>().write(header) }
    }

    /// Edge slot `index`, if in range.
    #[inline]
    pub(crate) fn slot(&self, index: usize) -> Option<&EdgeSlot> {
        if index >= self.layout.edge_slots {
            return None;
        }
        let offset = self.layout.edge_offset + index * size_of::<EdgeSlot>();
        debug_assert!(offset + size_of::<EdgeSlot>() <= self.len);
        debug_assert!(offset.is_multiple_of(align_of::<EdgeSlot>()));
        // SAFETY: `index < edge_slots`, and the layout (checked against the map's length in
        // `map`) puts every slot inside the map at a multiple of 64 from a page-aligned base.
        // `EdgeSlot` is all atomics, so shared references are sound while the peer writes.
        Some(unsafe { &*self.base.as_ptr().add(offset).cast::<EdgeSlot>() })
    }

    /// Pointer to feature record `index & (capacity - 1)`.
    #[inline]
    pub(crate) fn record_ptr(&self, index: u64) -> *mut FeatureRecord {
        let i = (index as usize) & (self.layout.ring_capacity - 1);
        let offset = self.layout.ring_offset + i * size_of::<FeatureRecord>();
        debug_assert!(offset + size_of::<FeatureRecord>() <= self.len);
        debug_assert!(offset.is_multiple_of(align_of::<FeatureRecord>()));
        // SAFETY: `i < ring_capacity` (a power of two, masked), so the record lies inside the
        // map (layout checked in `map`); no reference is made, only a pointer.
        unsafe { self.base.as_ptr().add(offset).cast::<FeatureRecord>() }
    }
}
