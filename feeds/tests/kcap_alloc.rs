//! Reading a capture allocates nothing per record (the mapped or owned buffer is read in place).

use kestrel_core::Timestamp;
use kestrel_feeds::kcap::{KcapHeader, KcapReader, KcapWriter, PayloadKind, Record};
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

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

    let start = thread_allocations();
    let mut n = 0u64;
    let mut sum = 0u64;
    for r in reader.records() {
        let r = r.unwrap();
        n += 1;
        sum += r.payload.len() as u64 + r.seq;
    }
    let used = thread_allocations() - start;
    assert_eq!(n, 20_000);
    assert!(sum > 0);
    assert_eq!(used, 0, "allocations while reading");
}
