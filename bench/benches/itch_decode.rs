//! ITCH 5.0 decode throughput on the bundled NASDAQ test file.
//!
//! - `itch_decode/frame_decode_fields/{type_framed,length_prefixed}`: framing + decoding + reading
//!   the fields a book needs, over the file repeated to ~50 MB in memory (zero prefixes as
//!   shipped), and over a copy with real 2-byte length prefixes.
//! - `itch_decode/normalize`: the same plus normalisation to `MarketEvent`s.
//!
//! `ITCH_BENCH_ONCE=1` runs each pass once without criterion (for `valgrind --tool=callgrind`);
//! `ITCH_BENCH_BEST=N` prints the best of N timed passes of each (see docs/BENCHMARKS.md).

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use kestrel_feeds::itch::{ItchFramer, ItchNormalizer, Message, decode};

const ITCH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/itch/ex20101224.TEST_ITCH_50"
);

/// Target size of the in-memory input.
const TARGET_BYTES: usize = 50 * 1024 * 1024;

/// The test file repeated to about [`TARGET_BYTES`], and its message count.
fn repeated_file() -> (Vec<u8>, u64) {
    let file = std::fs::read(ITCH_FILE).expect("bundled ITCH test file");
    let per_copy = ItchFramer::new(&file).count() as u64;
    let copies = TARGET_BYTES.div_ceil(file.len());
    (file.repeat(copies), per_copy * copies as u64)
}

/// The same stream with every zero prefix replaced by the message's real length.
fn length_prefixed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for frame in ItchFramer::new(data).flatten() {
        let len = u16::try_from(frame.message.len()).unwrap_or(0);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(frame.message);
    }
    out
}

/// Frames and decodes everything and folds the fields a book would read into a checksum, so
/// that nothing is optimised away. Returns (messages, checksum).
#[inline(never)]
fn decode_pass(data: &[u8]) -> (u64, u64) {
    let mut messages = 0u64;
    let mut sum = 0u64;
    for frame in ItchFramer::new(data) {
        let Ok(frame) = frame else { continue };
        let Ok(msg) = decode(frame.message) else {
            continue;
        };
        messages += 1;
        let fields = match msg {
            Message::AddOrder(m) => {
                m.order_ref()
                    ^ u64::from(m.side_code())
                    ^ u64::from(m.shares())
                    ^ u64::from(m.price())
                    ^ u64::from_le_bytes(m.stock())
            }
            Message::AddOrderMpid(m) => {
                m.order_ref()
                    ^ u64::from(m.side_code())
                    ^ u64::from(m.shares())
                    ^ u64::from(m.price())
            }
            Message::OrderExecuted(m) => m.order_ref() ^ u64::from(m.executed_shares()),
            Message::OrderExecutedWithPrice(m) => {
                m.order_ref() ^ u64::from(m.executed_shares()) ^ u64::from(m.execution_price())
            }
            Message::OrderCancel(m) => m.order_ref() ^ u64::from(m.cancelled_shares()),
            Message::OrderDelete(m) => m.order_ref(),
            Message::OrderReplace(m) => {
                m.original_order_ref()
                    ^ m.new_order_ref()
                    ^ u64::from(m.shares())
                    ^ u64::from(m.price())
            }
            Message::Trade(m) => {
                u64::from(m.side_code()) ^ u64::from(m.shares()) ^ u64::from(m.price())
            }
            Message::CrossTrade(m) => m.shares() ^ u64::from(m.cross_price()),
            Message::StockTradingAction(m) => u64::from(m.trading_state()),
            Message::StockDirectory(m) => u64::from_le_bytes(m.stock()),
            _ => 0,
        };
        sum = sum
            .wrapping_add(fields)
            .wrapping_add(msg.timestamp())
            .wrapping_add(u64::from(msg.stock_locate()));
    }
    (messages, sum)
}

/// Frames, decodes and normalises everything. Returns (events, checksum).
#[inline(never)]
fn normalize_pass(data: &[u8], norm: &mut ItchNormalizer) -> (u64, u64) {
    let mut events = 0u64;
    let mut sum = 0u64;
    for frame in ItchFramer::new(data) {
        let Ok(frame) = frame else { continue };
        let Ok(msg) = decode(frame.message) else {
            continue;
        };
        if let Some(ev) = norm.normalize(&msg) {
            events += 1;
            sum = sum
                .wrapping_add(ev.exch_ts.nanos())
                .wrapping_add(u64::from(ev.instrument.0));
        }
    }
    (events, sum)
}

