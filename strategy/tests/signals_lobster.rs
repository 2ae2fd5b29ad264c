//! Signals on the bundled LOBSTER AAPL sample, read through the feed code: every incremental
//! value equals a direct recomputation from the whole history at every one of the 1,004 updates.

mod lobster_sample;

use kestrel_core::{BookUpdate, InstrumentId};
use kestrel_strategy::signals::{BookState, SignalConfig, SignalSet};

/// Updates the feed publishes for the sample (see `sample_reads_cleanly_and_emits_finite_values`).
const UPDATES: usize = 1_004;

/// The AAPL sample through the feed code.
fn updates() -> Vec<BookUpdate> {
    lobster_sample::aapl_updates()
}

fn config() -> SignalConfig {
    SignalConfig {
        ofi_events: 50,
        ofi_window_ns: 500_000_000,
        trade_window: 20,
        vpin_bucket_volume: 200.0,
        vpin_buckets: 10,
        vol_halflife_events: 20.0,
        kyle_window: 100,
        ..SignalConfig::default()
    }
}

/// Best bid/ask as raw integers when the book is normal.
#[derive(Clone, Copy, Debug)]
struct Top {
    bid: i64,
    bq: i64,
    ask: i64,
    aq: i64,
}

fn top(u: &BookUpdate) -> Option<Top> {
    let b = u.top.best_bid()?;
    let a = u.top.best_ask()?;
    (b.price < a.price).then_some(Top {
        bid: b.price.raw(),
        bq: b.qty.raw(),
        ask: a.price.raw(),
        aq: a.qty.raw(),
    })
}

/// Cont-Kukanov-Stoikov e_n written out case by case.
fn cks(p: Top, c: Top) -> i128 {
    let bid_part = if c.bid > p.bid {
        c.bq as i128
    } else if c.bid == p.bid {
        c.bq as i128 - p.bq as i128
    } else {
        -(p.bq as i128)
    };
    let ask_part = if c.ask < p.ask {
        c.aq as i128
    } else if c.ask == p.ask {
        c.aq as i128 - p.aq as i128
    } else {
        -(p.aq as i128)
    };
    bid_part - ask_part
}

#[test]
fn sample_reads_cleanly_and_emits_finite_values() {
    let ups = updates();
    // 999 events read through the feed: one update per event, plus the initial book before the
    // first one, plus one for each of the 4 executions whose print went out before the levels
    // they uncovered beyond the 10-level window were learned (a print is never merged into a
    // later update). The old direct reader gave one update per row: 999.
    assert_eq!(ups.len(), UPDATES);
    // 98 visible (ITCH E) and 61 hidden (ITCH P) executions print; the sample has no cross
    // (type 6), so no volume would be counted twice either way.
    assert_eq!(
        ups.iter().filter(|u| u.trade.qty.is_positive()).count(),
        159
    );
    let mut set = SignalSet::new(1, &config());
    for u in &ups {
        let v = set.update(u).expect("instrument 0 exists");
        for f in v.features() {
            assert!(f.is_finite());
        }
        assert_eq!(v.book, BookState::Normal);
        assert!(v.spread_ticks >= 1.0 - 1e-9, "{}", v.spread_ticks);
        assert!((-1.0..=1.0).contains(&v.top_imbalance));
        assert!((-1.0..=1.0).contains(&v.depth_imbalance));
        assert!((0.0..=1.0).contains(&v.vpin));
        assert!((0.0..=1.0).contains(&v.liquidity));
        assert!(v.microprice >= v.mid - v.spread_bps * v.mid / 2e4 - 1e-9);
    }
    let st = set.stats(InstrumentId(0)).expect("stats");
    assert_eq!(st.updates, UPDATES as u64);
    assert_eq!(st.nonfinite_clamped, 0);
    assert_eq!(st.crossed_books + st.locked_books + st.empty_books, 0);
    assert_eq!(set.unknown_instrument(), 0);
}

