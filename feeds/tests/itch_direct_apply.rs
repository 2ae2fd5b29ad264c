//! The direct path (`ItchNormalizer::apply_direct`: order messages straight into the books'
//! entry points, what the feed handler runs) against the event path (decode -> normalise ->
//! `MarketEvent` -> `L3Books::apply`) over random ITCH streams: the same event and outcome for
//! every message (errors included: unknown, duplicate and cross-instrument references, zero
//! and excess quantities, bad side bytes and printable flags, short and over-length messages,
//! unknown locates, a symbol filter), the same books, the same counters. The feed handler's
//! sink sees the same events and outcomes.

use kestrel_core::book::{Applied, BookConfig, BookError, L3Books};
use kestrel_core::{BookEventKind, InstrumentId, MARKET_WIDE, MarketEvent, Timestamp};
use kestrel_feeds::handler::{FeedEvent, FeedHandler, HandlerConfig, combined_book_hash};
use kestrel_feeds::itch::{DirectApply, ItchNormalizer, decode};
use proptest::prelude::*;

mod random_itch;
use random_itch::{Op, encode};

/// What one message did, as a comparable value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Applied(MarketEvent, Result<Applied, BookError>),
    Nothing,
    DecodeError,
}

/// The event path, as the feed handler ran it before the direct path.
fn event_path(norm: &mut ItchNormalizer, books: &mut L3Books, bytes: &[u8]) -> Step {
    let Ok(msg) = decode(bytes) else {
        return Step::DecodeError;
    };
    let Some(event) = norm.normalize(&msg) else {
        return Step::Nothing;
    };
    if event.instrument == MARKET_WIDE {
        if let Some(last) = norm.instruments().len().checked_sub(1) {
            books.ensure_instrument(InstrumentId(u32::try_from(last).unwrap()));
        }
    } else if event.instrument.index() >= books.instruments() {
        books.ensure_instrument(event.instrument);
    }
    let outcome = books.apply(&event);
    Step::Applied(event, outcome)
}

fn direct_path(norm: &mut ItchNormalizer, books: &mut L3Books, bytes: &[u8]) -> Step {
    match norm.apply_direct(bytes, books) {
        DirectApply::DecodeError(_) => Step::DecodeError,
        DirectApply::Order { message, result } => {
            // What a lean sink reads of the message (the feed stage's) agrees with the event
            // the default builds, so the two sink paths cannot part.
            let event = message.event();
            assert_eq!(message.instrument(), event.instrument);
            assert_eq!(message.exch_ts(), event.exch_ts);
            assert_eq!(
                message.is_replace(),
                matches!(event.kind, BookEventKind::Replace { .. })
            );
            if let Ok(t) = &result {
                assert_eq!(message.trade(t), t.trade(&event.kind));
            }
            let outcome = result.map(|t| t.into_applied(event.instrument, &event.kind));
            let d = DirectApply::Order { message, result };
            assert_eq!(d.outcome(), Some((event, outcome)));
            Step::Applied(event, outcome)
        }
        d => match d.outcome() {
            Some((event, outcome)) => Step::Applied(event, outcome),
            None => Step::Nothing,
        },
    }
}

const SYMBOLS: [&str; 3] = ["AAA", "BBB", "CCC"];

/// The `i`th message's timestamp: nanoseconds from 09:30 on, a second and a bit apart, so that
/// all six bytes of the field vary (a reader that drops or swaps any of them fails).
fn timestamp(i: usize) -> u64 {
    34_200_000_000_000 + i as u64 * 1_000_000_007
}

fn op() -> impl Strategy<Value = Op> {
    (
        // Order messages most of the time, everything else sometimes.
        prop_oneof![
            8 => prop::sample::select(vec![b'A', b'F', b'E', b'C', b'X', b'D', b'U']),
            1 => prop::sample::select(vec![b'P', b'Q', b'B', b'H', b'h', b'W', b'R', b'S']),
        ],
        0u16..5,
        1u64..24,
        1u64..24,
        prop::sample::select(vec![b'B', b'S', b'B', b'S', b'X']),
        prop_oneof![1 => Just(0u32), 8 => 1u32..400, 1 => Just(u32::MAX)],
        (95u32..105).prop_map(|p| p * 100),
        prop::sample::select(vec![b'Y', b'N', b'Z', b'H', b'T', b'P', b'1', b'4']),
        0u64..1000,
        0u8..40,
    )
        .prop_map(
            |(
                kind,
                locate,
                order_ref,
                new_ref,
                side,
                shares,
                price,
                flag,
                match_number,
                length,
            )| {
                Op {
                    kind,
                    locate,
                    order_ref,
                    new_ref,
                    side,
                    shares,
                    price,
                    flag,
                    match_number,
                    length,
                }
            },
        )
}

