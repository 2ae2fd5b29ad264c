//! One end-to-end pass (ITCH bytes -> frame -> decode -> normalise -> book) for instruction
//! counting under callgrind. Only the pass is meant to be collected (stream generation,
//! encoding and the warm-up are not):
//!
//! ```text
//! cargo build --release -p kestrel-bench --example feed_ir
//! valgrind --tool=callgrind --toggle-collect='*measured_*' --callgrind-out-file=/tmp/e2e.cg \
//!     target/release/examples/feed_ir dense l3 1000000
//! ```
//!
//! "Collected" / messages = instructions per message. Arguments: `dense|sparse|large`,
//! `l3|reference|decode` and the number of messages (default 1,000,000).

use std::hint::black_box;

use kestrel_bench::flow::FlowSpec;
use kestrel_bench::itch_stream::{
    ApplyEvent, PassStats, book_pass, decode_pass, encode_flow, thread_cpu_ns, warm_normalizer,
    warmed_l3, warmed_reference,
};
use kestrel_feeds::itch::ItchNormalizer;

/// The timed book pass (books already built and warmed): collected by callgrind.
#[inline(never)]
fn measured_book<B: ApplyEvent>(data: &[u8], norm: &mut ItchNormalizer, book: &mut B) -> PassStats {
    book_pass(data, norm, book)
}

/// The timed decode-only pass: collected by callgrind.
#[inline(never)]
fn measured_decode(data: &[u8], norm: &mut ItchNormalizer) -> PassStats {
    decode_pass(data, norm)
}

/// Runs `f` and returns its result with (wall seconds, on-CPU seconds).
fn timed(f: impl FnOnce() -> PassStats) -> (PassStats, f64, f64) {
    let started = std::time::Instant::now();
    let cpu_started = thread_cpu_ns();
    let stats = f();
    let wall = started.elapsed().as_secs_f64();
    let cpu = match (cpu_started, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e9,
        _ => f64::NAN,
    };
    (stats, wall, cpu)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let layout = args.next().unwrap_or_else(|| "dense".to_owned());
    let pipeline = args.next().unwrap_or_else(|| "l3".to_owned());
    let messages: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let spec = match layout.as_str() {
        "sparse" => FlowSpec::sparse(messages),
        "large" => FlowSpec::large(messages),
        _ => FlowSpec::dense(messages),
    };
    let Ok(flow) = encode_flow(&spec) else {
        eprintln!("the flow does not encode as ITCH");
        std::process::exit(1);
    };
    let mut norm = warm_normalizer(&flow);
    let data = black_box(&flow.measured[..]);
    let (stats, wall_s, cpu_s) = match pipeline.as_str() {
        "decode" => timed(|| measured_decode(data, &mut norm)),
        "reference" => {
            let mut book = warmed_reference(&flow, &mut norm);
            timed(|| measured_book(data, &mut norm, &mut book))
        }
        _ => {
            let mut books = warmed_l3(&flow, &mut norm);
            timed(|| measured_book(data, &mut norm, &mut books))
        }
    };
    let n = flow.messages as f64;
    // Under callgrind the times are meaningless; the collected Ir are the figure.
    println!(
        "{layout} {pipeline}: {stats:?} of {} messages in {:.1} ms wall ({:.1} M msg/s), \
         {:.1} ms on-CPU ({:.1} M msg/s)",
        flow.messages,
        wall_s * 1e3,
        n / wall_s / 1e6,
        cpu_s * 1e3,
        n / cpu_s / 1e6,
    );
}