#[test]
fn book_shape_signals_match_direct_formulas() {
    let ups = updates();
    let mut set = SignalSet::new(1, &config());
    let w = config().depth_weights;
    for u in &ups {
        let v = set.update(u).expect("instrument");
        let t = top(u).expect("normal book");
        let (bq, aq) = (t.bq as f64, t.aq as f64);
        assert!((v.top_imbalance - (bq - aq) / (bq + aq)).abs() < 1e-12);
        let (bid, ask) = (t.bid as f64 / 1e8, t.ask as f64 / 1e8);
        let micro = (bid * aq + ask * bq) / (bq + aq);
        assert!((v.microprice - micro).abs() < 1e-9);
        assert!((v.spread_ticks - (ask - bid) / 0.01).abs() < 1e-9);
        assert!((v.spread_bps - (ask - bid) / ((ask + bid) / 2.0) * 1e4).abs() < 1e-9);
        let wb: f64 = u.top.bids[..u.top.bid_levels as usize]
            .iter()
            .zip(w)
            .map(|(l, w)| w * l.qty.to_f64())
            .sum();
        let wa: f64 = u.top.asks[..u.top.ask_levels as usize]
            .iter()
            .zip(w)
            .map(|(l, w)| w * l.qty.to_f64())
            .sum();
        assert!((v.depth_imbalance - (wb - wa) / (wb + wa)).abs() < 1e-12);
        // Depth within the band: every visible level at most band_bps from the mid.
        let mid = (bid + ask) / 2.0;
        let band = mid * config().liquidity_band_bps / 1e4;
        let in_band: f64 = u.top.bids[..u.top.bid_levels as usize]
            .iter()
            .chain(&u.top.asks[..u.top.ask_levels as usize])
            .filter(|l| (l.price.to_f64() - mid).abs() <= band + 1e-9)
            .map(|l| l.qty.to_f64())
            .sum();
        assert_eq!(v.depth_in_band, in_band);
        assert_eq!(
            v.levels,
            u32::from(u.top.bid_levels) + u32::from(u.top.ask_levels)
        );
    }
}

#[test]
fn ofi_incremental_equals_direct_in_both_windows() {
    let ups = updates();
    let c = config();
    let mut set = SignalSet::new(1, &c);
    let mut entries: Vec<(u64, i128, i128)> = Vec::new();
    let mut checked_time = 0;
    for (k, u) in ups.iter().enumerate() {
        set.update(u);
        if k > 0
            && let (Some(p), Some(cur)) = (top(&ups[k - 1]), top(u))
        {
            entries.push((u.exch_ts.nanos(), cks(p, cur), (cur.bq + cur.aq) as i128));
        }
        let sig = &set.instrument(InstrumentId(0)).expect("state").ofi;
        let last: Vec<_> = entries.iter().rev().take(c.ofi_events).collect();
        let e: i128 = last.iter().map(|x| x.1).sum();
        let d: i128 = last.iter().map(|x| x.2).sum();
        let ev = sig.event_window();
        assert_eq!((ev.e, ev.depth2, ev.n), (e, d, last.len()), "update {k}");
        let now = u.exch_ts.nanos();
        let recent: Vec<_> = entries
            .iter()
            .filter(|x| now - x.0 < c.ofi_window_ns)
            .collect();
        let tw = sig.time_window();
        let te: i128 = recent.iter().map(|x| x.1).sum();
        assert_eq!((tw.e, tw.n), (te, recent.len()), "update {k}");
        if recent.len() > 1 && recent.len() < entries.len() {
            checked_time += 1;
        }
        // The normalised OFI divides by the mean depth.
        if d > 0 {
            let mean_depth = d as f64 / 2.0 / last.len() as f64;
            assert!((ev.normalized() - e as f64 / mean_depth).abs() < 1e-9);
        }
    }
    assert!(
        checked_time > 100,
        "time window rarely rolled: {checked_time}"
    );
    assert_eq!(
        set.stats(InstrumentId(0)).map(|s| s.time_window_overflows),
        Some(0)
    );
}

