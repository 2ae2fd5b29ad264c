//! Helpers every crate's tests share (a dev-dependency only; it depends on no Kestrel crate, so
//! `core`, `feeds`, `strategy` and the `tests` crate can all use it).
//!
//! [`CountingAllocator`] is the one counting allocator of the workspace. It sees **every**
//! thread: while [`count_allocations`] runs, each allocation is counted under the name of the
//! thread that made it (the OS thread name: `feed`, `consumer`, `ops`, ...), and allocations of
//! the thread that called `count_allocations` under [`CALLER`]. A test installs it with:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;
//! ```
//!
//! Counting runs one at a time per test binary (a lock inside [`count_allocations`]). Threads of
//! other tests that run meanwhile and happen to share a name would be counted too: a test file
//! that counts should make every test that starts pipeline threads go through
//! [`count_allocations`] (or [`serial`]).
//!
//! [`cli`] holds the helpers of the tests that run the `kestrel` binary.
#![allow(unsafe_code)] // A global allocator is an `unsafe impl`; each block says why it is sound.

pub mod cli;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The key under which the thread that called [`count_allocations`] is counted.
pub const CALLER: &str = "<caller>";

/// Distinct thread names one counting run can tell apart; further threads share the last slot.
const SLOTS: usize = 64;
/// Linux thread names are at most 15 bytes.
const NAME_BYTES: usize = 16;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Bytes allocated and not yet freed, by every thread (always tracked).
static LIVE: AtomicI64 = AtomicI64::new(0);
/// The most `LIVE` reached since the current counting run began.
static PEAK: AtomicI64 = AtomicI64::new(0);
static TABLE_LOCK: AtomicBool = AtomicBool::new(false);
static USED: AtomicUsize = AtomicUsize::new(0);
static COUNTS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static BYTES: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
static mut NAMES: [[u8; NAME_BYTES]; SLOTS] = [[0; NAME_BYTES]; SLOTS];

thread_local! {
    static IS_CALLER: Cell<bool> = const { Cell::new(false) };
    /// Every allocation this thread has made since it started (always counted).
    static THREAD_TOTAL: Cell<u64> = const { Cell::new(0) };
}

/// Allocations (and reallocations) the calling thread has made since it started: a running
/// total, always counted, so `thread_allocations()` before and after a piece of code gives what
/// that code allocated on this thread. (For other threads, use [`count_allocations`].)
pub fn thread_allocations() -> u64 {
    THREAD_TOTAL.with(Cell::get)
}

/// The system allocator, counting every allocation (and reallocation) made by any thread while
/// [`count_allocations`] runs. Install it as the `#[global_allocator]` of a test binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

