//! Read-only memory map of a capture file (`.kcap`, pcap): the one place in the crate that
//! needs `unsafe`.
#![allow(
    unsafe_code,
    reason = "memmap2::Mmap::map is unsafe because another process could change the file"
)]

use std::fs::File;
use std::io;

use memmap2::Mmap;

/// Maps `file` read-only.
pub(crate) fn map_read_only(file: &File) -> io::Result<Mmap> {
    // SAFETY: the map is read-only and only ever read through bounds-checked slices. Capture
    // files are written once (a `KcapWriter` finishes before readers open the file; pcaps come
    // finished from the capture tool) and never modified in place; a concurrent truncation by
    // another process is outside this contract (it would raise SIGBUS, as with any mmap
    // reader). Every byte read is validated (magic, lengths, CRC32 for .kcap) before use, so
    // changed contents cannot cause out-of-bounds access.
    unsafe { Mmap::map(file) }
}
