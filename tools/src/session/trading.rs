//! The figures traders read after a backtest or a session: fills and their hash, P&L
//! (realised, unrealised, fees), Sharpe and Sortino of per-interval P&L, maximum drawdown, win
//! rate, fill ratio, average queue position at fill, inventory range, tick-to-trade
//! percentiles, TCA and risk events. They go into `summary.json` under plain top-level keys
//! and into the printed report; the equity curve goes to `pnl.csv` (for `kestrel hist plot`).

use std::fmt::Write as _;

use kestrel_core::latency::Histogram;
use kestrel_core::{InstrumentId, Side, Timestamp};
use kestrel_gateway::oms::Fill;
use serde::{Deserialize, Serialize};

/// Money in dollars.
fn dollars(m: i128) -> f64 {
    kestrel_gateway::oms::money_f64(m)
}

/// P&L, dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PnlSummary {
    /// Realised (FIFO), before fees.
    pub realised: f64,
    /// Unrealised at the last mark.
    pub unrealised: f64,
    /// Fees paid (negative: rebates earned).
    pub fees: f64,
    /// Realised + unrealised - fees.
    pub net: f64,
}

/// Net position range over the run, shares (all instruments summed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InventoryRange {
    /// Lowest.
    pub min: i64,
    /// Highest.
    pub max: i64,
    /// At the end.
    pub last: i64,
}

/// Tick-to-trade percentiles, nanoseconds: from the return of the receive call that brought
/// the market data to the return of the send that carried the order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TickToTrade {
    /// Orders measured.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th.
    pub p90_ns: u64,
    /// 99th.
    pub p99_ns: u64,
    /// 99.9th.
    pub p999_ns: u64,
    /// 99.99th.
    pub p9999_ns: u64,
    /// Largest.
    pub max_ns: u64,
}

impl TickToTrade {
    /// Percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50_ns: h.value_at_quantile(0.5),
            p90_ns: h.value_at_quantile(0.9),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            p9999_ns: h.value_at_quantile(0.9999),
            max_ns: h.max(),
        }
    }
}

/// Transaction costs over the session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TcaSummary {
    /// Share-weighted slippage against the arrival mid, bps.
    pub slippage_bps: f64,
    /// Share-weighted effective spread, bps.
    pub effective_spread_bps: f64,
    /// Share-weighted realised spread, bps.
    pub realised_spread_bps: f64,
}

/// Every trading figure of a run (all keys optional in `summary.json`, so replay sessions
/// without a gateway read back unchanged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TradingFields {
    /// Fills (executions of our orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fills: Option<u64>,
    /// FNV-1a over every fill (match number, instrument, side, shares, price), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_hash: Option<String>,
    /// Orders sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<u64>,
    /// P&L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl: Option<PnlSummary>,
    /// Mean over standard deviation of per-interval P&L (not annualised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharpe: Option<f64>,
    /// Mean over downside deviation of per-interval P&L (not annualised).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sortino: Option<f64>,
    /// The P&L interval, nanoseconds of event time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl_interval_ns: Option<u64>,
    /// Largest fall of net P&L from a previous high, dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drawdown: Option<f64>,
    /// Share of closing fills with a positive realised P&L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub win_rate: Option<f64>,
    /// Shares filled over shares entered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_ratio: Option<f64>,
    /// Average visible shares ahead of our resting orders when they joined their level, over
    /// their fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_queue_position: Option<f64>,
    /// Net position range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryRange>,
    /// Tick-to-trade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_to_trade: Option<TickToTrade>,
    /// TCA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tca: Option<TcaSummary>,
    /// Risk events: pre-trade refusals by check, kill switch, forced modes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_events: Vec<String>,
    /// Tick-to-trade taken apart (a live session): queue, book, strategy, hop, gateway, send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_to_trade_parts: Option<super::live::T2tBreakdown>,
    /// Our fills checked against the venue's record of them (a live session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<Reconciliation>,
}

