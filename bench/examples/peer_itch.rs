//! Side-by-side inputs and Kestrel's side of the comparison with an outside ITCH book (e.g.
//! groovg/itch-book, built outside this repository): raw NASDAQ ITCH 5.0 files (2-byte
//! big-endian length prefixes, as NASDAQ publishes them), and Kestrel's decode + L3 book over a
//! whole file held in memory, fresh books per pass, as the peer's `book_throughput` does.
//!
//! ```text
//! peer_itch flow dense|sparse MESSAGES OUT        # the flow generator's stream (bench::flow)
//! peer_itch lobster MESSAGES.csv ORDERBOOK.csv COPIES OUT [--refs dense|sparse]
//! peer_itch book FILE [--passes N] [--capacity N] [--path direct|event]
//!                                                  # frame + decode + normalise + L3Books
//! ```
//!
//! `lobster` turns a real LOBSTER day (NASDAQ order flow) into ITCH through Kestrel's importer
//! and tiles it `COPIES` times; each copy ends by deleting the orders still live, so copies do
//! not overlap. References: `dense` numbers every order 1, 2, 3, ... in order of first
//! appearance; `sparse` keeps NASDAQ's own references (the importer's synthetic ones for the
//! book before the first row are renumbered below 2^36, the reference space an ITCH book must
//! accept) and offsets copy `k` by `k * 10^9`.
//!
//! `book` prints the best wall-clock and on-CPU pass; under callgrind collect
//! `--toggle-collect='*measured_file_pass*'` (one pass with `--passes 1`). `--path direct`
//! (the default) applies the order messages straight to the books, as the feed handler does
//! (`ItchNormalizer::apply_direct`); `--path event` takes the decode -> `MarketEvent` ->
//! `L3Books::apply` round trip (collect `*measured_event_pass*`), for comparison.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use kestrel_bench::flow::FlowSpec;
use kestrel_bench::itch_stream::{PassStats, encode_flow, thread_cpu_ns};
use kestrel_core::Timestamp;
use kestrel_core::book::{BookConfig, L3Books};
use kestrel_feeds::itch::{DirectApply, ItchFramer, ItchNormalizer, decode};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::{parse_messages, parse_orderbook, plan_import, write_lobster_capture};
use kestrel_feeds::moldudp64::MoldPacket;

/// One whole-file pass from fresh state (books and normaliser built inside, as the peer's
/// bench does), through the direct path the feed handler uses
/// ([`ItchNormalizer::apply_direct_with`]: order messages straight into the books, the
/// outcome handed to the counting closure): collected by callgrind.
#[inline(never)]
fn measured_file_pass(data: &[u8], config: BookConfig) -> (PassStats, u64) {
    let mut norm = ItchNormalizer::new();
    let mut books = L3Books::new(config);
    let mut stats = PassStats::default();
    for frame in ItchFramer::new(data) {
        let Ok(frame) = frame else { continue };
        // (message, event, applied, top changed): plain values out of the closure, so that
        // the counting costs a few register adds, as the peer's does.
        let (message, event, applied, top) =
            norm.apply_direct_with(frame.message, &mut books, |d, _| match d {
                DirectApply::Order { result, .. } => match result {
                    Ok(t) => (1, 1, 1, u64::from(t.top_changed)),
                    Err(_) => (1, 1, 0, 0),
                },
                DirectApply::Event { outcome, .. } => match outcome {
                    Ok(a) => (1, 1, 1, u64::from(a.top_changed)),
                    Err(_) => (1, 1, 0, 0),
                },
                DirectApply::Nothing => (1, 0, 0, 0),
                DirectApply::DecodeError(_) => (0, 0, 0, 0),
            });
        stats.messages += message;
        stats.events += event;
        stats.applied += applied;
        stats.checksum += top;
    }
    (stats, books.live_orders() as u64)
}

/// The same pass the event way (`--path event`): decode -> `MarketEvent` -> `L3Books::apply`.
#[inline(never)]
fn measured_event_pass(data: &[u8], config: BookConfig) -> (PassStats, u64) {
    let mut norm = ItchNormalizer::new();
    let mut books = L3Books::new(config);
    let stats = book_pass_growing(data, &mut norm, &mut books);
    (stats, books.live_orders() as u64)
}