#[test]
fn trade_flow_and_vpin_equal_direct() {
    let ups = updates();
    let c = config();
    let mut set = SignalSet::new(1, &c);
    let mut trades: Vec<(f64, i8)> = Vec::new();
    let mut vpin_checks = 0;
    for u in &ups {
        let v = set.update(u).expect("instrument");
        // Only prints with a known aggressor are buys or sells (type 5 hidden executions are
        // not).
        if u.trade.qty.is_positive() && u.trade.aggressor != 0 {
            trades.push((u.trade.qty.to_f64(), u.trade.aggressor));
        }
        let last: Vec<_> = trades.iter().rev().take(c.trade_window).collect();
        let signed: f64 = last.iter().map(|t| t.0 * f64::from(t.1)).sum();
        let total: f64 = last.iter().map(|t| t.0).sum();
        let tfi = if total > 0.0 { signed / total } else { 0.0 };
        assert!((v.trade_imbalance - tfi).abs() < 1e-12);

        // VPIN from scratch: fill buckets of V with every trade so far.
        let bv = c.vpin_bucket_volume;
        let mut buckets: Vec<f64> = Vec::new();
        let (mut buy, mut sell) = (0.0, 0.0);
        for &(q, a) in &trades {
            let share = if a > 0 { 1.0 } else { 0.0 };
            let mut rem = q;
            while rem > 0.0 {
                let take = rem.min(bv - buy - sell);
                buy += take * share;
                sell += take * (1.0 - share);
                rem -= take;
                if buy + sell >= bv * (1.0 - 1e-12) {
                    buckets.push((buy - sell).abs());
                    buy = 0.0;
                    sell = 0.0;
                }
            }
        }
        let window: Vec<f64> = buckets.iter().rev().take(c.vpin_buckets).copied().collect();
        let direct = if window.is_empty() {
            0.0
        } else {
            window.iter().sum::<f64>() / (window.len() as f64 * bv)
        };
        assert!((v.vpin - direct).abs() < 1e-9, "{} vs {direct}", v.vpin);
        if buckets.len() > c.vpin_buckets {
            vpin_checks += 1;
        }
    }
    assert!(vpin_checks > 100, "VPIN window never rolled");
}

#[test]
fn volatility_and_kyle_equal_direct() {
    let ups = updates();
    let c = config();
    let lambda = (-std::f64::consts::LN_2 / c.vol_halflife_events).exp();
    let mut set = SignalSet::new(1, &c);
    let mut returns: Vec<f64> = Vec::new();
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut kyle_checks = 0;
    for (k, u) in ups.iter().enumerate() {
        let v = set.update(u).expect("instrument");
        if k > 0
            && let (Some(p), Some(cur)) = (top(&ups[k - 1]), top(u))
        {
            let (m0, m1) = ((p.bid + p.ask) as f64, (cur.bid + cur.ask) as f64);
            returns.push((m1 / m0).ln());
            let x = (u.trade.qty.raw() / 10_000) as f64 * f64::from(u.trade.aggressor);
            // A print with an unknown aggressor gives no point.
            if !(u.trade.qty.is_positive() && u.trade.aggressor == 0) {
                points.push((x, m1 - m0));
            }
        }
        // EWMA variance written as an explicit weighted sum.
        let m = returns.len();
        let var: f64 = returns
            .iter()
            .enumerate()
            .map(|(j, r)| (1.0 - lambda) * lambda.powi((m - 1 - j) as i32) * r * r)
            .sum();
        let direct = var.sqrt() * 1e4;
        assert!(
            (v.vol_event_bps - direct).abs() <= 1e-9 * direct.max(1e-3),
            "{} vs {direct}",
            v.vol_event_bps
        );

        // Kyle: centred OLS slope over the last window of points.
        let w: Vec<_> = points.iter().rev().take(c.kyle_window).collect();
        let n = w.len() as f64;
        let mx = w.iter().map(|p| p.0).sum::<f64>() / n.max(1.0);
        let my = w.iter().map(|p| p.1).sum::<f64>() / n.max(1.0);
        let sxx: f64 = w.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
        let sxy: f64 = w.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        if sxx > 0.0 {
            // Slope in raw (bid+ask) per x unit -> price per share.
            let direct = sxy / sxx * 0.5 * 1e-8 * 1e4;
            assert!(
                (v.kyle_lambda - direct).abs() <= 1e-9 * direct.abs().max(1e-12),
                "{} vs {direct}",
                v.kyle_lambda
            );
            kyle_checks += 1;
        } else {
            assert_eq!(v.kyle_lambda, 0.0);
        }
    }
    assert!(kyle_checks > 800);
}