/// Our fills against the venue's: every execution the venue reports for our login, by match
/// number, side, shares and price, and the net positions both sides compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Executions the venue reports for us.
    pub venue_fills: u64,
    /// Fills the OMS applied.
    pub engine_fills: u64,
    /// Venue executions the OMS does not have.
    pub missing: u64,
    /// OMS fills the venue does not report.
    pub extra: u64,
    /// Net shares by the venue's record.
    pub venue_net: i64,
    /// Net shares by the OMS.
    pub engine_net: i64,
    /// Every fill on both sides, none missing or extra.
    pub matched: bool,
}

/// The equity curve and inventory as the run goes: one sample per interval of event time.
#[derive(Clone, Debug, Default)]
pub struct PnlTrack {
    interval_ns: u64,
    next_ns: u64,
    /// `(event time ns, net P&L dollars, net position shares)`.
    pub samples: Vec<(u64, f64, i64)>,
}

impl PnlTrack {
    /// Samples every `interval_ns` of event time.
    pub fn new(interval_ns: u64) -> Self {
        Self {
            interval_ns: interval_ns.max(1),
            next_ns: 0,
            samples: Vec::with_capacity(1 << 14),
        }
    }

    /// The interval.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// Whether a sample is due at `now`.
    #[inline]
    pub fn due(&self, now: Timestamp) -> bool {
        now.nanos() >= self.next_ns
    }

    /// Records a sample at `now`.
    pub fn sample(&mut self, now: Timestamp, net_pnl: f64, position: i64) {
        let t = now.nanos();
        if self.next_ns == 0 {
            self.next_ns = t;
        }
        while self.next_ns <= t {
            self.next_ns += self.interval_ns;
        }
        self.samples.push((t, net_pnl, position));
    }

    /// The curve as CSV: `time_ns,pnl,position`.
    pub fn csv(&self) -> String {
        let mut s = String::from("time_ns,pnl,position\n");
        for (t, p, q) in &self.samples {
            let _ = writeln!(s, "{t},{p:.6},{q}");
        }
        s
    }
}

/// FNV-1a over the fills, in order.
pub fn fill_hash(fills: &[Fill]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for f in fills {
        mix(&f.match_number.to_le_bytes());
        mix(&f.instrument.0.to_le_bytes());
        mix(&[f.side as u8, f.liquidity]);
        mix(&f.shares.to_le_bytes());
        mix(&f.price.raw().to_le_bytes());
    }
    h
}

/// Share of closing fills (FIFO against the open position) with a positive P&L; `None` when
/// no fill closed anything.
pub fn win_rate(fills: &[Fill]) -> Option<f64> {
    use std::collections::{HashMap, VecDeque};
    let mut lots: HashMap<InstrumentId, VecDeque<(i64, i64)>> = HashMap::new();
    let (mut wins, mut closes) = (0u64, 0u64);
    for f in fills.iter().filter(|f| !f.broken) {
        let signed = i64::from(f.shares) * f.side.sign();
        let q = lots.entry(f.instrument).or_default();
        let mut left = signed;
        let mut pnl: i128 = 0;
        let mut closed = false;
        while left != 0 {
            let Some(front) = q.front_mut() else { break };
            if front.0.signum() == left.signum() {
                break;
            }
            let take = left.abs().min(front.0.abs());
            // Closing a long (sell) earns price - cost; closing a short earns cost - price.
            let dir = front.0.signum();
            pnl += i128::from(take) * i128::from(f.price.raw() - front.1) * i128::from(dir);
            front.0 -= take * dir;
            left += take * dir;
            closed = true;
            if front.0 == 0 {
                q.pop_front();
            }
        }
        if left != 0 {
            q.push_back((left, f.price.raw()));
        }
        if closed {
            closes += 1;
            if pnl > 0 {
                wins += 1;
            }
        }
    }
    (closes > 0).then(|| wins as f64 / closes as f64)
}

