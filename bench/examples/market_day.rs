//! The synthetic full-market ITCH day: generate it, and replay it through the feed handler
//! (MoldUDP64, ITCH decode, normaliser, L3 books for every symbol) measuring the rate and the
//! peak resident memory.
//!
//! ```text
//! market_day gen --out F [--format kcap|itch] [--symbols 5000] [--messages 50000000]
//!                [--refs dense|sparse] [--seed N] [--live 1000000]
//! market_day gen --single --out F [--messages 5000000] [--refs dense|sparse]
//! market_day feed F.kcap [--keep-resident] [--capacity ORDERS] [--prefetch auto|always|off] [--no-huge]
//! market_day ceiling F.kcap [--prefetch auto|always|off] [--fifo | --append]
//! ```
//!
//! `feed` prints `messages=.. events=.. wall_s=.. cpu_s=.. msg_per_s=.. cpu_msg_per_s=..
//! peak_rss_mib=.. anomalies=.. book_hash=..`; the peak is the kernel's high-water mark of the
//! resident set (`VmHWM`, which includes the capture's mapped pages), read after the replay.
//! `--keep-resident` turns the reader's release of the pages behind it off (for comparison).
//! `--prefetch` sets the handler's packet-batched prefetch (`auto`, the default: from 16,384
//! live orders; `always`; `off`), `--no-huge` turns transparent
//! huge pages for the process (the books' arrays then stay on 4 KiB pages); the line ends with
//! `anon_huge_mib=`, the huge pages the process held (`AnonHugePages` of
//! `/proc/self/smaps_rollup`) after the replay. Neither changes `book_hash`. Both `feed` and
//! `ceiling` end with `top5_hash=`, a fingerprint of every symbol's five best levels a side
//! (price, aggregate shares), equal when the two agree.
//!
//! `ceiling` replays the capture through the same reader, MoldUDP64 sequencer and ITCH message
//! views into a deliberately minimal book (`kestrel_bench::market_day::ceiling`: per order
//! found by its dense reference, per instrument and side aggregate shares at each price and the
//! best): the rate any L3 book could reach on the day. It sizes its arrays from a first,
//! untimed pass over the capture; the same `--prefetch` rule as `feed` (a datagram's order
//! records and levels, before it is applied). `--fifo` adds the classic FIFO queues (links in
//! a 32-byte order record, head and tail per level), to measure what they cost; `--append`
//! the same queues append-only with lazy deletion (see the module's docs).

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::Instant;

use kestrel_bench::itch_stream::thread_cpu_ns;
use kestrel_bench::market_day::ceiling::{
    Ceiling, CeilingPrefetch, DayExtent, Q_APPEND, Q_FIFO, Q_NONE, top_hash,
};
use kestrel_bench::market_day::{
    DayReport, ItchFileSink, KcapSink, MarketDaySpec, RefStyle, TYPE_ORDER, generate,
};
use kestrel_core::book::{BookConfig, L3Books, disable_process_huge_pages};
use kestrel_core::{Side, Timestamp};
use kestrel_feeds::handler::{BatchPrefetch, EventSink, FeedEvent, FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::{KcapError, KcapReader, Record};

fn value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn parsed<T: core::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    match value(args, name) {
        None => Ok(default),
        Some(v) => v
            .replace('_', "")
            .parse()
            .map_err(|_| format!("{name}: cannot read `{v}`")),
    }
}

