//! Read-only memory map of a capture file (`.kcap`, pcap), and releasing what a streaming
//! reader has finished with: the one place in the crate that needs `unsafe`.
#![allow(
    unsafe_code,
    reason = "memmap2::Mmap::map is unsafe because another process could change the file; \
              MADV_DONTNEED is an unchecked advice"
)]

use std::fs::File;
use std::io;

use memmap2::{Advice, Mmap, UncheckedAdvice};

/// Granularity of a release: a multiple of every page size Linux uses (4 KiB, 16 KiB,
/// 64 KiB), so released ranges start and end on page boundaries.
pub(crate) const RELEASE_ALIGN: usize = 64 * 1024;

/// Maps `file` read-only (a shared, read-only file mapping: `MAP_SHARED`, `PROT_READ`) and
/// tells the kernel it will be read front to back (`MADV_SEQUENTIAL`: aggressive read-ahead).
pub(crate) fn map_read_only(file: &File) -> io::Result<Mmap> {
    // SAFETY: the map is read-only and only ever read through bounds-checked slices. Capture
    // files are written once (a `KcapWriter` finishes before readers open the file; pcaps come
    // finished from the capture tool) and never modified in place; a concurrent truncation by
    // another process is outside this contract (it would raise SIGBUS, as with any mmap
    // reader). Every byte read is validated (magic, lengths, CRC32 for .kcap) before use, so
    // changed contents cannot cause out-of-bounds access.
    let map = unsafe { Mmap::map(file) }?;
    // Only a hint: a kernel that refuses it reads the file all the same.
    let _ = map.advise(Advice::Sequential);
    Ok(map)
}

/// Drops the pages of `map[offset..offset + len]` from this process (`MADV_DONTNEED`): its
/// resident set shrinks at once, and a later read of those bytes faults them back in from the
/// file (page cache), unchanged. `offset` and `len` are multiples of [`RELEASE_ALIGN`] inside
/// the map.
pub(crate) fn release(map: &Mmap, offset: usize, len: usize) -> io::Result<()> {
    debug_assert!(
        offset.is_multiple_of(RELEASE_ALIGN)
            && len.is_multiple_of(RELEASE_ALIGN)
            && offset.checked_add(len).is_some_and(|end| end <= map.len()),
        "release of {len} bytes at {offset} in a map of {}",
        map.len()
    );
    if len == 0 {
        return Ok(());
    }
    // SAFETY: `map` comes from `map_read_only`: a shared (`MAP_SHARED`), read-only file
    // mapping. For such a mapping MADV_DONTNEED only unmaps the pages from this process: the
    // next access repopulates them from the up-to-date contents of the file (madvise(2)), which
    // under the contract of `map_read_only` (the file is never modified while mapped) are the
    // same bytes. So every `&[u8]` still borrowed from the range (a record payload the caller
    // holds) keeps reading exactly what it read before: nothing a reference points to changes,
    // and no access can fault differently than a first access to the map would. The range lies
    // inside the map (checked above in debug builds, and by memmap2, which returns an error
    // otherwise). Private or anonymous mappings, where DONTNEED would zero the pages, never
    // reach this function.
    unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len) }
}