fn config() -> BookConfig {
    // Small pools, so that growth happens inside the stream.
    BookConfig {
        instruments: 1,
        order_capacity: 4,
        levels_per_side: 2,
    }
}

fn normalizer(filter: bool) -> ItchNormalizer {
    if filter {
        ItchNormalizer::new().with_symbol_filter(["AAA", "CCC"])
    } else {
        ItchNormalizer::new()
    }
}

fn check(ops: &[Op], filter: bool) -> Result<(), TestCaseError> {
    let msgs: Vec<Vec<u8>> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| encode(op, timestamp(i), &SYMBOLS))
        .collect();
    let (mut norm_e, mut books_e) = (normalizer(filter), L3Books::new(config()));
    let (mut norm_d, mut books_d) = (normalizer(filter), L3Books::new(config()));
    let mut expected = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let e = event_path(&mut norm_e, &mut books_e, m);
        let d = direct_path(&mut norm_d, &mut books_d, m);
        prop_assert_eq!(&d, &e, "message {} {:?}", i, ops[i]);
        if let Step::Applied(event, outcome) = e {
            expected.push((i as u64 + 1, event, outcome));
        }
    }
    prop_assert_eq!(norm_d.stats(), norm_e.stats());
    prop_assert_eq!(books_d.stats(), books_e.stats());
    prop_assert_eq!(books_d.live_orders(), books_e.live_orders());
    prop_assert_eq!(books_d.instruments(), books_e.instruments());
    prop_assert_eq!(combined_book_hash(&books_d), combined_book_hash(&books_e));
    for i in 0..books_e.instruments() {
        let id = InstrumentId(i as u32);
        prop_assert_eq!(books_d.status_detail(id), books_e.status_detail(id));
        prop_assert_eq!(books_d.is_crossed(id), books_e.is_crossed(id));
    }

    // The feed handler (direct path inside) hands its sink the same events and outcomes.
    if !filter {
        let mut handler = FeedHandler::new(HandlerConfig {
            books: config(),
            ..HandlerConfig::default()
        });
        let mut seen = Vec::new();
        let mut sink = |fe: &FeedEvent, _: &L3Books| seen.push((fe.seq, fe.event, fe.outcome));
        for (i, m) in msgs.iter().enumerate() {
            handler.on_itch_message(Timestamp(i as u64), i as u64 + 1, m, &mut sink);
        }
        prop_assert_eq!(&seen, &expected);
        prop_assert_eq!(handler.books_hash(), combined_book_hash(&books_e));
        let s = handler.stats();
        prop_assert_eq!(s.book, books_e.stats());
        prop_assert_eq!(s.normalizer, norm_e.stats());
        let decode_errors = msgs.iter().filter(|m| decode(m).is_err()).count() as u64;
        prop_assert_eq!(s.decode_errors, decode_errors);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn direct_apply_matches_the_event_path(
        ops in prop::collection::vec(op(), 1..300),
        filter in prop::bool::weighted(0.25),
    ) {
        check(&ops, filter)?;
    }
}

/// The generator reaches the cases the property is about (so the property cannot pass
/// vacuously): late errors, rejected order events, prints, non-printable executions.
#[test]
fn the_streams_exercise_errors_and_late_errors() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut late, mut rejected, mut prints, mut non_printable) = (0, 0, 0, 0);
    for _ in 0..40 {
        let ops = prop::collection::vec(op(), 300)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let (mut norm, mut books) = (ItchNormalizer::new(), L3Books::new(config()));
        for (i, o) in ops.iter().enumerate() {
            match direct_path(&mut norm, &mut books, &encode(o, timestamp(i), &SYMBOLS)) {
                Step::Applied(_, Ok(a)) => {
                    late += usize::from(a.error.is_some());
                    prints += usize::from(a.trade.is_some());
                }
                Step::Applied(_, Err(_)) => rejected += 1,
                _ => {}
            }
        }
        non_printable += books.stats().non_printable_executions;
        check(&ops, false).unwrap();
    }
    assert!(
        late > 0 && rejected > 0 && prints > 0 && non_printable > 0,
        "late {late} rejected {rejected} prints {prints} non-printable {non_printable}"
    );
}
