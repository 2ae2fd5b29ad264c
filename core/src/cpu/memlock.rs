//! Memory locking and pre-faulting, so the hot path never takes a page fault.
#![allow(unsafe_code)]

/// `mlockall` failed (usually `RLIMIT_MEMLOCK` or a missing `CAP_IPC_LOCK`).
#[derive(Debug, thiserror::Error)]
#[error("mlockall failed: {0}")]
pub struct MemlockError(#[source] pub std::io::Error);

/// Locks every current and future page of the process in RAM (`mlockall(MCL_CURRENT |
/// MCL_FUTURE)`).
pub fn lock_all_memory() -> Result<(), MemlockError> {
    // SAFETY: `mlockall` takes only flag bits, touches no memory of ours and has no
    // preconditions; failure is reported through the return value and errno.
    let rc = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(MemlockError(std::io::Error::last_os_error()))
    }
}

/// Page size assumed when the system does not say.
const FALLBACK_PAGE: usize = 4096;

fn page_size() -> usize {
    // SAFETY: `sysconf` reads a system constant; no memory is passed.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n)
        .ok()
        .filter(|&n| n > 0)
        .unwrap_or(FALLBACK_PAGE)
}

/// Writes one byte in every page of `buf` (keeping its value) so the kernel backs the whole
/// buffer now rather than on first use. Returns the number of pages touched. (Pipeline rings
/// are already written slot by slot when they are built, which faults them in.)
pub fn prefault(buf: &mut [u8]) -> usize {
    let page = page_size();
    let mut pages = 0;
    let mut i = 0;
    while let Some(b) = buf.get_mut(i) {
        // A volatile write keeps the compiler from eliding the store of an unchanged value.
        let v = *b;
        // SAFETY: `b` is a valid, exclusive, aligned reference to one byte of `buf`.
        unsafe { std::ptr::write_volatile(b, v) };
        pages += 1;
        i += page;
    }
    pages
}

/// Bytes of stack [`prefault_stack`] touches: well inside a spawned thread's default 2 MiB
/// stack, and more than any stage's deepest call chain needs.
pub const STACK_PREFAULT_BYTES: usize = 256 * 1024;

/// Touches the next [`STACK_PREFAULT_BYTES`] of the calling thread's stack, so the hot loop that
/// runs on it later takes no page fault when its calls go deeper. Call it first thing on a
/// pinned thread (first touch: the pages come from that core's memory). Returns the pages
/// touched.
#[inline(never)]
pub fn prefault_stack() -> usize {
    let mut buf = [0u8; STACK_PREFAULT_BYTES];
    let pages = prefault(&mut buf);
    std::hint::black_box(&buf);
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefault_touches_every_page_and_keeps_contents() {
        let page = page_size();
        let mut buf: Vec<u8> = (0..page * 3 + 1).map(|i| i as u8).collect();
        let want = buf.clone();
        assert_eq!(prefault(&mut buf), 4);
        assert_eq!(buf, want);
        assert_eq!(prefault(&mut []), 0);
    }

    #[test]
    fn prefault_stack_touches_its_whole_window() {
        let pages = std::thread::spawn(prefault_stack).join().unwrap();
        assert_eq!(pages, STACK_PREFAULT_BYTES.div_ceil(page_size()));
    }
}
