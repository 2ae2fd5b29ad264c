//! The feed handler with its packet-batched prefetch (the default) against the same handler
//! with it off, over random MoldUDP64 streams of random ITCH order flow: the same events and
//! outcomes, in the same order, to the sink; the same books; the same counters. The streams
//! carry packets of 1 to 70 messages, duplicated and reordered packets, malformed datagrams,
//! short and over-length messages, unknown and reused order references and locates with no
//! instrument yet, and books small enough to grow mid-stream (so prefetch guesses go stale).

use kestrel_core::book::{Applied, BookConfig, BookError, L3Books};
use kestrel_core::{MarketEvent, Timestamp};
use kestrel_feeds::handler::{BatchPrefetch, FeedEvent, FeedHandler, HandlerConfig, HandlerStats};
use kestrel_feeds::itch::stock_field;
use kestrel_feeds::moldudp64::{MoldPacketBuilder, MoldSession};
use proptest::prelude::*;

/// One generated message's ingredients.
#[derive(Clone, Debug)]
struct Op {
    kind: u8,
    locate: u16,
    order_ref: u64,
    new_ref: u64,
    side: u8,
    shares: u32,
    price: u32,
    /// 0: cut short by one byte; 1: two bytes appended; else as specified.
    length: u8,
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop_oneof![
            9 => prop::sample::select(vec![b'A', b'A', b'F', b'E', b'C', b'X', b'D', b'D', b'U']),
            1 => prop::sample::select(vec![b'R', b'P', b'S']),
        ],
        0u16..6,
        1u64..60,
        1u64..60,
        prop::sample::select(vec![b'B', b'S', b'B', b'S', b'X']),
        prop_oneof![1 => Just(0u32), 12 => 1u32..400],
        (95u32..105).prop_map(|p| p * 100),
        0u8..40,
    )
        .prop_map(
            |(kind, locate, order_ref, new_ref, side, shares, price, length)| Op {
                kind,
                locate,
                order_ref,
                new_ref,
                side,
                shares,
                price,
                length,
            },
        )
}

fn put(m: &mut [u8], at: usize, bytes: &[u8]) {
    m[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The message's bytes (ITCH 5.0 layouts), cut short or extended as `op.length` says.
fn encode(op: &Op, ts: u64) -> Vec<u8> {
    let len = match op.kind {
        b'A' | b'C' => 36,
        b'F' => 40,
        b'E' => 31,
        b'X' => 23,
        b'D' => 19,
        b'U' => 35,
        b'P' => 44,
        b'R' => 39,
        _ => 12,
    };
    let mut m = vec![0u8; len];
    m[0] = op.kind;
    put(&mut m, 1, &op.locate.to_be_bytes());
    put(&mut m, 5, &ts.to_be_bytes()[2..]);
    let symbol = stock_field(["AAA", "BBB", "CCC", "DDD"][usize::from(op.locate) % 4]).unwrap();
    match op.kind {
        b'A' | b'F' | b'P' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            m[19] = op.side;
            put(&mut m, 20, &op.shares.to_be_bytes());
            put(&mut m, 24, &symbol);
            put(&mut m, 32, &op.price.to_be_bytes());
        }
        b'E' | b'C' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            put(&mut m, 19, &op.shares.to_be_bytes());
            put(&mut m, 23, &u64::from(op.price).to_be_bytes());
            if op.kind == b'C' {
                m[31] = b'Y';
                put(&mut m, 32, &op.price.to_be_bytes());
            }
        }
        b'X' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            put(&mut m, 19, &op.shares.to_be_bytes());
        }
        b'D' => put(&mut m, 11, &op.order_ref.to_be_bytes()),
        b'U' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            put(&mut m, 19, &op.new_ref.to_be_bytes());
            put(&mut m, 27, &op.shares.to_be_bytes());
            put(&mut m, 31, &op.price.to_be_bytes());
        }
        b'R' => put(&mut m, 11, &symbol),
        _ => m[11] = b'O',
    }
    match op.length {
        0 => {
            m.pop();
        }
        1 => m.extend_from_slice(&[0xAB, 0xCD]),
        _ => {}
    }
    m
}

/// How a packet is delivered.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    Once,
    Twice,
    /// Held back and delivered after the next packet (a reorder).
    Late,
    /// Its last block's length claims more bytes than the datagram has.
    Broken,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    prop_oneof![
        12 => Just(Delivery::Once),
        1 => Just(Delivery::Twice),
        1 => Just(Delivery::Late),
        1 => Just(Delivery::Broken),
    ]
}

