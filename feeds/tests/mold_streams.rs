//! MoldUDP64 streams through the feed handler: one sequencer per (channel, session), so
//! interleaved sessions or channels are not gaps; a gap is declared lost once it has stayed
//! open for the gap timeout (receive time), whether a held packet or a heartbeat revealed it,
//! not only when the reorder buffer fills or the input ends.

use kestrel_core::Timestamp;
use kestrel_core::book::L3Books;
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::Record;
use kestrel_feeds::moldudp64::{
    DEFAULT_GAP_TIMEOUT_NS, MoldPacketBuilder, MoldSession, MoldStreams, SeqEvent, SequencerConfig,
    StreamKey,
};

const MS: u64 = 1_000_000;

/// One packet per message, sequences `first..first + n`; each message is 8 bytes (its
/// sequence; not ITCH, so the handler counts it and fails to decode it).
fn packets(session: &str, first: u64, n: u64) -> Vec<Vec<u8>> {
    let mut b = MoldPacketBuilder::new(MoldSession::from_name(session).unwrap(), first);
    let mut out = Vec::new();
    (0..n)
        .map(|_| {
            let seq = b.next_sequence();
            b.push(&seq.to_be_bytes(), &mut out).unwrap();
            assert!(b.finish_into(&mut out));
            out.clone()
        })
        .collect()
}

fn heartbeat(session: &str, next: u64) -> Vec<u8> {
    let b = MoldPacketBuilder::new(MoldSession::from_name(session).unwrap(), next);
    let mut out = Vec::new();
    b.heartbeat_into(&mut out);
    out
}

fn handler() -> FeedHandler {
    FeedHandler::new(HandlerConfig::default())
}

fn ignore() -> impl FnMut(&FeedEvent, &L3Books) {
    |_: &FeedEvent, _: &L3Books| {}
}

#[test]
fn interleaved_sessions_on_one_channel_are_not_gaps() {
    let (a, b) = (packets("DAY1", 1, 6), packets("DAY2", 1, 6));
    let mut h = handler();
    let mut sink = ignore();
    for (i, (pa, pb)) in a.iter().zip(&b).enumerate() {
        let t = Timestamp(i as u64 * MS);
        h.on_datagram(t, pa, &mut sink);
        h.on_datagram(t, pb, &mut sink);
    }
    let s = h.stats();
    // Every message of both sessions, before the end of input.
    assert_eq!(s.itch_messages, 12);
    assert_eq!((s.mold.gaps_lost, s.mold.messages_lost), (0, 0));
    assert_eq!(s.mold.duplicate_packets, 0);
    h.finish(&mut sink);
    assert_eq!(h.stats().mold.gaps_lost, 0);
}

#[test]
fn interleaved_channels_of_one_session_are_not_gaps_or_duplicates() {
    let (a, b) = (packets("FEED", 1, 5), packets("FEED", 1, 5));
    let mut records = Vec::new();
    for (i, (pa, pb)) in a.iter().zip(&b).enumerate() {
        for (channel, p) in [(0u16, pa), (1u16, pb)] {
            records.push(Ok::<_, ()>(Record {
                recv_ts: Timestamp(i as u64 * MS),
                seq: records.len() as u64,
                channel,
                payload: p,
            }));
        }
    }
    let mut h = handler();
    h.replay_records(records, &mut ignore());
    let s = h.stats();
    assert_eq!(s.itch_messages, 10);
    assert_eq!((s.mold.duplicate_packets, s.mold.gaps_lost), (0, 0));
}

#[test]
fn a_gap_is_declared_lost_after_the_timeout_not_at_the_end() {
    let p = packets("FEED", 1, 6);
    let mut h = handler();
    let mut sink = ignore();
    // 3 never comes; 4 and 5 are held behind it.
    for (k, i) in [0usize, 1, 3, 4].into_iter().enumerate() {
        h.on_datagram(Timestamp(k as u64 * MS), &p[i], &mut sink);
    }
    assert_eq!(h.stats().itch_messages, 2);
    // Still within the timeout: still waiting.
    h.on_datagram(
        Timestamp(DEFAULT_GAP_TIMEOUT_NS / 2),
        &heartbeat("FEED", 6),
        &mut sink,
    );
    assert_eq!(h.stats().itch_messages, 2);
    // The next packet, past the timeout: 3 is lost, 4, 5 and 6 go out now.
    h.on_datagram(Timestamp(2 * MS + DEFAULT_GAP_TIMEOUT_NS), &p[5], &mut sink);
    let s = h.stats();
    assert_eq!(s.itch_messages, 5);
    assert_eq!(
        (
            s.mold.gaps_lost,
            s.mold.gaps_timed_out,
            s.mold.messages_lost
        ),
        (1, 1, 1)
    );
}