/// Mean, Sharpe and Sortino of per-interval P&L changes.
pub fn ratios(samples: &[(u64, f64, i64)]) -> (Option<f64>, Option<f64>) {
    let deltas: Vec<f64> = samples.windows(2).map(|w| w[1].1 - w[0].1).collect();
    if deltas.len() < 2 {
        return (None, None);
    }
    let n = deltas.len() as f64;
    let mean = deltas.iter().sum::<f64>() / n;
    let var = deltas.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let down = (deltas.iter().map(|d| d.min(0.0).powi(2)).sum::<f64>() / n).sqrt();
    let sharpe = (var > 0.0).then(|| mean / var.sqrt());
    let sortino = (down > 0.0).then(|| mean / down);
    (sharpe, sortino)
}

/// Largest fall from a running peak.
pub fn max_drawdown(samples: &[(u64, f64, i64)]) -> f64 {
    let mut peak = f64::MIN;
    let mut dd: f64 = 0.0;
    for (_, p, _) in samples {
        peak = peak.max(*p);
        dd = dd.max(peak - p);
    }
    dd
}

/// What the trading report is computed from.
#[derive(Debug)]
pub struct TradingInputs<'a> {
    /// Our fills, in order (the OMS's log).
    pub fills: &'a [Fill],
    /// Totals: realised, unrealised, fees (money units of the OMS).
    pub totals: (i128, i128, i128),
    /// Orders sent.
    pub orders: u64,
    /// Shares entered at the venue (for the fill ratio).
    pub shares_entered: u64,
    /// Queue position (shares ahead) of each of our resting orders' fills.
    pub queue_ahead: &'a [f64],
    /// The P&L track.
    pub track: &'a PnlTrack,
    /// Tick-to-trade, if measured.
    pub tick_to_trade: Option<&'a Histogram<u64>>,
    /// TCA.
    pub tca: Option<TcaSummary>,
    /// Risk events.
    pub risk_events: Vec<String>,
}