/// Moves the live-bytes total by `delta` and keeps the peak.
fn live(delta: i64) {
    let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    if delta > 0 {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn note(bytes: usize) {
    // `try_with`: during thread teardown the thread-local may be gone; such allocations are not
    // the thread's work.
    let _ = THREAD_TOTAL.try_with(|c| c.set(c.get() + 1));
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let mut name = [0u8; NAME_BYTES];
    // `try_with`: allocations during thread teardown are counted under the OS name instead.
    if IS_CALLER.try_with(Cell::get).unwrap_or(false) {
        name[..CALLER.len()].copy_from_slice(CALLER.as_bytes());
    } else {
        // SAFETY: PR_GET_NAME writes at most 16 bytes (the name and its NUL) into the buffer we
        // pass, which is 16 bytes long and lives for the call. It allocates nothing.
        let rc = unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) };
        debug_assert!(rc == 0 || rc == -1);
    }
    let slot = slot_for(&name);
    if let (Some(c), Some(b)) = (COUNTS.get(slot), BYTES.get(slot)) {
        c.fetch_add(1, Ordering::Relaxed);
        b.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// The table slot of `name`, adding it if new (a spin lock: no allocation, held for a few
/// comparisons).
fn slot_for(name: &[u8; NAME_BYTES]) -> usize {
    while TABLE_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    let used = USED.load(Ordering::Relaxed);
    // SAFETY: NAMES is only read or written while TABLE_LOCK is held (here and in
    // `snapshot`), so this access is exclusive; `used <= SLOTS` by construction.
    let names = unsafe { &mut *std::ptr::addr_of_mut!(NAMES) };
    debug_assert!(used <= SLOTS);
    let slot = match names.iter().take(used).position(|n| n == name) {
        Some(i) => i,
        None if used < SLOTS => {
            if let Some(n) = names.get_mut(used) {
                *n = *name;
            }
            USED.store(used + 1, Ordering::Relaxed);
            used
        }
        None => SLOTS - 1,
    };
    TABLE_LOCK.store(false, Ordering::Release);
    slot
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is exactly the system allocator's. Counting touches only atomics, a
// const-initialised thread-local and a static table under a spin lock; it never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        live(layout.size() as i64);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        live(layout.size() as i64);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        live(new_size as i64 - layout.size() as i64);
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live(-(layout.size() as i64));
        // SAFETY: `ptr` was allocated by `System` (through us) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations per thread name during one [`count_allocations`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocCounts {
    /// `(thread name, allocations, bytes requested)`, in order of first allocation.
    pub threads: Vec<(String, u64, u64)>,
    /// The most heap (bytes allocated and not freed, every thread) in use at any moment of the
    /// run, above what was in use when it began: what the run needed at its peak.
    pub peak_growth: u64,
}

impl AllocCounts {
    /// Allocations made by threads named `name` ([`CALLER`] for the calling thread).
    pub fn of(&self, name: &str) -> u64 {
        self.threads
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, c, _)| *c)
            .sum()
    }

    /// Bytes requested by threads named `name`.
    pub fn bytes_of(&self, name: &str) -> u64 {
        self.threads
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, _, b)| *b)
            .sum()
    }

    /// Allocations made by the calling thread.
    pub fn caller(&self) -> u64 {
        self.of(CALLER)
    }

    /// Allocations made by every thread.
    pub fn total(&self) -> u64 {
        self.threads.iter().map(|(_, c, _)| *c).sum()
    }
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the lock that [`count_allocations`] takes: a test that starts threads and must not run
/// while another test of the same binary counts can hold it for its duration.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` and returns its result with the allocations every thread made meanwhile, by thread
/// name. Only one counting run at a time per process (others wait).
pub fn count_allocations<R>(f: impl FnOnce() -> R) -> (R, AllocCounts) {
    let _serial = serial();
    reset();
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    IS_CALLER.with(|c| c.set(true));
    ENABLED.store(true, Ordering::SeqCst);
    let r = f();
    ENABLED.store(false, Ordering::SeqCst);
    IS_CALLER.with(|c| c.set(false));
    let mut counts = snapshot();
    counts.peak_growth = u64::try_from(PEAK.load(Ordering::SeqCst) - base).unwrap_or(0);
    (r, counts)
}

fn reset() {
    for (c, b) in COUNTS.iter().zip(&BYTES) {
        c.store(0, Ordering::Relaxed);
        b.store(0, Ordering::Relaxed);
    }
    while TABLE_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    USED.store(0, Ordering::Relaxed);
    TABLE_LOCK.store(false, Ordering::Release);
}