#[test]
fn a_gap_a_heartbeat_reveals_times_out_too() {
    let p = packets("FEED", 1, 5);
    let mut h = handler();
    let mut sink = ignore();
    h.on_datagram(Timestamp(0), &p[0], &mut sink);
    h.on_datagram(Timestamp(MS), &p[1], &mut sink);
    // The heartbeat says the session is at 5: 3 and 4 were missed (nothing held).
    h.on_datagram(Timestamp(2 * MS), &heartbeat("FEED", 5), &mut sink);
    assert_eq!(h.stats().mold.gaps_lost, 0);
    h.on_datagram(
        Timestamp(2 * MS + DEFAULT_GAP_TIMEOUT_NS),
        &heartbeat("FEED", 5),
        &mut sink,
    );
    let s = h.stats();
    assert_eq!((s.mold.gaps_lost, s.mold.messages_lost), (1, 2));
    // Delivery goes on from 5 at once.
    h.on_datagram(Timestamp(3 * MS + DEFAULT_GAP_TIMEOUT_NS), &p[4], &mut sink);
    assert_eq!(h.stats().itch_messages, 3);
    assert_eq!(h.stats().mold.packets_held, 0);
}

/// What a stream sink saw: the key and the sequence of each message, `None` for a lost range.
fn record(seen: &mut Vec<(StreamKey, Option<u64>)>, key: StreamKey, e: SeqEvent<'_>) {
    match e {
        SeqEvent::Message { seq, .. } => seen.push((key, Some(seq))),
        SeqEvent::Lost(_) => seen.push((key, None)),
        SeqEvent::SessionChanged { .. } => panic!("a stream never changes session"),
    }
}

#[test]
fn streams_keep_their_own_order_and_report_their_key() {
    let mut streams = MoldStreams::new(SequencerConfig {
        gap_timeout_ns: None,
        ..SequencerConfig::default()
    });
    let (a, b) = (packets("A", 1, 3), packets("B", 1, 3));
    let mut seen = Vec::new();
    // B arrives out of order on channel 7; A in order on channel 0.
    for (ch, p) in [
        (0, &a[0]),
        (7, &b[1]),
        (0, &a[1]),
        (7, &b[0]),
        (0, &a[2]),
        (7, &b[2]),
    ] {
        streams
            .on_packet_at(ch, 0, p, |k, e| record(&mut seen, k, e))
            .unwrap();
    }
    // No timeout configured: a gap waits however long.
    streams
        .on_packet_at(7, u64::MAX / 2, &heartbeat("B", 9), |k, e| {
            record(&mut seen, k, e)
        })
        .unwrap();
    assert_eq!(streams.streams(), 2);
    let key_a = StreamKey {
        channel: 0,
        session: MoldSession::from_name("A").unwrap(),
    };
    let key_b = StreamKey {
        channel: 7,
        session: MoldSession::from_name("B").unwrap(),
    };
    let of = |key: StreamKey| -> Vec<Option<u64>> {
        seen.iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, s)| *s)
            .collect()
    };
    assert_eq!(of(key_a), vec![Some(1), Some(2), Some(3)]);
    assert_eq!(of(key_b), vec![Some(1), Some(2), Some(3)]);
    streams.flush(&mut |k, e| record(&mut seen, k, e));
    assert_eq!(seen.last(), Some(&(key_b, None)));
    assert_eq!(streams.stats().messages_lost, 5);
    assert!(
        streams
            .on_packet_at(0, 0, b"short", |k, e| record(&mut seen, k, e))
            .is_err()
    );
    assert_eq!(streams.stats().malformed, 1);
}