/// Computes every trading figure.
pub fn trading_fields(i: &TradingInputs<'_>) -> TradingFields {
    let (realised, unrealised, fees) = i.totals;
    let pnl = PnlSummary {
        realised: dollars(realised),
        unrealised: dollars(unrealised),
        fees: dollars(fees),
        net: dollars(realised + unrealised - fees),
    };
    let mut samples = i.track.samples.clone();
    let last_pos = samples.last().map_or(0, |s| s.2);
    samples.push((u64::MAX, pnl.net, last_pos));
    let (sharpe, sortino) = ratios(&i.track.samples);
    let filled: u64 = i
        .fills
        .iter()
        .filter(|f| !f.broken)
        .map(|f| u64::from(f.shares))
        .sum();
    let mut pos: i64 = 0;
    let (mut lo, mut hi) = (0i64, 0i64);
    for f in i.fills.iter().filter(|f| !f.broken) {
        pos += i64::from(f.shares) * f.side.sign();
        lo = lo.min(pos);
        hi = hi.max(pos);
    }
    TradingFields {
        fills: Some(i.fills.len() as u64),
        fill_hash: Some(format!("{:016x}", fill_hash(i.fills))),
        orders: Some(i.orders),
        pnl: Some(pnl),
        sharpe,
        sortino,
        pnl_interval_ns: Some(i.track.interval_ns()),
        max_drawdown: Some(max_drawdown(&samples)),
        win_rate: win_rate(i.fills),
        fill_ratio: (i.shares_entered > 0).then(|| filled as f64 / i.shares_entered as f64),
        avg_queue_position: (!i.queue_ahead.is_empty())
            .then(|| i.queue_ahead.iter().sum::<f64>() / i.queue_ahead.len() as f64),
        inventory: Some(InventoryRange {
            min: lo,
            max: hi,
            last: pos,
        }),
        tick_to_trade: i.tick_to_trade.map(TickToTrade::of),
        tca: i.tca,
        risk_events: i.risk_events.clone(),
        tick_to_trade_parts: None,
        reconciliation: None,
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

/// The printed report, a few lines.
pub fn print_trading(t: &TradingFields) {
    if let Some(p) = &t.pnl {
        println!(
            "pnl net={:.2} realised={:.2} unrealised={:.2} fees={:.2} max_drawdown={:.2} sharpe={} sortino={} (per {} ms)",
            p.net,
            p.realised,
            p.unrealised,
            p.fees,
            t.max_drawdown.unwrap_or(0.0),
            opt(t.sharpe, 3),
            opt(t.sortino, 3),
            t.pnl_interval_ns.unwrap_or(0) / 1_000_000
        );
    }
    let inv = t.inventory.unwrap_or_default();
    println!(
        "trading orders={} fills={} win_rate={} fill_ratio={} avg_queue_position={} inventory_min={} inventory_max={} inventory_last={}",
        t.orders.unwrap_or(0),
        t.fills.unwrap_or(0),
        opt(t.win_rate, 3),
        opt(t.fill_ratio, 3),
        opt(t.avg_queue_position, 1),
        inv.min,
        inv.max,
        inv.last
    );
    if let Some(c) = &t.tca {
        println!(
            "tca slippage_bps={:.3} effective_spread_bps={:.3} realised_spread_bps={:.3}",
            c.slippage_bps, c.effective_spread_bps, c.realised_spread_bps
        );
    }
    if let Some(x) = &t.tick_to_trade
        && x.count > 0
    {
        println!(
            "tick_to_trade count={} p50={:.3}us p90={:.3}us p99={:.3}us p99.9={:.3}us p99.99={:.3}us max={:.3}us",
            x.count,
            x.p50_ns as f64 / 1e3,
            x.p90_ns as f64 / 1e3,
            x.p99_ns as f64 / 1e3,
            x.p999_ns as f64 / 1e3,
            x.p9999_ns as f64 / 1e3,
            x.max_ns as f64 / 1e3
        );
    }
    if let Some(parts) = &t.tick_to_trade_parts {
        parts.print();
    }
    if let Some(r) = &t.reconciliation {
        println!(
            "reconcile venue_fills={} engine_fills={} missing={} extra={} venue_net={} engine_net={} matched={}",
            r.venue_fills, r.engine_fills, r.missing, r.extra, r.venue_net, r.engine_net, r.matched
        );
    }
    for e in &t.risk_events {
        println!("risk_event {e}");
    }
}

/// The fills as CSV (one row per fill).
pub fn fills_csv(fills: &[Fill]) -> String {
    let mut s = String::from(
        "match_number,order,instrument,side,shares,price,fee,liquidity,venue_time_ns,broken\n",
    );
    for f in fills {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.6},{},{},{}",
            f.match_number,
            f.order,
            f.instrument.0,
            match f.side {
                Side::Buy => "B",
                Side::Sell => "S",
            },
            f.shares,
            f.price,
            dollars(f.fee),
            f.liquidity as char,
            f.venue_time,
            u8::from(f.broken)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::Price;

    fn fill(side: Side, shares: u32, price: &str, n: u64) -> Fill {
        Fill {
            match_number: n,
            order: n,
            instrument: InstrumentId(0),
            side,
            shares,
            price: price.parse::<Price>().unwrap(),
            fee: 0,
            liquidity: b'A',
            venue_time: 0,
            at: Timestamp(0),
            broken: false,
        }
    }

    #[test]
    fn win_rate_counts_closing_fills_fifo() {
        let f = [
            fill(Side::Buy, 100, "10.00", 1),
            fill(Side::Sell, 50, "10.10", 2), // closes 50 at +0.10: win
            fill(Side::Sell, 100, "9.90", 3), // closes 50 at -0.10 (loss), opens short 50
            fill(Side::Buy, 50, "9.80", 4),   // closes the short at +0.10: win
        ];
        assert_eq!(win_rate(&f), Some(2.0 / 3.0));
        assert_eq!(win_rate(&f[..1]), None);
        assert_ne!(fill_hash(&f), fill_hash(&f[..3]));
    }

    #[test]
    fn ratios_and_drawdown() {
        let s: Vec<(u64, f64, i64)> = [0.0, 1.0, 3.0, 2.0, 5.0, 1.0, 4.0]
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u64, *p, 0))
            .collect();
        assert_eq!(max_drawdown(&s), 4.0);
        let (sharpe, sortino) = ratios(&s);
        assert!(sharpe.unwrap() > 0.0 && sortino.unwrap() > 0.0);
        assert_eq!(ratios(&s[..2]), (None, None));
    }
}
