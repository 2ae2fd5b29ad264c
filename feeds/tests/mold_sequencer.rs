//! MoldUDP64 sequencer behaviour: in order, duplicates, overlaps, gaps, reordering, loss,
//! end of session, heartbeats, session changes, and a property test against a reference.

use kestrel_feeds::moldudp64::{
    MoldPacketBuilder, MoldSequencer, MoldSession, PacketOutcome, SeqEvent, SeqRange,
    SequencerConfig,
};
use proptest::prelude::*;

#[derive(Debug, Default)]
struct Sink {
    delivered: Vec<u64>,
    lost: Vec<SeqRange>,
    changes: usize,
}

impl Sink {
    fn take(&mut self) -> impl FnMut(SeqEvent<'_>) + '_ {
        |e| match e {
            SeqEvent::Message { seq, payload } => {
                assert_eq!(payload, seq.to_be_bytes(), "payload of {seq}");
                self.delivered.push(seq);
            }
            SeqEvent::Lost(r) => self.lost.push(r),
            SeqEvent::SessionChanged { .. } => self.changes += 1,
        }
    }
}

fn session(name: &str) -> MoldSession {
    MoldSession::from_name(name).unwrap()
}

/// One packet per chunk of `sizes` messages, starting at sequence `first`; message payload is
/// its sequence number (8 bytes BE).
fn packets(name: &str, first: u64, sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut b = MoldPacketBuilder::new(session(name), first);
    let mut out = Vec::new();
    let mut result = Vec::new();
    for &n in sizes {
        for _ in 0..n {
            let seq = b.next_sequence();
            assert!(!b.push(&seq.to_be_bytes(), &mut out).unwrap());
        }
        assert!(b.finish_into(&mut out));
        result.push(out.clone());
    }
    result
}

fn heartbeat(name: &str, next: u64) -> Vec<u8> {
    let b = MoldPacketBuilder::new(session(name), next);
    let mut out = Vec::new();
    b.heartbeat_into(&mut out);
    out
}

fn end_of_session(name: &str, next: u64) -> Vec<u8> {
    let mut b = MoldPacketBuilder::new(session(name), next);
    let mut out = Vec::new();
    assert!(!b.end_of_session_into(&mut out));
    out
}

fn seqr(config: usize) -> MoldSequencer {
    MoldSequencer::new(SequencerConfig {
        reorder_packets: config,
        ..SequencerConfig::default()
    })
}

#[test]
fn in_order_delivers_everything_once() {
    let p = packets("A", 1, &[3, 2, 4]);
    let mut s = seqr(4);
    let mut sink = Sink::default();
    for d in &p {
        assert_eq!(s.on_packet(d, sink.take()), Ok(PacketOutcome::InOrder));
    }
    assert_eq!(sink.delivered, (1..=9).collect::<Vec<_>>());
    assert_eq!(s.stats().messages_delivered, 9);
    assert_eq!(s.expected(), Some(10));
    assert!(sink.lost.is_empty());
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let p = packets("A", 1, &[3, 2]);
    let mut s = seqr(4);
    let mut sink = Sink::default();
    s.on_packet(&p[0], sink.take()).unwrap();
    assert_eq!(
        s.on_packet(&p[0], sink.take()),
        Ok(PacketOutcome::Duplicate)
    );
    s.on_packet(&p[1], sink.take()).unwrap();
    assert_eq!(
        s.on_packet(&p[1], sink.take()),
        Ok(PacketOutcome::Duplicate)
    );
    assert_eq!(sink.delivered, vec![1, 2, 3, 4, 5]);
    assert_eq!(s.stats().duplicate_packets, 2);
    assert_eq!(s.stats().duplicate_messages, 5);
}

#[test]
fn partial_overlap_delivers_only_new_messages() {
    // A retransmission-style packet 2..=6 after 1..=3 was delivered.
    let first = packets("A", 1, &[3]);
    let overlap = packets("A", 2, &[5]);
    let mut s = seqr(4);
    let mut sink = Sink::default();
    s.on_packet(&first[0], sink.take()).unwrap();
    assert_eq!(
        s.on_packet(&overlap[0], sink.take()),
        Ok(PacketOutcome::PartialOverlap { skipped: 2 })
    );
    assert_eq!(sink.delivered, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(s.stats().partial_overlaps, 1);
    assert_eq!(s.stats().duplicate_messages, 2);
}

#[test]
fn gap_holds_then_late_packet_fills_it_in_order() {
    let p = packets("A", 1, &[2, 2, 2, 2]);
    let mut s = seqr(4);
    let mut sink = Sink::default();
    s.on_packet(&p[0], sink.take()).unwrap();
    assert_eq!(s.on_packet(&p[2], sink.take()), Ok(PacketOutcome::Held));
    assert_eq!(s.on_packet(&p[3], sink.take()), Ok(PacketOutcome::Held));
    assert_eq!(s.pending_gap(), Some(SeqRange { first: 3, end: 5 }));
    assert_eq!(s.held_packets(), 2);
    assert_eq!(sink.delivered, vec![1, 2]);
    // Duplicate of a held packet is dropped.
    assert_eq!(
        s.on_packet(&p[3], sink.take()),
        Ok(PacketOutcome::Duplicate)
    );
    assert_eq!(s.on_packet(&p[1], sink.take()), Ok(PacketOutcome::InOrder));
    assert_eq!(sink.delivered, (1..=8).collect::<Vec<_>>());
    assert_eq!(s.held_packets(), 0);
    assert_eq!(s.stats().reorders_filled, 1);
    assert_eq!(s.stats().gaps_lost, 0);
    assert!(s.pending_gap().is_none());
}

#[test]
fn gap_is_lost_when_buffer_overflows() {
    let p = packets("A", 1, &[1, 1, 1, 1, 1, 1]);
    let mut s = seqr(2);
    let mut sink = Sink::default();
    s.on_packet(&p[0], sink.take()).unwrap();
    // Sequence 2 never arrives.
    assert_eq!(s.on_packet(&p[2], sink.take()), Ok(PacketOutcome::Held));
    assert_eq!(s.on_packet(&p[3], sink.take()), Ok(PacketOutcome::Held));
    assert!(sink.lost.is_empty());
    // Buffer full: the gap [2, 3) is declared lost, 3 and 4 delivered, then 5 in order.
    assert_eq!(s.on_packet(&p[4], sink.take()), Ok(PacketOutcome::InOrder));
    assert_eq!(sink.lost, vec![SeqRange { first: 2, end: 3 }]);
    assert_eq!(sink.delivered, vec![1, 3, 4, 5]);
    // The late packet is now a duplicate.
    assert_eq!(
        s.on_packet(&p[1], sink.take()),
        Ok(PacketOutcome::Duplicate)
    );
    assert_eq!(s.stats().messages_lost, 1);
    assert_eq!(s.stats().gaps_lost, 1);
}

#[test]
fn end_of_session_flushes_gaps_and_held_packets() {
    let p = packets("A", 1, &[2, 2, 2]);
    let mut s = seqr(8);
    let mut sink = Sink::default();
    s.on_packet(&p[0], sink.take()).unwrap();
    s.on_packet(&p[2], sink.take()).unwrap();
    // The publisher sent up to 8 (end of session says next = 9); 3..=4 and 7..=8 never came.
    let eos = {
        let mut b = MoldPacketBuilder::new(session("A"), 9);
        let mut out = Vec::new();
        b.end_of_session_into(&mut out);
        out
    };
    assert_eq!(
        s.on_packet(&eos, sink.take()),
        Ok(PacketOutcome::EndOfSession)
    );
    assert!(s.ended());
    assert_eq!(sink.delivered, vec![1, 2, 5, 6]);
    assert_eq!(
        sink.lost,
        vec![SeqRange { first: 3, end: 5 }, SeqRange { first: 7, end: 9 }]
    );
    assert_eq!(s.stats().end_of_sessions, 1);
    assert_eq!(end_of_session("A", 9), eos);
}

#[test]
fn heartbeat_reveals_a_gap_that_flush_reports() {
    let p = packets("A", 1, &[2]);
    let mut s = seqr(4);
    let mut sink = Sink::default();
    s.on_packet(&p[0], sink.take()).unwrap();
    assert_eq!(
        s.on_packet(&heartbeat("A", 3), sink.take()),
        Ok(PacketOutcome::Heartbeat)
    );
    assert!(s.pending_gap().is_none());
    s.on_packet(&heartbeat("A", 6), sink.take()).unwrap();
    assert_eq!(s.pending_gap(), Some(SeqRange { first: 3, end: 6 }));
    s.flush(&mut sink.take());
    assert_eq!(sink.lost, vec![SeqRange { first: 3, end: 6 }]);
    assert_eq!(s.stats().heartbeats, 2);
}

#[test]
fn session_change_is_counted_and_resets() {
    let a = packets("A", 1, &[2]);
    let b = packets("B", 1, &[3]);
    let mut s = seqr(4);
    let mut sink = Sink::default();
    s.on_packet(&a[0], sink.take()).unwrap();
    assert_eq!(s.on_packet(&b[0], sink.take()), Ok(PacketOutcome::InOrder));
    assert_eq!(sink.changes, 1);
    assert_eq!(s.stats().session_changes, 1);
    assert_eq!(s.session(), Some(session("B")));
    assert_eq!(sink.delivered, vec![1, 2, 1, 2, 3]);
}

#[test]
fn malformed_packet_is_counted_and_state_kept() {
    let p = packets("A", 1, &[2, 1]);
    let mut s = seqr(4);
    let mut sink = Sink::default();
    s.on_packet(&p[0], sink.take()).unwrap();
    assert!(s.on_packet(&p[1][..p[1].len() - 1], sink.take()).is_err());
    s.on_packet(&p[1], sink.take()).unwrap();
    assert_eq!(sink.delivered, vec![1, 2, 3]);
    assert_eq!(s.stats().malformed, 1);
}

#[test]
fn joining_mid_stream_starts_at_first_packet() {
    let p = packets("A", 100, &[2, 2]);
    let mut s = MoldSequencer::new(SequencerConfig {
        first_expected: None,
        ..SequencerConfig::default()
    });
    let mut sink = Sink::default();
    for d in &p {
        s.on_packet(d, sink.take()).unwrap();
    }
    assert_eq!(sink.delivered, vec![100, 101, 102, 103]);
    assert!(sink.lost.is_empty());
}

#[derive(Clone, Debug)]
enum Op {
    Keep,
    Drop,
    Duplicate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![6 => Just(Op::Keep), 1 => Just(Op::Drop), 1 => Just(Op::Duplicate)]
}

proptest! {
    /// Whatever the network does to a sequenced stream (shuffle within a window, duplicate,
    /// drop), delivered sequences are unique and increasing and, after a flush, delivered plus
    /// reported-lost sequences are exactly 1 .. highest seen.
    #[test]
    fn delivery_is_exactly_once_in_order(
        sizes in prop::collection::vec(1usize..5, 1..40),
        ops in prop::collection::vec(op(), 40),
        swaps in prop::collection::vec((0usize..40, 0usize..6), 0..30),
        capacity in 1usize..6,
    ) {
        let pkts = packets("P", 1, &sizes);
        let mut wire: Vec<&Vec<u8>> = Vec::new();
        for (i, p) in pkts.iter().enumerate() {
            match ops[i] {
                Op::Keep => wire.push(p),
                Op::Drop => {}
                Op::Duplicate => { wire.push(p); wire.push(p); }
            }
        }
        for (at, dist) in swaps {
            if wire.is_empty() { break; }
            let a = at % wire.len();
            let b = (a + dist).min(wire.len() - 1);
            wire.swap(a, b);
        }
        let mut s = seqr(capacity);
        let mut sink = Sink::default();
        let mut highest = 0u64;
        for d in &wire {
            let first = u64::from_be_bytes(d[10..18].try_into().unwrap());
            let count = u64::from(u16::from_be_bytes([d[18], d[19]]));
            highest = highest.max(first + count - 1);
            s.on_packet(d, sink.take()).unwrap();
        }
        s.flush(&mut sink.take());
        prop_assert!(sink.delivered.windows(2).all(|w| w[0] < w[1]));
        let mut covered = sink.delivered.clone();
        for r in &sink.lost {
            prop_assert!(!r.is_empty());
            covered.extend(r.first..r.end);
        }
        covered.sort_unstable();
        prop_assert_eq!(covered, (1..=highest).collect::<Vec<_>>());
        let st = s.stats();
        prop_assert_eq!(st.messages_delivered + st.messages_lost, highest);
        prop_assert_eq!(s.held_packets(), 0);
    }

    /// Without drops and with reordering inside the buffer's reach, nothing is lost.
    #[test]
    fn reorder_within_capacity_loses_nothing(
        sizes in prop::collection::vec(1usize..4, 2..30),
        swaps in prop::collection::vec((0usize..30, 1usize..3), 0..10),
    ) {
        let pkts = packets("P", 1, &sizes);
        let mut order: Vec<usize> = (0..pkts.len()).collect();
        // Disjoint adjacent-ish swaps keep every packet within 2 places of its slot.
        let mut touched = vec![false; order.len()];
        for (at, dist) in swaps {
            let a = at % order.len();
            let b = a + dist;
            if b < order.len() && !touched[a..=b].iter().any(|&t| t) {
                order.swap(a, b);
                touched[a..=b].iter_mut().for_each(|t| *t = true);
            }
        }
        let mut s = seqr(4);
        let mut sink = Sink::default();
        for &i in &order {
            s.on_packet(&pkts[i], sink.take()).unwrap();
        }
        let total: usize = sizes.iter().sum();
        prop_assert_eq!(sink.delivered, (1..=total as u64).collect::<Vec<_>>());
        prop_assert!(sink.lost.is_empty());
    }
}

#[test]
fn huge_sequence_jumps_saturate_counters_instead_of_panicking() {
    let mut s = seqr(1);
    let mut lost = Vec::new();
    let mut sink = |e: SeqEvent<'_>| {
        if let SeqEvent::Lost(r) = e {
            lost.push(r);
        }
    };
    for name in ["A", "B", "C"] {
        for first in [u64::MAX - 10, u64::MAX - 5] {
            let p = packets(name, first, &[1]);
            s.on_packet(&p[0], &mut sink).unwrap();
        }
    }
    s.flush(&mut sink);
    assert_eq!(s.stats().messages_lost, u64::MAX);
    assert_eq!(s.stats().session_changes, 2);
    assert_eq!(lost.len(), 6);
    assert_eq!(
        lost[0],
        SeqRange {
            first: 1,
            end: u64::MAX - 10
        }
    );
}