/// `AnonHugePages` of `/proc/self/smaps_rollup`, in KiB.
fn anon_huge_kib() -> u64 {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `/proc/self/status` fields in KiB: `VmHWM`, `VmRSS`, `RssAnon`, `RssFile`.
fn memory_kib() -> [u64; 4] {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    [
        field("VmHWM:"),
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
    ]
}

fn print_report(r: &DayReport, bytes: u64, secs: f64) {
    let types: Vec<String> = TYPE_ORDER
        .iter()
        .zip(r.per_type)
        .map(|(t, n)| format!("{}={n}", *t as char))
        .collect();
    println!(
        "messages={} file_bytes={} peak_live={} final_live={} refs={} hash={:016x} gen_s={secs:.1}",
        r.messages, bytes, r.peak_live, r.final_live, r.refs_issued, r.hash
    );
    println!("types {}", types.join(" "));
}

fn gen_cmd(args: &[String]) -> Result<(), String> {
    let out = value(args, "--out").ok_or("gen needs --out FILE")?;
    let refs: RefStyle = parsed(args, "--refs", RefStyle::Dense)?;
    let mut spec = if args.iter().any(|a| a == "--single") {
        MarketDaySpec::single_symbol(5_000_000, refs)
    } else {
        MarketDaySpec::full_market(refs)
    };
    spec.symbols = parsed(args, "--symbols", spec.symbols)?;
    spec.messages = parsed(args, "--messages", spec.messages)?;
    spec.seed = parsed(args, "--seed", spec.seed)?;
    spec.live_orders = parsed(args, "--live", spec.live_orders)?;
    let format = value(args, "--format").unwrap_or("kcap");
    let file = File::create(out).map_err(|e| format!("{out}: {e}"))?;
    let start = Instant::now();
    let report = match format {
        "kcap" => {
            let mut sink = KcapSink::new(BufWriter::with_capacity(1 << 20, file), Timestamp(0));
            generate(&spec, &mut sink).map_err(|e| e.to_string())?
        }
        "itch" => {
            let mut sink = ItchFileSink::new(BufWriter::with_capacity(1 << 20, file));
            generate(&spec, &mut sink).map_err(|e| e.to_string())?
        }
        other => return Err(format!("--format {other}: kcap or itch")),
    };
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    print_report(&report, bytes, start.elapsed().as_secs_f64());
    Ok(())
}

fn feed_cmd(args: &[String]) -> Result<(), String> {
    let path = args.first().ok_or("feed needs a capture")?;
    let mut reader = KcapReader::open(path).map_err(|e| e.to_string())?;
    if args.iter().any(|a| a == "--keep-resident") {
        reader = reader.with_release_behind(0);
    }
    let huge = !args.iter().any(|a| a == "--no-huge");
    if !huge && !disable_process_huge_pages() {
        return Err("--no-huge: the kernel refused PR_SET_THP_DISABLE".to_owned());
    }
    let prefetch = match value(args, "--prefetch").unwrap_or("auto") {
        "auto" => BatchPrefetch::DEFAULT,
        "always" => BatchPrefetch::Always,
        "off" => BatchPrefetch::Off,
        other => return Err(format!("--prefetch {other}: auto, always or off")),
    };
    let instruments = reader.header().instruments.len();
    // Books for every symbol; orders as the handler's default (65,536, growing as needed)
    // unless `--capacity N` presizes them.
    let order_capacity = parsed(args, "--capacity", BookConfig::default().order_capacity)?;
    let config = HandlerConfig {
        books: BookConfig {
            instruments,
            order_capacity,
            levels_per_side: 64,
        },
        ..HandlerConfig::default()
    };
    let mut handler = FeedHandler::for_capture(config, reader.header())
        .map_err(|e| e.to_string())?
        .with_batch_prefetch(prefetch);
    let mut applied = 0u64;
    let mut sink = |e: &FeedEvent, _: &L3Books| applied += u64::from(e.outcome.is_ok());
    let before = memory_kib();
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    let mut records = reader.records();
    replay_feed(&mut handler, records.by_ref(), &mut sink);
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
        _ => f64::NAN,
    };
    let after = memory_kib();
    let s = handler.stats();
    let msgs = s.itch_messages as f64;
    println!(
        "prefetch={prefetch:?} huge={huge} messages={} events={} applied={} instruments={} wall_s={wall:.3} cpu_s={cpu:.3} msg_per_s={:.2}M cpu_msg_per_s={:.2}M",
        s.itch_messages,
        s.events,
        applied,
        handler.books().instruments(),
        msgs / wall / 1e6,
        msgs / cpu / 1e6
    );
    println!(
        "peak_rss_mib={:.1} rss_at_start_mib={:.1} rss_end_mib={:.1} rss_anon_mib={:.1} rss_file_mib={:.1} released_mib={:.1} live_orders={} in_window={} in_table={} growths={} anomalies={} anon_huge_mib={:.1} book_hash={:016x}",
        after[0] as f64 / 1024.0,
        before[1] as f64 / 1024.0,
        after[1] as f64 / 1024.0,
        after[2] as f64 / 1024.0,
        after[3] as f64 / 1024.0,
        records.stats().released_bytes as f64 / (1 << 20) as f64,
        handler.books().live_orders(),
        handler.books().order_map_split().0,
        handler.books().order_map_split().1,
        s.book.order_pool_growths + s.book.order_map_growths + s.book.level_growths,
        s.anomalies(),
        anon_huge_kib() as f64 / 1024.0,
        handler.books_hash()
    );
    println!("top5_hash={:016x}", feed_top_hash(&handler, 5));
    Ok(())
}