fn bench(c: &mut Criterion, type_framed: &[u8], prefixed: &[u8], messages: u64) {
    let mut group = c.benchmark_group("itch_decode");
    group.throughput(Throughput::Elements(messages));
    group.sample_size(10);
    group.bench_function("frame_decode_fields/type_framed", |b| {
        b.iter(|| decode_pass(black_box(type_framed)))
    });
    group.bench_function("frame_decode_fields/length_prefixed", |b| {
        b.iter(|| decode_pass(black_box(prefixed)))
    });
    let mut norm = ItchNormalizer::new();
    group.bench_function("normalize/type_framed", |b| {
        b.iter(|| normalize_pass(black_box(type_framed), &mut norm))
    });
    group.finish();
}

/// Best of `runs` single passes, in messages per second: on a shared machine the fastest pass is
/// the one least disturbed by other processes.
fn best_of(runs: u32, messages: u64, mut pass: impl FnMut() -> u64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let start = std::time::Instant::now();
        black_box(pass());
        best = best.min(start.elapsed().as_secs_f64());
    }
    messages as f64 / best
}

/// Best time of any single copy of the file inside the big buffer (each copy framed on its own,
/// so the data still streams from memory), in messages per second: a 0.4 ms slice is short
/// enough to run undisturbed now and then on a loaded machine.
fn best_chunk(
    runs: u32,
    data: &[u8],
    chunk: usize,
    per_chunk: u64,
    mut pass: impl FnMut(&[u8]) -> u64,
) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        for part in data.chunks_exact(chunk) {
            let start = std::time::Instant::now();
            black_box(pass(black_box(part)));
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    per_chunk as f64 / best
}

/// `ITCH_BENCH_BEST=N`: best-of-N passes of each benchmark, printed in millions of messages/s.
fn best_mode(runs: u32, type_framed: &[u8], prefixed: &[u8], messages: u64) {
    let file_len = std::fs::read(ITCH_FILE).map_or(0, |f| f.len());
    let per_copy = messages / (type_framed.len() / file_len.max(1)) as u64;
    let ca = best_chunk(runs, type_framed, file_len, per_copy, |d| decode_pass(d).1);
    let cb = best_chunk(runs, prefixed, file_len, per_copy, |d| decode_pass(d).1);
    let mut norm = ItchNormalizer::new();
    let cn = best_chunk(runs, type_framed, file_len, per_copy, |d| {
        normalize_pass(d, &mut norm).1
    });
    println!(
        "best single file copy ({per_copy} messages): frame_decode_fields/type_framed {:.1} M msg/s, \
         frame_decode_fields/length_prefixed {:.1} M msg/s, normalize/type_framed {:.1} M msg/s",
        ca / 1e6,
        cb / 1e6,
        cn / 1e6
    );
    let a = best_of(runs, messages, || decode_pass(black_box(type_framed)).1);
    let b = best_of(runs, messages, || decode_pass(black_box(prefixed)).1);
    let mut norm = ItchNormalizer::new();
    let n = best_of(runs, messages, || {
        normalize_pass(black_box(type_framed), &mut norm).1
    });
    println!(
        "best of {runs} over {messages} messages: frame_decode_fields/type_framed {:.1} M msg/s, \
         frame_decode_fields/length_prefixed {:.1} M msg/s, normalize/type_framed {:.1} M msg/s",
        a / 1e6,
        b / 1e6,
        n / 1e6
    );
}

/// One pass of each, for instruction counting under callgrind.
fn once(type_framed: &[u8], prefixed: &[u8], messages: u64) {
    let a = decode_pass(type_framed);
    let b = decode_pass(prefixed);
    let mut norm = ItchNormalizer::new();
    let n = normalize_pass(type_framed, &mut norm);
    println!(
        "messages {messages}: type_framed {a:?}, length_prefixed {b:?}, normalize {n:?}, {} bytes",
        type_framed.len()
    );
}

fn main() {
    let (type_framed, messages) = repeated_file();
    let prefixed = length_prefixed(&type_framed);
    assert_eq!(
        decode_pass(&type_framed).0,
        messages,
        "every message decodes"
    );
    assert_eq!(decode_pass(&prefixed).0, messages, "every message decodes");
    if let Some(runs) = std::env::var("ITCH_BENCH_BEST")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        best_mode(runs, &type_framed, &prefixed, messages);
        return;
    }
    if std::env::var_os("ITCH_BENCH_ONCE").is_some() {
        once(&type_framed, &prefixed, messages);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &type_framed, &prefixed, messages);
    c.final_summary();
}
