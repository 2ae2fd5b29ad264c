//! L3 order book throughput: [`L3Books`] against the naive [`ReferenceBook`] (BTreeMap levels,
//! HashMap orders, VecDeque queues) on the same ITCH-like streams in one run:
//!
//! - `dense`: 8 instruments, at most 400 live orders, order refs 1, 2, 3, ...
//! - `sparse`: the same stream, its 8 copies' refs offset by 10^8 each;
//! - `large`: 4096 instruments, about a million live orders (the warm-up fills the books
//!   before timing; each sample starts from a clone of the warmed books).
//!
//! Throughput is in events (book messages) per second. Run briefly on a shared machine:
//! `cargo bench -p kestrel-bench --bench book -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kestrel_bench::flow::{FlowSpec, generate, generate_flow};
use kestrel_core::MarketEvent;
use kestrel_core::book::{L3Books, ReferenceBook};

/// Events per measured stream.
const EVENTS: usize = 1_000_000;

fn apply_l3(books: &mut L3Books, events: &[MarketEvent]) {
    for ev in events {
        let _ = black_box(books.apply(black_box(ev)));
    }
}

fn apply_reference(books: &mut ReferenceBook, events: &[MarketEvent]) {
    for ev in events {
        let _ = black_box(books.apply(black_box(ev)));
    }
}

fn from_empty(c: &mut Criterion) {
    for (name, spec) in [
        ("dense", FlowSpec::dense(EVENTS)),
        ("sparse", FlowSpec::sparse(EVENTS)),
    ] {
        let events = generate(&spec);
        let config = spec.book_config();
        let mut group = c.benchmark_group(format!("book/{name}"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_function("l3books", |b| {
            b.iter_batched_ref(
                || L3Books::new(config),
                |books| apply_l3(books, &events),
                BatchSize::PerIteration,
            );
        });
        group.bench_function("reference", |b| {
            b.iter_batched_ref(
                || ReferenceBook::new(config),
                |books| apply_reference(books, &events),
                BatchSize::PerIteration,
            );
        });
        group.finish();
    }
}

fn large_working_set(c: &mut Criterion) {
    let spec = FlowSpec::large(EVENTS);
    let flow = generate_flow(&spec);
    let config = spec.book_config();
    let mut warm = L3Books::new(config);
    apply_l3(&mut warm, &flow.warmup);
    let mut warm_reference = ReferenceBook::new(config);
    apply_reference(&mut warm_reference, &flow.warmup);
    let mut group = c.benchmark_group("book/large");
    group.sample_size(10);
    group.throughput(Throughput::Elements(flow.measured.len() as u64));
    group.bench_function("l3books", |b| {
        b.iter_batched_ref(
            || warm.clone(),
            |books| apply_l3(books, &flow.measured),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("reference", |b| {
        b.iter_batched_ref(
            || warm_reference.clone(),
            |books| apply_reference(books, &flow.measured),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, from_empty, large_working_set);
criterion_main!(benches);