/// The timed replay, out of line so that `callgrind --toggle-collect=*replay_feed*` counts it
/// alone (as `*Ceiling*replay_records*` for `ceiling`).
#[inline(never)]
fn replay_feed<'a, S: EventSink + ?Sized>(
    handler: &mut FeedHandler,
    records: impl Iterator<Item = Result<Record<'a>, KcapError>>,
    sink: &mut S,
) {
    handler.replay_records(records, sink);
}

/// [`top_hash`] of the handler's books: every instrument's best `depth` levels a side.
fn feed_top_hash(handler: &FeedHandler, depth: usize) -> u64 {
    let books = handler.books();
    top_hash(handler.instruments().iter().map(|i| {
        let side = |side| {
            books
                .levels(i.id, side)
                .take(depth)
                .map(|l| (l.price, l.qty))
                .collect()
        };
        (i.symbol.clone(), [side(Side::Buy), side(Side::Sell)])
    }))
}

fn ceiling_cmd(args: &[String]) -> Result<(), String> {
    let path = args.first().ok_or("ceiling needs a capture")?;
    let prefetch = match value(args, "--prefetch").unwrap_or("auto") {
        "auto" => CeilingPrefetch::FromLiveOrders(16_384),
        "always" => CeilingPrefetch::Always,
        "off" => CeilingPrefetch::Off,
        other => return Err(format!("--prefetch {other}: auto, always or off")),
    };
    let scan = Instant::now();
    let extent = {
        let reader = KcapReader::open(path).map_err(|e| e.to_string())?;
        DayExtent::scan(reader.records())
    };
    let scan_s = scan.elapsed().as_secs_f64();
    let mut reader = KcapReader::open(path).map_err(|e| e.to_string())?;
    if args.iter().any(|a| a == "--keep-resident") {
        reader = reader.with_release_behind(0);
    }
    let flag = |name: &str| args.iter().any(|a| a == name);
    match (flag("--fifo"), flag("--append")) {
        (true, true) => Err("--fifo and --append: one queue kind at a time".to_owned()),
        (true, false) => run_ceiling::<Q_FIFO>(&extent, &reader, prefetch, scan_s),
        (false, true) => run_ceiling::<Q_APPEND>(&extent, &reader, prefetch, scan_s),
        (false, false) => run_ceiling::<Q_NONE>(&extent, &reader, prefetch, scan_s),
    }
}

/// The timed part of `ceiling`, for the minimal book or (`Q`) a variant with queues.
fn run_ceiling<const Q: u8>(
    extent: &DayExtent,
    reader: &KcapReader,
    prefetch: CeilingPrefetch,
    scan_s: f64,
) -> Result<(), String> {
    let mut ceiling = Ceiling::<Q>::new(extent, prefetch).map_err(|e| e.to_string())?;
    let before = memory_kib();
    let cpu0 = thread_cpu_ns();
    let start = Instant::now();
    ceiling.replay_records(reader.records());
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
        _ => f64::NAN,
    };
    let after = memory_kib();
    let msgs = ceiling.messages() as f64;
    let books = ceiling.books();
    println!(
        "prefetch={prefetch:?} queues={} messages={} applied={} wall_s={wall:.3} cpu_s={cpu:.3} msg_per_s={:.2}M cpu_msg_per_s={:.2}M scan_s={scan_s:.1}",
        ["none", "fifo", "append"][usize::from(Q.min(2))],
        ceiling.messages(),
        books.stats().applied,
        msgs / wall / 1e6,
        msgs / cpu / 1e6
    );
    println!(
        "peak_rss_mib={:.1} rss_at_start_mib={:.1} footprint_mib={:.1} max_ref={} level_slots={} live_orders={} anomalies={} anon_huge_mib={:.1} chunks_used={} chunk_growths={}",
        after[0] as f64 / 1024.0,
        before[1] as f64 / 1024.0,
        books.footprint_bytes() as f64 / (1 << 20) as f64,
        extent.max_ref(),
        extent.level_slots(),
        books.live_orders(),
        books.stats().anomalies(),
        anon_huge_kib() as f64 / 1024.0,
        books.chunks_used(),
        books.chunk_growths(),
    );
    println!("top5_hash={:016x}", books.top_hash(5));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("gen") => gen_cmd(&args[1..]),
        Some("feed") => feed_cmd(&args[1..]),
        Some("ceiling") => ceiling_cmd(&args[1..]),
        _ => Err(
            "usage: market_day gen --out F [...] | market_day feed F.kcap | market_day ceiling F.kcap"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("market_day: {e}");
            ExitCode::FAILURE
        }
    }
}
