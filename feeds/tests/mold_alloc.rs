//! The MoldUDP64 hot path allocates nothing after construction: packet building into a sized
//! buffer, parsing, and sequencing with duplicates, reordering and loss.

use kestrel_feeds::moldudp64::{
    MoldPacket, MoldPacketBuilder, MoldSequencer, MoldSession, SeqEvent, SequencerConfig,
};
use kestrel_test_support::thread_allocations;

/// The workspace's one counting allocator (`kestrel-test-support`): `thread_allocations()` is
/// this thread's running total.
#[global_allocator]
static ALLOC: kestrel_test_support::CountingAllocator = kestrel_test_support::CountingAllocator;

#[test]
fn builder_parser_and_sequencer_do_not_allocate() {
    // Prepare the wire outside the measured section.
    let session = MoldSession::from_name("ALLOC").unwrap();
    let mut builder = MoldPacketBuilder::new(session, 1);
    let mut out = Vec::with_capacity(builder.max_packet());
    let mut packets = Vec::new();
    let msg = [7u8; 37];
    for _ in 0..20_000 {
        if builder.push(&msg, &mut out).unwrap() {
            packets.push(out.clone());
        }
    }
    let mut wire: Vec<&[u8]> = Vec::new();
    for (i, pair) in packets.chunks(2).enumerate() {
        if i % 97 == 13 {
            continue; // lost on the wire
        }
        wire.extend(pair.iter().rev().map(Vec::as_slice)); // reordered
        if i % 5 == 0 {
            wire.push(&pair[0]); // duplicated
        }
    }
    let mut seq = MoldSequencer::new(SequencerConfig {
        reorder_packets: 8,
        ..Default::default()
    });

    let before = thread_allocations();
    // Building into a buffer with capacity.
    let mut b2 = MoldPacketBuilder::new(session, 1);
    let b2_allocs = thread_allocations() - before;
    let start = thread_allocations();
    let mut flushed = 0;
    for _ in 0..10_000 {
        flushed += usize::from(b2.push(&msg, &mut out).unwrap());
    }
    // Parsing and sequencing.
    let mut delivered = 0u64;
    let mut lost = 0u64;
    let mut bytes = 0usize;
    for d in &wire {
        let p = MoldPacket::parse(d).unwrap();
        bytes += p.messages().map(|(_, m)| m.len()).sum::<usize>();
        seq.on_packet(d, |e| match e {
            SeqEvent::Message { .. } => delivered += 1,
            SeqEvent::Lost(r) => lost += r.len(),
            SeqEvent::SessionChanged { .. } => {}
        })
        .unwrap();
    }
    seq.flush(&mut |e| {
        if let SeqEvent::Lost(r) = e {
            lost += r.len();
        }
    });
    let used = thread_allocations() - start;

    assert_eq!(b2_allocs, 1, "the builder allocates its buffer once");
    assert!(flushed > 100);
    assert!(bytes > 0);
    assert!(lost > 0 && delivered > 0);
    assert_eq!(
        delivered + lost,
        builder.next_sequence() - 1 - u64::from(builder.pending_messages())
    );
    assert_eq!(used, 0, "allocations on the hot path");
}