/// Frame, decode, normalise and apply every message, adding a book when the normaliser
/// names a new instrument (as the feed handler did before the direct path).
#[inline(always)]
fn book_pass_growing(data: &[u8], norm: &mut ItchNormalizer, books: &mut L3Books) -> PassStats {
    let mut stats = PassStats::default();
    for frame in ItchFramer::new(data) {
        let Ok(frame) = frame else { continue };
        let Ok(msg) = decode(frame.message) else {
            continue;
        };
        stats.messages += 1;
        if let Some(ev) = norm.normalize(&msg) {
            stats.events += 1;
            if ev.instrument.index() >= books.instruments() {
                books.ensure_instrument(ev.instrument);
            }
            if let Ok(applied) = books.apply(&ev) {
                stats.applied += 1;
                stats.checksum += u64::from(applied.top_changed);
            }
        }
    }
    stats
}

fn write_out(path: &str, bytes: &[u8]) -> Result<(), String> {
    let mut f = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
    f.write_all(bytes).map_err(|e| format!("{path}: {e}"))
}

fn flow_cmd(args: &[String]) -> Result<(), String> {
    let [layout, n, out, ..] = args else {
        return Err("flow dense|sparse MESSAGES OUT".into());
    };
    let n: usize = n.replace('_', "").parse().map_err(|_| "MESSAGES")?;
    let spec = match layout.as_str() {
        "dense" => FlowSpec::dense(n),
        "sparse" => FlowSpec::sparse(n),
        other => return Err(format!("layout {other}")),
    };
    let flow = encode_flow(&spec).map_err(|e| e.to_string())?;
    write_out(out, &flow.measured)?;
    println!(
        "{out}: {} messages, {} bytes",
        flow.messages,
        flow.measured.len()
    );
    Ok(())
}

/// Offsets of the order references in one ITCH message (by type).
fn ref_offsets(msg: &[u8]) -> &'static [usize] {
    match msg.first() {
        Some(b'A' | b'F' | b'E' | b'C' | b'X' | b'D') => &[11],
        Some(b'U') => &[11, 19],
        _ => &[],
    }
}

