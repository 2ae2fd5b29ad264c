//! Binance depth frame decode + apply, on the bundled captures' real `depthUpdate` frames.
//!
//! - `binance_depth/kestrel/{spot,usdm}`: the feed's path per frame: sonic-rs decode straight to
//!   fixed point into reused scratch, tick/lot check, continuity check, L2 book apply, publish.
//! - `binance_depth/serde_json/{spot,usdm}`: the baseline in the same run: `serde_json` into an
//!   owned struct (`Vec<[String; 2]>` levels, the usual way), the same fixed-point parse and the
//!   same L2 book apply.
//!
//! Frames are replayed as a synchronised stream: the snapshot, then the capture's diffs from the
//! one that bridges it (`U <= lastUpdateId + 1 <= u` on spot, `U <= lastUpdateId <= u` on
//! futures; in the capture it arrived before the snapshot and was buffered) onwards, so every
//! frame is applied, not buffered or dropped. The bench checks that before it times anything.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use kestrel_core::book::L2Books;
use kestrel_core::{BookEventKind, InstrumentId, MarketEvent, Price, Qty, Side, Timestamp};
use kestrel_feeds::binance::capture::{capture_lines, is_snapshot, read_capture_file};
use kestrel_feeds::binance::{BinanceConfig, BinanceFeed, Market, builtin_spec, spec_table};
use kestrel_feeds::venue::VenueEvent;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/binance/");

/// `"key":<integer>` in a JSON frame (setup only).
fn json_u64(json: &[u8], key: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    let v = v.get("data").unwrap_or(&v);
    v[key].as_u64().unwrap()
}

/// The snapshot and the depth frames that a synchronised feed applies after it, in capture
/// order: from the diff that bridges the snapshot onwards (whether it arrived before or after
/// the snapshot line).
fn frames(file: &str, market: Market) -> (Vec<u8>, Vec<Vec<u8>>) {
    let bytes = read_capture_file(std::path::Path::new(&format!("{DATA}{file}"))).unwrap();
    let mut snapshot = Vec::new();
    let mut diffs = Vec::new();
    for l in capture_lines(&bytes).flatten() {
        if is_snapshot(l.json) {
            snapshot = l.json.to_vec();
        } else if contains(l.json, b"depthUpdate") {
            diffs.push(l.json.to_vec());
        }
    }
    let last = json_u64(&snapshot, "lastUpdateId");
    // Spot applies from the diff with u >= lastUpdateId + 1, futures from u >= lastUpdateId.
    let from = if market == Market::Spot {
        last + 1
    } else {
        last
    };
    diffs.retain(|d| json_u64(d, "u") >= from);
    (snapshot, diffs)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn fresh_feed(market: Market, snapshot: &[u8]) -> BinanceFeed {
    let table = spec_table(&[builtin_spec(market, "BTCUSDT").unwrap()]).unwrap();
    let mut f = BinanceFeed::new(BinanceConfig::new(market), table);
    let mut sink = |_: &VenueEvent, _: &L2Books| {};
    f.on_message(Timestamp(1), 1, snapshot, &mut sink).unwrap();
    f
}

#[derive(serde::Deserialize)]
struct Wrapper {
    data: DepthJson,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct DepthJson {
    e: String,
    #[serde(rename = "E")]
    event_time: u64,
    s: String,
    #[serde(rename = "U")]
    first: u64,
    u: u64,
    pu: Option<u64>,
    b: Vec<[String; 2]>,
    a: Vec<[String; 2]>,
}

/// The baseline: serde_json to an owned struct, then the same fixed-point parse and apply.
fn serde_json_apply(books: &mut L2Books, frame: &[u8]) -> u64 {
    let w: Wrapper = serde_json::from_slice(frame).unwrap();
    let d = w.data;
    for (side, levels) in [(Side::Buy, &d.b), (Side::Sell, &d.a)] {
        for [p, q] in levels {
            let price = Price::parse_bytes(p.as_bytes()).unwrap();
            let qty = Qty::parse_bytes(q.as_bytes()).unwrap();
            let _ = books.apply(&MarketEvent {
                instrument: InstrumentId(0),
                exch_ts: Timestamp(d.event_time),
                kind: BookEventKind::Level { side, price, qty },
            });
        }
    }
    d.u
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(std::time::Duration::from_secs(3));
    let mut group = c.benchmark_group("binance_depth");
    for (name, file, market) in [
        ("spot", "spot_btcusdt_20240808.gz", Market::Spot),
        ("usdm", "usdm_btcusdt_20240808.gz", Market::UsdM),
    ] {
        let (snapshot, diffs) = frames(file, market);
        // Every frame is applied (a bench of the buffering or gap path would be a wrong figure).
        let mut feed = fresh_feed(market, &snapshot);
        let mut sink = |_: &VenueEvent, _: &L2Books| {};
        for d in &diffs {
            feed.on_message(Timestamp(2), 0, d, &mut sink).unwrap();
        }
        let s = feed.stats();
        assert_eq!(
            (s.snapshots_applied, s.diffs_applied, s.gaps),
            (1, diffs.len() as u64, 0),
            "{name}: not every frame applied: {s:?}"
        );
        let levels: usize = diffs
            .iter()
            .map(|d| d.iter().filter(|&&b| b == b'[').count() - 2)
            .sum();
        eprintln!(
            "{name}: {} frames, {:.1} levels per frame on average",
            diffs.len(),
            levels as f64 / diffs.len() as f64
        );
        group.throughput(Throughput::Elements(diffs.len() as u64));
        group.bench_function(format!("kestrel/{name}"), |b| {
            b.iter_batched_ref(
                || fresh_feed(market, &snapshot),
                |feed| {
                    let mut sink = |_: &VenueEvent, _: &L2Books| {};
                    for d in &diffs {
                        let _ = feed.on_message(Timestamp(2), 0, d, &mut sink);
                    }
                    black_box(feed.stats().diffs_applied)
                },
                criterion::BatchSize::LargeInput,
            );
        });
        group.bench_function(format!("serde_json/{name}"), |b| {
            b.iter_batched_ref(
                || {
                    // The same book sizes as the feed's.
                    L2Books::new(BinanceConfig::new(market).books)
                },
                |books| {
                    let mut u = 0;
                    for d in &diffs {
                        u ^= serde_json_apply(books, d);
                    }
                    black_box(u)
                },
                criterion::BatchSize::LargeInput,
            );
        });
    }
    group.finish();
    c.final_summary();
}
