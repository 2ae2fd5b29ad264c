//! Transparent huge pages for the book's large arrays (order pool, order map, level pool).
//!
//! A full-market book holds about a million live orders: 60 to 75 MiB of order pool, order map
//! and levels, read at random. With 4 KiB pages nearly every order look-up also misses the TLB
//! and pays a page walk; with 2 MiB pages the whole working set needs a few dozen TLB entries.
//! Linux backs an anonymous range with transparent huge pages when asked (`madvise`), also when
//! the system setting (`/sys/kernel/mm/transparent_hugepage/enabled`) is `madvise` rather than
//! `always`.
//!
//! [`advise_huge`] asks for the whole 2 MiB extents inside one array's allocation:
//! `MADV_HUGEPAGE` so that pages not yet touched fault in as huge pages (the pools are
//! allocated with their capacity and filled as orders arrive), then `MADV_COLLAPSE` (Linux 6.1)
//! so that pages already touched (the order map is filled with empty entries at construction)
//! are merged into huge pages now rather than whenever `khugepaged` gets to them. It is a hint:
//! it never changes the array's contents, and a kernel that refuses (an old kernel, THP
//! `never`, another system) leaves the book on ordinary pages, only slower. Check that it took
//! effect with `AnonHugePages` in `/proc/PID/smaps_rollup` (`market_day feed` prints it).
#![allow(
    unsafe_code,
    reason = "madvise on the book's own allocations; a hint that cannot change their contents"
)]

use super::l3::L3Books;

/// The x86_64 (and aarch64 4 KiB-granule) transparent huge page size.
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// The 2 MiB-aligned extents wholly inside `[start, start + bytes)`: (first address, length).
#[inline]
fn inner_extents(start: usize, bytes: usize) -> Option<(usize, usize)> {
    let end = start.checked_add(bytes)?;
    let first = start.checked_add(HUGE_PAGE - 1)? & !(HUGE_PAGE - 1);
    let last = end & !(HUGE_PAGE - 1);
    (last > first).then(|| (first, last - first))
}

/// Asks for the memory of `capacity` elements at `ptr` (one allocation: a `Vec`'s buffer and
/// its spare capacity) to be backed by huge pages. Returns the bytes advised (0 when the array
/// holds no whole 2 MiB extent or the kernel refused). Call it off the hot path: collapsing
/// copies the pages already touched.
pub(crate) fn advise_huge<T>(ptr: *const T, capacity: usize) -> usize {
    let bytes = capacity.saturating_mul(core::mem::size_of::<T>());
    let Some((first, len)) = inner_extents(ptr as usize, bytes) else {
        return 0;
    };
    advise(first, len)
}

/// Turns transparent huge pages off for this process and the processes it starts
/// (`prctl(PR_SET_THP_DISABLE)`): books built afterwards stay on 4 KiB pages. For comparisons
/// (`market_day feed --no-huge`) and for systems where huge-page compaction stalls hurt more
/// than TLB misses. Returns whether the kernel accepted it (always `false` off Linux).
pub fn disable_process_huge_pages() -> bool {
    #[cfg(target_os = "linux")]
    {
        let (on, unused): (libc::c_ulong, libc::c_ulong) = (1, 0);
        debug_assert_eq!(unused, 0);
        // SAFETY: PR_SET_THP_DISABLE takes one integer flag and three zero arguments, reads
        // and writes no memory of ours; it only sets the process's huge-page policy.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, on, unused, unused, unused) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    false
}

#[cfg(target_os = "linux")]
fn advise(first: usize, len: usize) -> usize {
    debug_assert!(first.is_multiple_of(HUGE_PAGE) && len.is_multiple_of(HUGE_PAGE) && len > 0);
    let addr = first as *mut libc::c_void;
    // SAFETY: `[first, first + len)` lies inside one live allocation owned by the caller's
    // array (`inner_extents` rounds inward) and is page-aligned, as `madvise` requires.
    // MADV_HUGEPAGE only sets the range's huge-page eligibility; it reads and writes no data.
    let marked = unsafe { libc::madvise(addr, len, libc::MADV_HUGEPAGE) } == 0;
    if !marked {
        return 0;
    }
    // SAFETY: the same range. MADV_COLLAPSE copies the range's touched pages into huge pages
    // with their contents unchanged (the kernel holds the mapping's lock while it does), and
    // leaves untouched extents as they are; a failure (EAGAIN, EINVAL on an old kernel) changes
    // nothing, so it is ignored: the range is still marked for huge pages on its next faults.
    let _ = unsafe { libc::madvise(addr, len, libc::MADV_COLLAPSE) };
    len
}

#[cfg(not(target_os = "linux"))]
fn advise(_first: usize, _len: usize) -> usize {
    0
}

impl L3Books {
    /// Asks for the order pool, the order map and the level pool to be backed by huge pages
    /// (at construction, and again for an array that grew); the bytes advised.
    pub(super) fn advise_huge_pages(&self) -> usize {
        self.orders.advise_huge() + self.map.advise_huge() + self.levels.advise_huge()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extents_are_rounded_inward() {
        let m = HUGE_PAGE;
        assert_eq!(inner_extents(m, 2 * m), Some((m, 2 * m)));
        assert_eq!(inner_extents(m + 16, 3 * m), Some((2 * m, 2 * m)));
        assert_eq!(inner_extents(16, m), None);
        assert_eq!(inner_extents(usize::MAX - 8, 64), None);
    }

    /// Smaps' `AnonHugePages` of the mapping that holds `addr`, in KiB (Linux only).
    #[cfg(target_os = "linux")]
    fn anon_huge_kib_at(addr: usize) -> Option<u64> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&addr);
                continue;
            }
            if inside && let Some(rest) = line.strip_prefix("AnonHugePages:") {
                return rest.split_whitespace().next()?.parse().ok();
            }
        }
        None
    }

    #[test]
    fn a_filled_array_keeps_its_contents_and_gets_huge_pages_where_the_kernel_allows() {
        let n = 3 * HUGE_PAGE / 8;
        let mut v: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9E37)).collect();
        let advised = advise_huge(v.as_ptr(), v.capacity());
        // 24 MiB of u64: at least one whole extent inside, whatever the alignment.
        assert!(advised >= HUGE_PAGE, "advised {advised} bytes");
        for (i, x) in v.iter().enumerate() {
            assert_eq!(*x, (i as u64).wrapping_mul(0x9E37));
        }
        v[n - 1] = 7;
        assert_eq!(v[n - 1], 7);
        // Whether the kernel collapsed depends on the system's THP setting: report, and insist
        // only where THP is available for advised ranges.
        #[cfg(target_os = "linux")]
        {
            let thp = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
                .unwrap_or_default();
            let huge = anon_huge_kib_at(v.as_ptr() as usize + n * 4).unwrap_or(0);
            eprintln!("THP setting: {thp:?}; AnonHugePages of the array's mapping: {huge} KiB");
        }
    }
}