/// The datagrams of `ops` cut into packets of the given sizes, delivered as told.
fn datagrams(ops: &[Op], packets: &[(usize, Delivery)]) -> Vec<Vec<u8>> {
    // Room for 70 of the longest messages in one packet.
    let mut builder =
        MoldPacketBuilder::with_max_packet(MoldSession::from_name("PF").unwrap(), 1, 4096);
    let msgs: Vec<Vec<u8>> = ops
        .iter()
        .enumerate()
        .map(|(i, o)| encode(o, i as u64))
        .collect();
    let mut out = Vec::new();
    let mut late: Option<Vec<u8>> = None;
    let mut rest = &msgs[..];
    for &(size, how) in packets.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, next) = rest.split_at(size.clamp(1, rest.len()));
        rest = next;
        let mut packet = Vec::new();
        for m in now {
            assert!(
                !builder.push(m, &mut packet).unwrap(),
                "one packet per batch"
            );
        }
        builder.finish_into(&mut packet);
        match how {
            Delivery::Once => out.push(packet),
            Delivery::Twice => {
                out.push(packet.clone());
                out.push(packet);
            }
            Delivery::Late => {
                if let Some(held) = late.replace(packet) {
                    out.push(held);
                }
                continue;
            }
            Delivery::Broken => {
                let mut broken = packet.clone();
                broken.truncate(broken.len() - 1);
                out.push(broken);
                out.push(packet);
            }
        }
        if let Some(held) = late.take() {
            out.push(held);
        }
    }
    out.extend(late);
    out
}

type Seen = Vec<(u64, Timestamp, MarketEvent, Result<Applied, BookError>)>;

fn run(datagrams: &[Vec<u8>], prefetch: BatchPrefetch) -> (Seen, HandlerStats, u64, usize) {
    let config = HandlerConfig {
        books: BookConfig {
            instruments: 2,
            order_capacity: 4,
            levels_per_side: 2,
        },
        ..HandlerConfig::default()
    };
    let mut handler = FeedHandler::new(config).with_batch_prefetch(prefetch);
    let mut seen = Seen::new();
    let mut sink = |e: &FeedEvent, _: &L3Books| seen.push((e.seq, e.recv_ts, e.event, e.outcome));
    for (i, d) in datagrams.iter().enumerate() {
        handler.on_datagram(Timestamp(1_000 + i as u64), d, &mut sink);
    }
    handler.finish(&mut sink);
    let live = handler.books().live_orders();
    (seen, handler.stats(), handler.books_hash(), live)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn prefetching_changes_no_event_book_or_counter(
        ops in prop::collection::vec(op(), 1..400),
        packets in prop::collection::vec((1usize..70, delivery()), 1..12),
    ) {
        let stream = datagrams(&ops, &packets);
        let with = run(&stream, BatchPrefetch::Always);
        let without = run(&stream, BatchPrefetch::Off);
        // The default switches on mid-stream once 8 orders are live (small books here).
        let switching = run(&stream, BatchPrefetch::FromLiveOrders(8));
        prop_assert_eq!(&with.0, &without.0);
        prop_assert_eq!(with.1, without.1);
        prop_assert_eq!(with.2, without.2);
        prop_assert_eq!(with.3, without.3);
        prop_assert_eq!(&switching.0, &without.0);
        prop_assert_eq!(switching.1, without.1);
        prop_assert_eq!(switching.2, without.2);
    }
}

/// The streams reach what the property is about, so it cannot pass vacuously: multi-message
/// packets whose order messages change the books (adds, executions, deletes, replaces
/// applied), growth past the small start sizes, and anomalies.
#[test]
fn the_streams_change_books_grow_them_and_carry_anomalies() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut applied, mut growths, mut anomalies, mut dups) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..20 {
        let ops = prop::collection::vec(op(), 300)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let packets = prop::collection::vec((1usize..70, delivery()), 4..12)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let (seen, stats, _, _) = run(&datagrams(&ops, &packets), BatchPrefetch::Always);
        applied += seen.iter().filter(|s| s.3.is_ok()).count() as u64;
        growths += stats.book.order_pool_growths + stats.book.order_map_growths;
        anomalies += stats.anomalies();
        dups += stats.mold.duplicate_packets;
    }
    assert!(applied > 1_000, "applied {applied}");
    assert!(growths > 0 && anomalies > 0 && dups > 0);
}