fn snapshot() -> AllocCounts {
    while TABLE_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::hint::spin_loop();
    }
    let used = USED.load(Ordering::Relaxed).min(SLOTS);
    // SAFETY: TABLE_LOCK is held (see `slot_for`); we copy the names out before releasing it.
    let names: [[u8; NAME_BYTES]; SLOTS] = unsafe { *std::ptr::addr_of!(NAMES) };
    TABLE_LOCK.store(false, Ordering::Release);
    let threads = names
        .iter()
        .take(used)
        .enumerate()
        .map(|(i, raw)| {
            let end = raw.iter().position(|&b| b == 0).unwrap_or(NAME_BYTES);
            let name = String::from_utf8_lossy(raw.get(..end).unwrap_or_default()).into_owned();
            let count = COUNTS.get(i).map_or(0, |c| c.load(Ordering::Relaxed));
            let bytes = BYTES.get(i).map_or(0, |b| b.load(Ordering::Relaxed));
            (name, count, bytes)
        })
        .collect();
    AllocCounts {
        threads,
        peak_growth: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static ALLOC: CountingAllocator = CountingAllocator;

    fn run_worker(allocations: usize) -> AllocCounts {
        let ((), counts) = count_allocations(|| {
            let v: Vec<u64> = Vec::with_capacity(10);
            std::hint::black_box(&v);
            std::thread::Builder::new()
                .name("worker-a".into())
                .spawn(move || {
                    for i in 0..allocations {
                        std::hint::black_box(vec![i; 100]);
                    }
                })
                .unwrap()
                .join()
                .unwrap();
        });
        counts
    }

    #[test]
    fn counts_every_thread_by_name() {
        let three = run_worker(3);
        let six = run_worker(6);
        assert!(three.caller() >= 1, "{three:?}");
        // The thread's own start-up allocates the same in both runs.
        assert_eq!(
            six.of("worker-a") - three.of("worker-a"),
            3,
            "{six:?} {three:?}"
        );
        assert_eq!(
            six.bytes_of("worker-a") - three.bytes_of("worker-a"),
            3 * 100 * 8
        );
        assert_eq!(six.caller(), three.caller());
        // Nothing is counted outside a counting run.
        let (_, quiet) = count_allocations(|| ());
        assert_eq!(quiet.total(), 0, "{quiet:?}");
    }

    #[test]
    fn the_peak_is_what_was_held_at_once() {
        // Ten 1 MiB buffers one after the other need 1 MiB; held together, 10 MiB.
        let (_, one_at_a_time) = count_allocations(|| {
            for _ in 0..10 {
                std::hint::black_box(vec![1u8; 1 << 20]);
            }
        });
        let (_, all_at_once) = count_allocations(|| {
            let v: Vec<Vec<u8>> = (0..10).map(|_| vec![1u8; 1 << 20]).collect();
            std::hint::black_box(&v);
        });
        // The live-bytes total is process-wide: the test harness's own threads may free a few
        // hundred bytes during a run (seen: 495), which lowers the measured growth by as much.
        // `SLACK` allows for that; it is far below the 9 MiB that separates the two cases.
        const SLACK: u64 = 64 << 10;
        assert!(
            one_at_a_time.peak_growth >= (1 << 20) - SLACK,
            "{one_at_a_time:?}"
        );
        assert!(one_at_a_time.peak_growth < 2 << 20, "{one_at_a_time:?}");
        assert!(
            all_at_once.peak_growth >= (10 << 20) - SLACK,
            "{all_at_once:?}"
        );
    }

    #[test]
    fn thread_totals_count_this_thread_only() {
        // Its allocations and frees move the process-wide live total: not during a peak count.
        let _serial = serial();
        let before = thread_allocations();
        std::hint::black_box(vec![1u8; 10]);
        std::hint::black_box(Box::new(5u64));
        assert_eq!(thread_allocations() - before, 2);
        // Another thread's allocations are not this thread's: spawning a thread that allocates
        // once costs this thread as much as spawning one that allocates fifty times.
        let spawn = |n: usize| {
            let before = thread_allocations();
            std::thread::spawn(move || {
                for i in 0..n {
                    std::hint::black_box(vec![i; 10]);
                }
            })
            .join()
            .unwrap();
            thread_allocations() - before
        };
        let _ = spawn(1); // warm-up (lazy thread machinery)
        assert_eq!(spawn(1), spawn(50));
    }
}