fn read_u64(msg: &[u8], at: usize) -> u64 {
    msg.get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

fn read_u32(msg: &[u8], at: usize) -> u32 {
    msg.get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
}

fn lobster_cmd(args: &[String]) -> Result<(), String> {
    let [messages, book, copies, out, ..] = args else {
        return Err("lobster MESSAGES.csv ORDERBOOK.csv COPIES OUT [--refs dense|sparse]".into());
    };
    let dense = !args.iter().any(|a| a == "sparse");
    let copies: u64 = copies.parse().map_err(|_| "COPIES")?;
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let plan = plan_import(
        parse_messages(&read(messages)?),
        parse_orderbook(&read(book)?),
    );
    let kcap = write_lobster_capture(&plan, "LOB", Timestamp::ZERO, Vec::new())
        .map_err(|e| e.to_string())?;
    let reader = KcapReader::from_vec(kcap).map_err(|e| e.to_string())?;
    // The day's messages once, in order.
    let mut day: Vec<Vec<u8>> = Vec::new();
    for r in reader.records() {
        let r = r.map_err(|e| e.to_string())?;
        let Ok(p) = MoldPacket::parse(r.payload) else {
            continue;
        };
        day.extend(p.messages().map(|(_, m)| m.to_vec()));
    }
    let mut out_bytes = Vec::new();
    let mut next_dense = 0u64;
    let mut synthetic = 0u64;
    let mut written = 0u64;
    for k in 0..copies {
        let mut renumber: HashMap<u64, u64> = HashMap::new();
        // Live orders of this copy: new ref -> (locate, shares).
        let mut live: HashMap<u64, (u16, u32)> = HashMap::new();
        let mut last_ts = [0u8; 6];
        for msg in &day {
            let mut m = msg.clone();
            for &at in ref_offsets(&m) {
                let old = read_u64(&m, at);
                let new = *renumber.entry(old).or_insert_with(|| {
                    if dense {
                        next_dense += 1;
                        next_dense
                    } else if old >= 1 << 36 {
                        // The importer's synthetic orders (from 2^62): below 2^36.
                        synthetic += 1;
                        k * 1_000_000_000 + 900_000_000 + synthetic
                    } else {
                        k * 1_000_000_000 + old
                    }
                });
                m[at..at + 8].copy_from_slice(&new.to_be_bytes());
            }
            let locate = u16::from_be_bytes([m[1], m[2]]);
            match m[0] {
                b'A' | b'F' => {
                    live.insert(read_u64(&m, 11), (locate, read_u32(&m, 20)));
                }
                b'E' | b'C' | b'X' => {
                    let r = read_u64(&m, 11);
                    let n = read_u32(&m, 19);
                    if let Some(o) = live.get_mut(&r) {
                        o.1 = o.1.saturating_sub(n);
                        if o.1 == 0 {
                            live.remove(&r);
                        }
                    }
                }
                b'D' => {
                    live.remove(&read_u64(&m, 11));
                }
                b'U' => {
                    live.remove(&read_u64(&m, 11));
                    live.insert(read_u64(&m, 19), (locate, read_u32(&m, 27)));
                }
                _ => {}
            }
            last_ts.copy_from_slice(&m[5..11]);
            out_bytes.extend_from_slice(&(m.len() as u16).to_be_bytes());
            out_bytes.extend_from_slice(&m);
            written += 1;
        }
        // End of the copy: delete what is still live, in reference order.
        let mut left: Vec<(u64, u16)> = live.iter().map(|(r, (l, _))| (*r, *l)).collect();
        left.sort_unstable();
        for (r, locate) in left {
            let mut d = [0u8; 19];
            d[0] = b'D';
            d[1..3].copy_from_slice(&locate.to_be_bytes());
            d[5..11].copy_from_slice(&last_ts);
            d[11..19].copy_from_slice(&r.to_be_bytes());
            out_bytes.extend_from_slice(&19u16.to_be_bytes());
            out_bytes.extend_from_slice(&d);
            written += 1;
        }
    }
    write_out(out, &out_bytes)?;
    println!(
        "{out}: {written} messages ({} per copy before the drain), {} bytes, refs {}",
        day.len(),
        out_bytes.len(),
        if dense { "dense" } else { "sparse" }
    );
    Ok(())
}

fn book_cmd(args: &[String]) -> Result<(), String> {
    let path = args.first().ok_or("book FILE")?;
    let passes: usize = args
        .iter()
        .position(|a| a == "--passes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let data = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    // Books start at the handler's default size (BookConfig::default: 65,536 orders) and grow
    // (counted) if the stream needs more, as the peer's do; `--capacity N` presizes them.
    let order_capacity = args
        .iter()
        .position(|a| a == "--capacity")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(BookConfig::default().order_capacity);
    let config = BookConfig {
        instruments: 16,
        order_capacity,
        levels_per_side: 64,
    };
    let mut best_wall = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    let event_path = match args
        .iter()
        .position(|a| a == "--path")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
    {
        None | Some("direct") => false,
        Some("event") => true,
        Some(other) => return Err(format!("--path {other}: direct or event")),
    };
    let mut last = (PassStats::default(), 0);
    for _ in 0..passes.max(1) {
        let cpu0 = thread_cpu_ns();
        let t0 = Instant::now();
        last = if event_path {
            measured_event_pass(std::hint::black_box(&data), config)
        } else {
            measured_file_pass(std::hint::black_box(&data), config)
        };
        let wall = t0.elapsed().as_secs_f64();
        let cpu = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
            _ => f64::NAN,
        };
        best_wall = best_wall.min(wall);
        best_cpu = best_cpu.min(cpu);
    }
    let (stats, live) = last;
    let n = stats.messages as f64;
    println!(
        "kestrel ({}) {path}: messages={} events={} applied={} live={live} best_wall={:.1}M msg/s ({:.1} ns/msg) best_cpu={:.1}M msg/s",
        if event_path { "event" } else { "direct" },
        stats.messages,
        stats.events,
        stats.applied,
        n / best_wall / 1e6,
        best_wall * 1e9 / n,
        n / best_cpu / 1e6
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let result = match args.first().map(String::as_str) {
        Some("flow") => flow_cmd(rest),
        Some("lobster") => lobster_cmd(rest),
        Some("book") => book_cmd(rest),
        _ => Err("usage: peer_itch flow|lobster|book ...".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peer_itch: {e}");
            ExitCode::FAILURE
        }
    }
}
