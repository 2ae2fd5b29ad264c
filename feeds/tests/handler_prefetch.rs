//! The feed handler with its packet-batched prefetch (the default) against the same handler
//! with it off, over random MoldUDP64 streams of random ITCH order flow: the same events and
//! outcomes, in the same order, to the sink; the same books; the same counters. The streams
//! carry packets of 1 to 70 messages, duplicated and reordered packets, malformed datagrams,
//! short and over-length messages, unknown and reused order references and locates with no
//! instrument yet, and books small enough to grow mid-stream (so prefetch guesses go stale).

use kestrel_core::book::{Applied, BookConfig, BookError, L3Books};
use kestrel_core::{MarketEvent, Timestamp};
use kestrel_feeds::handler::{BatchPrefetch, FeedEvent, FeedHandler, HandlerConfig, HandlerStats};
use kestrel_feeds::moldudp64::{MoldPacketBuilder, MoldSession};
use proptest::prelude::*;

mod random_itch;
use random_itch::{Op, encode};

/// The instruments the generated locates name (`locate % 4`).
const SYMBOLS: [&str; 4] = ["AAA", "BBB", "CCC", "DDD"];

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
                // Executions carry the price as their match number; `C` is printable.
                flag: b'Y',
                match_number: u64::from(price),
                length,
            },
        )
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
        .map(|(i, o)| encode(o, i as u64, &SYMBOLS))
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
