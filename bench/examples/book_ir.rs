//! Applies a fixed ITCH-like stream to `L3Books` (or the reference book) once, for instruction
//! counting under callgrind. Only `apply_all` is meant to be collected:
//!
//! ```text
//! cargo build --release -p kestrel-bench --example book_ir
//! valgrind --tool=callgrind --toggle-collect='*apply_all*' --callgrind-out-file=/tmp/book.cg \
//!     target/release/examples/book_ir dense 1000000
//! callgrind_annotate /tmp/book.cg | head   # Ir / events = instructions per event
//! ```
//!
//! Arguments: `dense|sparse|large|reference` and the number of events (default 1,000,000).

use std::hint::black_box;

use kestrel_bench::flow::{FlowSpec, generate_flow};
use kestrel_core::MarketEvent;
use kestrel_core::book::{L3Books, ReferenceBook};

/// This thread's CPU time in nanoseconds (Linux `/proc/thread-self/schedstat`), so that a
/// figure taken on a shared machine can leave out the time other processes held the core.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

#[inline(never)]
fn apply_all(books: &mut L3Books, events: &[MarketEvent]) -> usize {
    events.iter().filter(|ev| books.apply(ev).is_ok()).count()
}

#[inline(never)]
fn apply_all_reference(books: &mut ReferenceBook, events: &[MarketEvent]) -> usize {
    events.iter().filter(|ev| books.apply(ev).is_ok()).count()
}

#[inline(never)]
fn warm_up(books: &mut L3Books, events: &[MarketEvent]) {
    for ev in events {
        let _ = books.apply(ev);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let layout = args.next().unwrap_or_else(|| "dense".to_owned());
    let events: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let spec = match layout.as_str() {
        "sparse" => FlowSpec::sparse(events),
        "large" => FlowSpec::large(events),
        _ => FlowSpec::dense(events),
    };
    let flow = generate_flow(&spec);
    let mut started = std::time::Instant::now();
    let mut cpu_started = thread_cpu_ns();
    let applied = if layout == "reference" {
        let mut books = ReferenceBook::new(spec.book_config());
        apply_all_reference(&mut books, black_box(&flow.measured))
    } else {
        let mut books = L3Books::new(spec.book_config());
        warm_up(&mut books, &flow.warmup);
        started = std::time::Instant::now();
        cpu_started = thread_cpu_ns();
        apply_all(&mut books, black_box(&flow.measured))
    };
    let elapsed = started.elapsed();
    let n = flow.measured.len();
    let cpu_s = match (cpu_started, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e9,
        _ => f64::NAN,
    };
    // Wall time is only indicative (the criterion bench is the throughput figure); under
    // callgrind it is meaningless.
    println!(
        "{layout}: applied {applied} of {n} events in {:.1} ms wall ({:.1} M events/s), \
         {:.1} ms on-CPU ({:.1} M events/s)",
        elapsed.as_secs_f64() * 1e3,
        n as f64 / elapsed.as_secs_f64() / 1e6,
        cpu_s * 1e3,
        n as f64 / cpu_s / 1e6,
    );
}
