//! The ops thread of a session: a Prometheus text endpoint and the operator's controls, served
//! off the hot path.
//!
//! - `GET /metrics`: counters (updates, intents, orders, fills, feed gaps, ...) published by
//!   the trading thread as relaxed atomic stores, and latency percentiles computed here from
//!   the interval sets the trading thread's recorder swaps out (`feed`, `strategy`, `e2e`; each
//!   also streamed to `latency.hlog` as it arrives), plus tick-to-trade percentiles the trading thread refreshes
//!   a few times a second.
//! - `POST /kill`: trips the kill switch (every order cancelled, no new ones); `POST
//!   /kill/reset` clears it; `POST /mode/<aggressive|normal|conservative|defensive|halt>` forces
//!   the harmonizer's risk mode. The trading thread picks requests up between two polls.
//!   SIGUSR1 trips the kill switch too.
//!
//! The server is plain HTTP/1.0 on a non-blocking listener, one request per connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use kestrel_core::latency::{
    Histogram, HlogError, IntervalDrain, IntervalReceiver, LatencyCollector, LatencyTag,
    new_histogram,
};
use kestrel_core::pipeline::{HlogStream, OpsTask};

/// Named counters the trading thread publishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Counter {
    /// Book updates processed.
    Updates,
    /// Intents decided.
    Intents,
    /// Orders sent.
    Orders,
    /// Fills received.
    Fills,
    /// Pre-trade rejects.
    RiskRejects,
    /// Feed datagrams received.
    Datagrams,
    /// Feed gaps opened.
    GapsOpened,
    /// Feed gaps filled by re-request.
    GapsFilled,
    /// Feed gaps lost.
    GapsLost,
    /// Net position, shares (a gauge, offset by 2^62 to stay unsigned).
    Position,
    /// Net P&L in micro-dollars (a gauge, offset by 2^62).
    PnlMicros,
    /// Kill switch tripped (0/1).
    Killed,
}

const COUNTERS: [(Counter, &str, &str, &str); 12] = [
    (
        Counter::Updates,
        "kestrel_book_updates_total",
        "counter",
        "Book updates processed.",
    ),
    (
        Counter::Intents,
        "kestrel_intents_total",
        "counter",
        "Order intents decided.",
    ),
    (
        Counter::Orders,
        "kestrel_orders_sent_total",
        "counter",
        "Orders sent to the venue.",
    ),
    (
        Counter::Fills,
        "kestrel_fills_total",
        "counter",
        "Fills received.",
    ),
    (
        Counter::RiskRejects,
        "kestrel_risk_rejects_total",
        "counter",
        "Intents refused by pre-trade risk.",
    ),
    (
        Counter::Datagrams,
        "kestrel_feed_datagrams_total",
        "counter",
        "Feed datagrams received.",
    ),
    (
        Counter::GapsOpened,
        "kestrel_feed_gaps_total",
        "counter",
        "Feed sequence gaps seen.",
    ),
    (
        Counter::GapsFilled,
        "kestrel_feed_gaps_filled_total",
        "counter",
        "Feed gaps filled by re-request.",
    ),
    (
        Counter::GapsLost,
        "kestrel_feed_gaps_lost_total",
        "counter",
        "Feed gaps declared lost.",
    ),
    (
        Counter::Position,
        "kestrel_position_shares",
        "gauge",
        "Net position, shares.",
    ),
    (
        Counter::PnlMicros,
        "kestrel_pnl_dollars",
        "gauge",
        "Net P&L, dollars.",
    ),
    (
        Counter::Killed,
        "kestrel_kill_switch",
        "gauge",
        "Whether the kill switch is tripped.",
    ),
];

/// Gauges are stored offset so that negative values fit an unsigned atomic.
pub const GAUGE_OFFSET: i64 = 1 << 62;

/// What the trading thread and the ops thread share: atomics only.
#[derive(Debug)]
pub struct OpsShared {
    counters: [AtomicU64; 12],
    /// Tick-to-trade p50, p99, p99.9, max, count (ns), refreshed by the trading thread.
    t2t: [AtomicU64; 5],
    /// A kill-switch request (set by `/kill` or SIGUSR1).
    pub kill: Arc<AtomicBool>,
    /// A kill-switch reset request.
    pub reset_kill: AtomicBool,
    /// A forced risk mode: 0 none, else mode index + 1.
    pub mode: AtomicU8,
    /// Stop the ops thread.
    pub stop: AtomicBool,
    /// Requests served.
    pub requests: AtomicU64,
}

