//! End to end: ITCH bytes -> frame -> decode -> normalise -> book, on the flow generator's
//! streams encoded as a length-prefixed ITCH 5.0 byte stream (`kestrel_bench::itch_stream`).
//!
//! For each stream (`dense`, `sparse`: 2,000,000 messages; `large`: 4096 instruments, 1,000,000
//! live orders filled by an untimed warm-up, then 1,000,000 messages) and in the same run:
//!
//! - `decode`: frame + decode + normalise only;
//! - `l3`: frame + decode + normalise + `L3Books::apply`;
//! - `reference`: frame + decode + normalise + the naive `ReferenceBook`.
//!
//! Books are built (and warmed) outside the timed region for every pass.
//!
//! Modes:
//! - default: criterion (`Throughput::Elements` = messages), flat sampling, 10 samples;
//! - `E2E_PASSES=N`: N timed passes of each without criterion; prints the best wall-clock and
//!   the best on-CPU (thread CPU time, `/proc/thread-self/schedstat`) throughput and the
//!   ratio l3 / reference. `E2E_PASSES=1` is a quick single pass.
//!
//! `E2E_STREAMS=dense,sparse` limits either mode to some streams.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use kestrel_bench::flow::FlowSpec;
use kestrel_bench::itch_stream::{
    EncodedFlow, book_pass, decode_pass, encode_flow, thread_cpu_ns, warm_normalizer, warmed_l3,
    warmed_reference,
};
use kestrel_feeds::itch::ItchNormalizer;

/// The streams, by name.
fn streams() -> Vec<(&'static str, FlowSpec)> {
    let wanted = std::env::var("E2E_STREAMS").ok();
    [
        ("dense", FlowSpec::dense(2_000_000)),
        ("sparse", FlowSpec::sparse(2_000_000)),
        ("large", FlowSpec::large(1_000_000)),
    ]
    .into_iter()
    .filter(|(name, _)| {
        wanted
            .as_deref()
            .is_none_or(|w| w.split(',').any(|s| s == *name))
    })
    .collect()
}

/// Which pipeline a pass runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pipeline {
    Decode,
    L3,
    Reference,
}

impl Pipeline {
    const ALL: [Self; 3] = [Self::Decode, Self::L3, Self::Reference];

    fn name(self) -> &'static str {
        match self {
            Self::Decode => "decode",
            Self::L3 => "l3",
            Self::Reference => "reference",
        }
    }
}

/// One timed pass over the measured bytes (setup untimed): (wall, on-CPU ns, messages).
fn timed_pass(
    flow: &EncodedFlow,
    norm: &mut ItchNormalizer,
    pipeline: Pipeline,
) -> (Duration, u64) {
    let data = black_box(&flow.measured[..]);
    let (wall, cpu, stats) = match pipeline {
        Pipeline::Decode => time(|| decode_pass(data, norm)),
        Pipeline::L3 => {
            let mut books = warmed_l3(flow, norm);
            time(|| book_pass(data, norm, &mut books))
        }
        Pipeline::Reference => {
            let mut book = warmed_reference(flow, norm);
            time(|| book_pass(data, norm, &mut book))
        }
    };
    assert_eq!(stats.messages, flow.messages, "every message decodes");
    if pipeline != Pipeline::Decode {
        assert_eq!(stats.applied, flow.messages, "every event applies");
    }
    (wall, cpu)
}

fn time<T>(f: impl FnOnce() -> T) -> (Duration, u64, T) {
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let out = black_box(f());
    let wall = start.elapsed();
    let cpu = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    };
    (wall, cpu, out)
}

fn criterion_mode(flows: &[(&str, EncodedFlow)]) {
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    for (name, flow) in flows {
        let mut group = c.benchmark_group(format!("feed_e2e/{name}"));
        group.throughput(Throughput::Elements(flow.messages));
        group.sampling_mode(SamplingMode::Flat);
        let mut norm = warm_normalizer(flow);
        for pipeline in Pipeline::ALL {
            group.bench_function(pipeline.name(), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| timed_pass(flow, &mut norm, pipeline).0)
                        .sum()
                })
            });
        }
        group.finish();
    }
    c.final_summary();
}

fn passes_mode(flows: &[(&str, EncodedFlow)], passes: u32) {
    println!("best of {passes} pass(es); M msg/s wall-clock / on-CPU");
    for (name, flow) in flows {
        let mut norm = warm_normalizer(flow);
        let mut best = [(f64::INFINITY, f64::INFINITY); 3];
        for _ in 0..passes {
            for (i, pipeline) in Pipeline::ALL.into_iter().enumerate() {
                let (wall, cpu) = timed_pass(flow, &mut norm, pipeline);
                best[i].0 = best[i].0.min(wall.as_secs_f64());
                best[i].1 = best[i].1.min(cpu as f64 / 1e9);
            }
        }
        let rate = |s: f64| flow.messages as f64 / s / 1e6;
        let [d, l3, r] = best;
        println!(
            "{name} ({} messages): decode {:.1} / {:.1}, l3 {:.1} / {:.1}, reference {:.1} / {:.1}; \
             l3/reference {:.2}x wall, {:.2}x on-CPU",
            flow.messages,
            rate(d.0),
            rate(d.1),
            rate(l3.0),
            rate(l3.1),
            rate(r.0),
            rate(r.1),
            r.0 / l3.0,
            r.1 / l3.1,
        );
    }
}

fn main() {
    let flows: Vec<(&str, EncodedFlow)> = streams()
        .into_iter()
        .map(|(name, spec)| (name, encode_flow(&spec).expect("flow encodes as ITCH")))
        .collect();
    match std::env::var("E2E_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(passes) => passes_mode(&flows, passes),
        None => criterion_mode(&flows),
    }
}
