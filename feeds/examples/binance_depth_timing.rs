//! Quick wall-clock check of Binance depth frame decode + apply, beside serde_json in the same
//! run (best of N passes over the bundled captures' real diffs after their snapshots). The
//! criterion version is `cargo bench -p kestrel-bench --bench binance_decode`.
//!
//! `cargo run --release -p kestrel-feeds --example binance_depth_timing [passes]`

use std::time::Instant;

use kestrel_core::book::L2Books;
use kestrel_core::{BookEventKind, InstrumentId, MarketEvent, Price, Qty, Side, Timestamp};
use kestrel_feeds::binance::capture::{capture_lines, is_snapshot, read_capture_file};
use kestrel_feeds::binance::{BinanceConfig, BinanceFeed, Market, builtin_spec, spec_table};
use kestrel_feeds::venue::VenueEvent;

#[derive(serde::Deserialize)]
struct Wrapper {
    data: DepthJson,
}

#[derive(serde::Deserialize)]
struct DepthJson {
    #[serde(rename = "E")]
    event_time: u64,
    u: u64,
    b: Vec<[String; 2]>,
    a: Vec<[String; 2]>,
}

/// `"key":<integer>` in a JSON frame (setup only).
fn json_u64(json: &[u8], key: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(json).expect("JSON");
    let v = v.get("data").unwrap_or(&v);
    v[key].as_u64().expect("integer")
}

fn serde_json_apply(books: &mut L2Books, frame: &[u8]) -> u64 {
    let Ok(w) = serde_json::from_slice::<Wrapper>(frame) else {
        return 0;
    };
    let d = w.data;
    for (side, levels) in [(Side::Buy, &d.b), (Side::Sell, &d.a)] {
        for [p, q] in levels {
            let (Ok(price), Ok(qty)) = (
                Price::parse_bytes(p.as_bytes()),
                Qty::parse_bytes(q.as_bytes()),
            ) else {
                continue;
            };
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
    let passes: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    for (name, file, market) in [
        ("spot", "spot_btcusdt_20240808.gz", Market::Spot),
        ("usdm", "usdm_btcusdt_20240808.gz", Market::UsdM),
    ] {
        let path = format!("{}/../data/binance/{file}", env!("CARGO_MANIFEST_DIR"));
        let bytes = read_capture_file(std::path::Path::new(&path)).expect("bundled capture");
        let mut snapshot = Vec::new();
        let mut diffs: Vec<Vec<u8>> = Vec::new();
        for l in capture_lines(&bytes).flatten() {
            if is_snapshot(l.json) {
                snapshot = l.json.to_vec();
            } else if l.json.windows(11).any(|w| w == b"depthUpdate") {
                diffs.push(l.json.to_vec());
            }
        }
        // The frames a synchronised feed applies: from the diff that bridges the snapshot
        // (it arrived before the snapshot line and was buffered) onwards. Spot applies from
        // u >= lastUpdateId + 1, futures from u >= lastUpdateId.
        let last = json_u64(&snapshot, "lastUpdateId");
        let from = if market == Market::Spot {
            last + 1
        } else {
            last
        };
        diffs.retain(|d| json_u64(d, "u") >= from);
        let levels: usize = diffs
            .iter()
            .map(|d| d.iter().filter(|&&b| b == b'[').count() - 2)
            .sum();
        let table = spec_table(&[builtin_spec(market, "BTCUSDT").expect("spec")]).expect("table");
        let (mut best_k, mut best_s) = (f64::MAX, f64::MAX);
        let mut applied = 0;
        for _ in 0..passes {
            let mut feed = BinanceFeed::new(BinanceConfig::new(market), table.clone());
            let mut sink = |_: &VenueEvent, _: &L2Books| {};
            let _ = feed.on_message(Timestamp(1), 1, &snapshot, &mut sink);
            let t = Instant::now();
            for d in &diffs {
                let _ = feed.on_message(Timestamp(2), 0, d, &mut sink);
            }
            best_k = best_k.min(t.elapsed().as_secs_f64());
            applied = feed.stats().diffs_applied;
            // Every frame went through the apply path (not buffered after a gap).
            assert_eq!(applied, diffs.len() as u64, "{name}: {:?}", feed.stats());
            let mut books = L2Books::new(BinanceConfig::new(market).books);
            let t = Instant::now();
            let mut u = 0;
            for d in &diffs {
                u ^= serde_json_apply(&mut books, d);
            }
            best_s = best_s.min(t.elapsed().as_secs_f64());
            std::hint::black_box(u);
        }
        let n = diffs.len() as f64;
        println!(
            "{name}: {} frames ({:.1} levels/frame, {applied} applied), best of {passes}: kestrel {:.0} ns/frame, serde_json {:.0} ns/frame, ratio {:.2}x",
            diffs.len(),
            levels as f64 / n,
            best_k / n * 1e9,
            best_s / n * 1e9,
            best_s / best_k
        );
    }
}