impl Default for OpsShared {
    fn default() -> Self {
        Self {
            counters: Default::default(),
            t2t: Default::default(),
            kill: Arc::new(AtomicBool::new(false)),
            reset_kill: AtomicBool::new(false),
            mode: AtomicU8::new(0),
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
        }
    }
}

impl OpsShared {
    /// Sets a counter (relaxed store: the hot thread never waits).
    #[inline]
    pub fn set(&self, c: Counter, v: u64) {
        self.counters[c as usize].store(v, Ordering::Relaxed);
    }

    /// Sets a signed gauge.
    #[inline]
    pub fn set_gauge(&self, c: Counter, v: i64) {
        self.set(c, v.saturating_add(GAUGE_OFFSET) as u64);
    }

    /// Refreshes the tick-to-trade figures from the gateway's histogram.
    pub fn set_tick_to_trade(&self, h: &Histogram<u64>) {
        if h.is_empty() {
            return;
        }
        for (slot, v) in self.t2t.iter().zip([
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
            h.len(),
        ]) {
            slot.store(v, Ordering::Relaxed);
        }
    }

    fn get(&self, c: Counter) -> u64 {
        self.counters[c as usize].load(Ordering::Relaxed)
    }
}

/// The risk mode names `/mode/<name>` accepts, in the harmonizer's order.
pub const MODE_NAMES: [&str; 5] = ["aggressive", "normal", "conservative", "defensive", "halt"];

/// The running ops thread.
#[derive(Debug)]
pub struct OpsServer {
    addr: SocketAddr,
    handle: Option<JoinHandle<(LatencyCollector, Option<HlogError>)>>,
    shared: Arc<OpsShared>,
}

