//! Reading a capture allocates nothing per record (the mapped or owned buffer is read in place).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kestrel_core::Timestamp;
use kestrel_feeds::kcap::{KcapHeader, KcapReader, KcapWriter, PayloadKind, Record};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls on the current thread.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn reading_records_does_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.kcap");
    let header = KcapHeader::new(PayloadKind::MoldUdp64Itch50, "A", Timestamp(0));
    let mut w = KcapWriter::create(&path, &header).unwrap();
    let payload = [3u8; 300];
    for i in 0..20_000u64 {
        w.write_record(&Record {
            recv_ts: Timestamp(i),
            seq: i,
            channel: 1,
            payload: &payload[..(i % 300) as usize],
        })
        .unwrap();
    }
    w.finish().unwrap();
    let reader = KcapReader::open(&path).unwrap();

    let start = allocations();
    let mut n = 0u64;
    let mut sum = 0u64;
    for r in reader.records() {
        let r = r.unwrap();
        n += 1;
        sum += r.payload.len() as u64 + r.seq;
    }
    let used = allocations() - start;
    assert_eq!(n, 20_000);
    assert!(sum > 0);
    assert_eq!(used, 0, "allocations while reading");
}