impl OpsServer {
    /// Binds `addr` and starts the ops thread, which takes the trading thread's finished
    /// latency intervals from `intervals` and streams each to `hlog` as it arrives.
    pub fn spawn<W: Write + Send + 'static>(
        addr: SocketAddr,
        shared: Arc<OpsShared>,
        mut intervals: IntervalReceiver,
        mut hlog: HlogStream<W>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let s = shared.clone();
        let handle = std::thread::Builder::new()
            .name("ops".into())
            .spawn(move || {
                let mut collector = LatencyCollector::new();
                let mut totals: Vec<Histogram<u64>> =
                    LatencyTag::ALL.iter().map(|_| new_histogram()).collect();
                loop {
                    let stopping = s.stop.load(Ordering::Acquire);
                    let drained = intervals.drain(|set| {
                        collector.absorb(set);
                        for (tag, h) in set.non_empty() {
                            hlog.on_interval(tag, set.start_ns(), set.end_ns(), h);
                            if let Some(t) = totals.get_mut(tag.index()) {
                                let _ = t.add(h);
                            }
                        }
                    });
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, &s, &totals),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            if stopping || drained == IntervalDrain::Closed {
                                // One more drain happened above; the sender is done.
                                if stopping {
                                    break;
                                }
                            }
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                hlog.on_finish(0);
                (collector, hlog.finish().err())
            })?;
        Ok(Self {
            addr: local,
            handle: Some(handle),
            shared,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the thread and returns the latency it collected (`latency.hlog` is complete once
    /// this returns).
    pub fn finish(mut self) -> anyhow::Result<LatencyCollector> {
        self.shared.stop.store(true, Ordering::Release);
        let (collector, error) = self
            .handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        match error {
            Some(e) => Err(anyhow::Error::new(e).context("writing latency.hlog")),
            None => Ok(collector),
        }
    }
}

fn serve(mut stream: TcpStream, s: &OpsShared, totals: &[Histogram<u64>]) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).unwrap_or(0);
    let req = String::from_utf8_lossy(&buf[..n]);
    let line = req.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    s.requests.fetch_add(1, Ordering::Relaxed);
    let (status, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", metrics(s, totals)),
        ("POST", "/kill") => {
            s.kill.store(true, Ordering::Release);
            ("200 OK", "kill switch tripped\n".to_owned())
        }
        ("POST", "/kill/reset") => {
            s.reset_kill.store(true, Ordering::Release);
            ("200 OK", "kill switch reset requested\n".to_owned())
        }
        ("POST", p) if p.starts_with("/mode/") => {
            let name = &p["/mode/".len()..];
            match MODE_NAMES.iter().position(|m| *m == name) {
                Some(i) => {
                    s.mode.store(i as u8 + 1, Ordering::Release);
                    ("200 OK", format!("risk mode {name} requested\n"))
                }
                None => (
                    "400 Bad Request",
                    format!("unknown mode {name:?}; one of {}\n", MODE_NAMES.join(", ")),
                ),
            }
        }
        _ => (
            "404 Not Found",
            "GET /metrics, POST /kill, POST /kill/reset, POST /mode/<name>\n".to_owned(),
        ),
    };
    let _ = write!(
        stream,
        "HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
}

/// The Prometheus text exposition.
pub fn metrics(s: &OpsShared, totals: &[Histogram<u64>]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(4096);
    for (c, name, kind, help) in COUNTERS {
        let v = s.get(c);
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        match c {
            Counter::Position => {
                let _ = writeln!(out, "{name} {}", v as i64 - GAUGE_OFFSET);
            }
            Counter::PnlMicros => {
                let _ = writeln!(out, "{name} {:.6}", (v as i64 - GAUGE_OFFSET) as f64 / 1e6);
            }
            _ => {
                let _ = writeln!(out, "{name} {v}");
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP kestrel_latency_seconds Stage latency.\n# TYPE kestrel_latency_seconds summary"
    );
    for tag in [LatencyTag::Feed, LatencyTag::Strategy, LatencyTag::EndToEnd] {
        let h = &totals[tag.index()];
        if h.is_empty() {
            continue;
        }
        for q in [0.5, 0.9, 0.99, 0.999] {
            let _ = writeln!(
                out,
                "kestrel_latency_seconds{{stage=\"{tag}\",quantile=\"{q}\"}} {:.9}",
                h.value_at_quantile(q) as f64 / 1e9
            );
        }
        let _ = writeln!(
            out,
            "kestrel_latency_seconds_count{{stage=\"{tag}\"}} {}",
            h.len()
        );
    }
    let t: Vec<u64> = s.t2t.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    if t[4] > 0 {
        let _ = writeln!(
            out,
            "# HELP kestrel_tick_to_trade_seconds Receive call return to order send return.\n# TYPE kestrel_tick_to_trade_seconds summary"
        );
        for (q, v) in [("0.5", t[0]), ("0.99", t[1]), ("0.999", t[2]), ("1", t[3])] {
            let _ = writeln!(
                out,
                "kestrel_tick_to_trade_seconds{{quantile=\"{q}\"}} {:.9}",
                v as f64 / 1e9
            );
        }
        let _ = writeln!(out, "kestrel_tick_to_trade_seconds_count {}", t[4]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::latency::{HlogWriter, LatencyRecorder, TagSet};

    fn request(addr: SocketAddr, req: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_and_takes_control_requests() {
        let shared = Arc::new(OpsShared::default());
        let (_rec, rx) = LatencyRecorder::new(TagSet::of(&[LatencyTag::Feed]), 0, 0, 2);
        let hlog = HlogStream::new(HlogWriter::new(Vec::new(), 0, "test").unwrap());
        let ops =
            OpsServer::spawn("127.0.0.1:0".parse().unwrap(), shared.clone(), rx, hlog).unwrap();
        shared.set(Counter::Fills, 7);
        shared.set_gauge(Counter::Position, -300);
        let m = request(ops.addr(), "GET /metrics HTTP/1.0\r\n\r\n");
        assert!(m.starts_with("HTTP/1.0 200"), "{m}");
        assert!(m.contains("kestrel_fills_total 7"), "{m}");
        assert!(m.contains("kestrel_position_shares -300"), "{m}");
        assert!(m.contains("# TYPE kestrel_fills_total counter"));
        assert!(!shared.kill.load(Ordering::Acquire));
        assert!(request(ops.addr(), "POST /kill HTTP/1.0\r\n\r\n").contains("200"));
        assert!(shared.kill.load(Ordering::Acquire));
        assert!(request(ops.addr(), "POST /mode/defensive HTTP/1.0\r\n\r\n").contains("200"));
        assert_eq!(shared.mode.load(Ordering::Acquire), 4);
        assert!(request(ops.addr(), "POST /mode/yolo HTTP/1.0\r\n\r\n").contains("400"));
        assert!(request(ops.addr(), "GET /nope HTTP/1.0\r\n\r\n").contains("404"));
        ops.finish().unwrap();
    }
}
