//! A synthetic full-market NASDAQ TotalView-ITCH 5.0 day, deterministic from a seed.
//!
//! [`generate`] writes one trading day of ITCH 5.0 messages for `symbols` instruments, message
//! by message, into a [`MessageSink`] (a raw NASDAQ `BinaryFILE` with 2-byte length prefixes, or
//! a `.kcap` of MoldUDP64 packets: see [`writer`]). Nothing of the day is held in memory but the
//! live orders, so a 50 M-message, 1.5 GB day streams to disk in bounded memory.
//!
//! The day has the shape of a NASDAQ file:
//!
//! - start: `S` start of messages and system hours, one `R` stock directory and one `H`
//!   (trading) per symbol, `S` start of market hours;
//! - body: symbols drawn with Zipf-like activity (weight `1 / (rank + 10)`: the busiest
//!   symbol has about 1.6% of the messages at 5,000 symbols), each message one of `A` (43%),
//!   `F` (2%), `D` (38%), `U` (8%), `E` (4%), `C` (0.2%), `X` (2%), `P` (1.5%) and `I` NOII
//!   (rest), timestamps spread over 09:30-16:00;
//! - end: `S` end of market hours, end of system hours and end of messages.
//!
//! Orders live briefly or long, as on a real feed: three quarters of the deletes, replaces,
//! executions and cancels name one of a symbol's newest orders (a geometric distance from
//! the newest, mean 9), the rest any of its live orders.
//!
//! Every message is valid against a correct book: executions, cancels, deletes and replaces
//! name live orders with at most their remaining shares, new references are never reused, no
//! book ever crosses (bids stay below the best ask and asks above the best bid), and live
//! orders per symbol stay under a cap proportional to its activity. Prices start log-uniform
//! between $2 and $400 (5% of symbols below $1, quoted in $0.0001 ticks), move by a random walk
//! of the reference mid, and new orders land a geometric number of ticks behind the touch.
//!
//! Order references: [`RefStyle::Dense`] numbers them 1, 2, 3, ... in order of appearance, as
//! NASDAQ does; [`RefStyle::Sparse`] passes the same sequence through a 64-bit bijection (the
//! SplitMix64 finaliser), so references are unique but scattered over the whole `u64` range.
//! Both styles give the same messages otherwise, so their books agree level for level.

pub mod ceiling;
pub mod writer;

use kestrel_core::{InstrumentTable, Price, Qty};

use kestrel_feeds::itch::{
    AddOrderMpidMsg, AddOrderMsg, EncodeError, MAX_TIMESTAMP, NoiiMsg, OrderCancelMsg,
    OrderDeleteMsg, OrderExecutedMsg, OrderExecutedWithPriceMsg, OrderReplaceMsg,
    StockDirectoryMsg, StockTradingActionMsg, SystemEventMsg, TradeMsg,
};

pub use writer::{ItchFileSink, KcapSink, MessageSink, SinkError, VecSink};

/// How order reference numbers are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefStyle {
    /// 1, 2, 3, ... in order of appearance.
    Dense,
    /// The dense sequence through a 64-bit bijection: unique, scattered, never 0.
    Sparse,
}

impl core::str::FromStr for RefStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dense" => Ok(Self::Dense),
            "sparse" => Ok(Self::Sparse),
            other => Err(format!("order references `{other}`: dense or sparse")),
        }
    }
}

/// What day to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketDaySpec {
    /// Generator seed: the same spec always gives the same bytes.
    pub seed: u64,
    /// Instruments (stock locates `1..=symbols`), at most 65,535.
    pub symbols: u32,
    /// Messages in the day, system and directory messages included.
    pub messages: u64,
    /// Order reference layout.
    pub refs: RefStyle,
    /// Live orders across all symbols the generator aims to keep (each symbol's cap is its
    /// share of this by activity, at least 8).
    pub live_orders: u64,
}

impl MarketDaySpec {
    /// The full-market day of the scale target: 5,000 symbols, 50 M messages (about 1.5 GB),
    /// about a million live orders.
    pub const fn full_market(refs: RefStyle) -> Self {
        Self {
            seed: 0x4B45_5354_5245_4C44,
            symbols: 5_000,
            messages: 50_000_000,
            refs,
            live_orders: 1_000_000,
        }
    }

    /// One symbol with the same generator, for the single-symbol reference rate.
    pub const fn single_symbol(messages: u64, refs: RefStyle) -> Self {
        Self {
            seed: 0x4B45_5354_5245_4C53,
            symbols: 1,
            messages,
            refs,
            live_orders: 2_000,
        }
    }
}

/// Why a day could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The spec is unusable.
    #[error("market day spec: {0}")]
    Spec(&'static str),
    /// A message could not be encoded (a generator bug).
    #[error("encoding a message: {0}")]
    Encode(#[from] EncodeError),
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// What a generated day holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayReport {
    /// Messages written.
    pub messages: u64,
    /// Message bytes written (without any framing).
    pub message_bytes: u64,
    /// Messages per type: `A F D U E C X P I S R H`.
    pub per_type: [u64; 12],
    /// Most live orders at any time, all symbols together.
    pub peak_live: u64,
    /// Live orders at the end of the day.
    pub final_live: u64,
    /// Largest order reference written (the dense sequence's last value for both styles).
    pub refs_issued: u64,
    /// FNV-1a over every message's bytes, in order: the determinism fingerprint.
    pub hash: u64,
}

/// Type letters in the order of [`DayReport::per_type`].
pub const TYPE_ORDER: [u8; 12] = *b"AFDUECXPISRH";

/// The symbol of instrument `i`: four capital letters, `AAAA`, `AAAB`, ... (unique below
/// 26^4 = 456,976).
pub fn symbol_of(i: u32) -> String {
    let mut out = [b'A'; 4];
    let mut x = i;
    for slot in out.iter_mut().rev() {
        *slot = b'A' + (x % 26) as u8;
        x /= 26;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Tick in ITCH `Price(4)` units of a symbol whose reference price is `price4`.
fn tick_of(price4: i64) -> i64 {
    if price4 >= 10_000 { 100 } else { 1 }
}

/// 09:30:00 in nanoseconds after midnight.
const OPEN_NS: u64 = 34_200 * 1_000_000_000;
/// 16:00:00.
const CLOSE_NS: u64 = 57_600 * 1_000_000_000;
/// 04:00:00, start of system hours.
const SYSTEM_NS: u64 = 14_400 * 1_000_000_000;

/// SplitMix64 (the generator and, through its finaliser, the sparse reference bijection).
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough and no division.
        ((u128::from(self.next()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Geometric number of failures before a success of probability `p`.
    fn geometric(&mut self, p: f64) -> u64 {
        let u = 1.0 - self.unit();
        (u.ln() / (1.0 - p).ln()).floor() as u64
    }
}

/// The SplitMix64 finaliser: a bijection of `u64`.
const fn mix(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One live order as the generator tracks it.
#[derive(Clone, Copy, Debug)]
struct Live {
    order_ref: u64,
    price: u32,
    shares: u32,
    buy: bool,
}

/// The best price of one side and how many live orders rest exactly there.
#[derive(Clone, Copy, Debug, Default)]
struct Best {
    price: u32,
    count: u32,
}

/// Per-symbol state.
#[derive(Clone, Debug)]
struct Symbol {
    stock: [u8; 8],
    locate: u16,
    /// Reference mid, Price(4) units, on the tick grid.
    mid: i64,
    tick: i64,
    cap: usize,
    live: Vec<Live>,
    bid: Option<Best>,
    ask: Option<Best>,
}

impl Symbol {
    fn best_mut(&mut self, buy: bool) -> &mut Option<Best> {
        if buy { &mut self.bid } else { &mut self.ask }
    }

    /// Notes an order joining `price`.
    fn joined(&mut self, buy: bool, price: u32) {
        let better = |p: u32, best: u32| if buy { p > best } else { p < best };
        let slot = self.best_mut(buy);
        match slot {
            Some(b) if b.price == price => b.count += 1,
            Some(b) if !better(price, b.price) => {}
            _ => *slot = Some(Best { price, count: 1 }),
        }
    }

    /// Notes an order leaving `price`; rescans the side when its best level emptied.
    fn left(&mut self, buy: bool, price: u32) {
        let slot = self.best_mut(buy);
        let rescan = match slot {
            Some(b) if b.price == price => {
                b.count -= 1;
                b.count == 0
            }
            _ => false,
        };
        if rescan {
            let mut best: Option<Best> = None;
            for o in self.live.iter().filter(|o| o.buy == buy) {
                match &mut best {
                    Some(b) if b.price == o.price => b.count += 1,
                    Some(b) if (buy && o.price < b.price) || (!buy && o.price > b.price) => {}
                    _ => {
                        best = Some(Best {
                            price: o.price,
                            count: 1,
                        });
                    }
                }
            }
            *self.best_mut(buy) = best;
        }
    }

    /// A price for a new order on one side: `depth` ticks behind the touch implied by the
    /// reference mid, never at or through the other side's best.
    fn price_for(&self, buy: bool, depth: i64) -> u32 {
        let half = self.tick.max(1);
        let raw = if buy {
            let mut p = self.mid - half - depth * self.tick;
            if let Some(a) = self.ask {
                p = p.min(i64::from(a.price) - self.tick);
            }
            p
        } else {
            let mut p = self.mid + half + depth * self.tick;
            if let Some(b) = self.bid {
                p = p.max(i64::from(b.price) + self.tick);
            }
            p
        };
        u32::try_from(raw.max(self.tick)).unwrap_or(u32::MAX - 100)
    }
}

/// Orders removed this close to the newest shift the newer ones down (keeping arrival order).
const RECENT_SHIFT: usize = 64;

/// The body's message kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Add,
    AddMpid,
    Delete,
    Replace,
    Execute,
    ExecuteAtPrice,
    Cancel,
    Trade,
    Noii,
}

/// Cumulative thresholds per 10,000 of the body's mix.
const MIX: [(u32, Kind); 9] = [
    (4_300, Kind::Add),
    (4_500, Kind::AddMpid),
    (8_300, Kind::Delete),
    (9_100, Kind::Replace),
    (9_500, Kind::Execute),
    (9_520, Kind::ExecuteAtPrice),
    (9_720, Kind::Cancel),
    (9_870, Kind::Trade),
    (10_000, Kind::Noii),
];

/// The generator's whole state.
struct Day<'s, S: MessageSink + ?Sized> {
    spec: MarketDaySpec,
    rng: Rng,
    symbols: Vec<Symbol>,
    /// Cumulative activity weights, for drawing a symbol.
    cumulative: Vec<f64>,
    next_ref: u64,
    next_match: u64,
    live: u64,
    report: DayReport,
    buf: [u8; 64],
    sink: &'s mut S,
}

/// Writes the day `spec` describes into `sink` (and finishes the sink).
pub fn generate<S: MessageSink + ?Sized>(
    spec: &MarketDaySpec,
    sink: &mut S,
) -> Result<DayReport, GenerateError> {
    if spec.symbols == 0 || spec.symbols > u32::from(u16::MAX) {
        return Err(GenerateError::Spec("symbols must be 1 to 65,535"));
    }
    let fixed = 2 * u64::from(spec.symbols) + 6;
    if spec.messages <= fixed {
        return Err(GenerateError::Spec(
            "messages must exceed the start and end of day (2 per symbol + 6)",
        ));
    }
    let mut day = Day::new(spec, sink);
    day.run(spec.messages - fixed)?;
    day.sink.finish()?;
    Ok(day.report)
}

impl<'s, S: MessageSink + ?Sized> Day<'s, S> {
    fn new(spec: &MarketDaySpec, sink: &'s mut S) -> Self {
        let mut rng = Rng(spec.seed);
        let n = spec.symbols as usize;
        let weights: Vec<f64> = (0..n).map(|r| 1.0 / (r as f64 + 10.0)).collect();
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        let symbols = (0..spec.symbols)
            .zip(&weights)
            .map(|(i, w)| {
                let price = if rng.below(20) == 0 {
                    // A penny stock: $0.05 to $1.
                    500 + rng.below(9_500) as i64
                } else {
                    // Log-uniform $2 to $400.
                    (20_000.0 * (200f64.ln() * rng.unit()).exp()) as i64
                };
                let tick = tick_of(price);
                let cap = ((spec.live_orders as f64 * w / total) as usize).max(8);
                Symbol {
                    stock: writer::stock8(&symbol_of(i)),
                    locate: (i + 1) as u16,
                    mid: price / tick * tick,
                    tick,
                    cap,
                    live: Vec::with_capacity(cap.min(1 << 16)),
                    bid: None,
                    ask: None,
                }
            })
            .collect();
        Self {
            spec: *spec,
            rng,
            symbols,
            cumulative,
            next_ref: 0,
            next_match: 0,
            live: 0,
            report: DayReport {
                hash: 0xcbf2_9ce4_8422_2325,
                ..DayReport::default()
            },
            buf: [0; 64],
            sink,
        }
    }

    fn emit(&mut self, type_index: usize, ts: u64, len: usize) -> Result<(), GenerateError> {
        let bytes = &self.buf[..len];
        for b in bytes {
            self.report.hash ^= u64::from(*b);
            self.report.hash = self.report.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.report.messages += 1;
        self.report.message_bytes += len as u64;
        if let Some(c) = self.report.per_type.get_mut(type_index) {
            *c += 1;
        }
        self.sink.message(ts, bytes)?;
        Ok(())
    }

    fn system(&mut self, code: u8, ts: u64) -> Result<(), GenerateError> {
        let len = SystemEventMsg {
            stock_locate: 0,
            tracking_number: 0,
            timestamp: ts,
            event_code: code,
        }
        .encode(&mut self.buf)?;
        self.emit(9, ts, len)
    }

    /// The instrument table of the day: symbol, tick ($0.01, or $0.0001 below $1), lot 1.
    fn instruments(&self) -> Result<InstrumentTable, GenerateError> {
        let mut table = InstrumentTable::new();
        for (i, s) in self.symbols.iter().enumerate() {
            let tick = Price::from_scaled(s.tick, 4).ok_or(GenerateError::Spec("tick"))?;
            table
                .add(&symbol_of(i as u32), tick, Qty::ONE, 4)
                .map_err(|_| GenerateError::Spec("instrument table"))?;
        }
        Ok(table)
    }

    fn run(&mut self, body: u64) -> Result<(), GenerateError> {
        let table = self.instruments()?;
        self.sink.begin(&table)?;
        self.system(b'O', SYSTEM_NS - 1_000)?;
        self.system(b'S', SYSTEM_NS)?;
        for i in 0..self.symbols.len() {
            let (stock, locate) = (self.symbols[i].stock, self.symbols[i].locate);
            let ts = SYSTEM_NS + 1_000 + i as u64;
            let len = StockDirectoryMsg {
                stock_locate: locate,
                timestamp: ts,
                stock,
                market_category: b'Q',
                financial_status_indicator: b'N',
                round_lot_size: 100,
                round_lots_only: b'N',
                issue_classification: b'C',
                issue_sub_type: *b"Z ",
                authenticity: b'P',
                short_sale_threshold_indicator: b'N',
                ipo_flag: b'N',
                luld_reference_price_tier: b'1',
                etp_flag: b'N',
                etp_leverage_factor: 0,
                inverse_indicator: b'N',
                ..StockDirectoryMsg::default()
            }
            .encode(&mut self.buf)?;
            self.emit(10, ts, len)?;
            let len = StockTradingActionMsg {
                stock_locate: locate,
                timestamp: ts + 500,
                stock,
                trading_state: b'T',
                reserved: b' ',
                reason: *b"    ",
                ..StockTradingActionMsg::default()
            }
            .encode(&mut self.buf)?;
            self.emit(11, ts + 500, len)?;
        }
        self.system(b'Q', OPEN_NS)?;
        let step = (CLOSE_NS - OPEN_NS - 2) / body.max(1);
        let mut ts = OPEN_NS + 1;
        for _ in 0..body {
            ts += step;
            self.body_message(ts.min(MAX_TIMESTAMP))?;
        }
        self.system(b'M', CLOSE_NS)?;
        self.system(b'E', CLOSE_NS + 1_000_000_000)?;
        self.system(b'C', CLOSE_NS + 2_000_000_000)?;
        self.report.final_live = self.live;
        self.report.refs_issued = self.next_ref;
        Ok(())
    }

    fn new_ref(&mut self) -> u64 {
        self.next_ref += 1;
        match self.spec.refs {
            RefStyle::Dense => self.next_ref,
            // The bijection maps exactly one value to 0 (ITCH's "no order"): skip it.
            RefStyle::Sparse => match mix(self.next_ref) {
                0 => {
                    self.next_ref += 1;
                    mix(self.next_ref)
                }
                r => r,
            },
        }
    }

    fn draw_symbol(&mut self) -> usize {
        let u = self.rng.unit();
        self.cumulative
            .partition_point(|&c| c < u)
            .min(self.symbols.len() - 1)
    }

    fn draw_kind(&mut self, s: usize) -> Kind {
        let r = self.rng.below(10_000) as u32;
        let kind = MIX
            .iter()
            .find(|(t, _)| r < *t)
            .map_or(Kind::Noii, |(_, k)| *k);
        let sym = &self.symbols[s];
        let removing = matches!(
            kind,
            Kind::Delete | Kind::Replace | Kind::Execute | Kind::ExecuteAtPrice | Kind::Cancel
        );
        if sym.live.is_empty() && removing {
            Kind::Add
        } else if sym.live.len() >= sym.cap && matches!(kind, Kind::Add | Kind::AddMpid) {
            Kind::Delete
        } else {
            kind
        }
    }

    fn shares(&mut self) -> u32 {
        if self.rng.below(10) == 0 {
            1 + self.rng.below(99) as u32
        } else {
            100 * (1 + self.rng.geometric(0.45).min(49) as u32)
        }
    }

    fn body_message(&mut self, ts: u64) -> Result<(), GenerateError> {
        let s = self.draw_symbol();
        // The reference mid walks: a tick up or down on 2% of a symbol's messages.
        match self.rng.below(100) {
            0 => self.symbols[s].mid += self.symbols[s].tick,
            1 if self.symbols[s].mid > 2 * self.symbols[s].tick => {
                self.symbols[s].mid -= self.symbols[s].tick
            }
            _ => {}
        }
        match self.draw_kind(s) {
            Kind::Add => self.add(s, ts, false),
            Kind::AddMpid => self.add(s, ts, true),
            Kind::Delete => self.delete(s, ts),
            Kind::Replace => self.replace(s, ts),
            Kind::Execute => self.execute(s, ts, false),
            Kind::ExecuteAtPrice => self.execute(s, ts, true),
            Kind::Cancel => self.cancel(s, ts),
            Kind::Trade => self.trade(s, ts),
            Kind::Noii => self.noii(s, ts),
        }
    }

    fn insert_live(&mut self, s: usize, order: Live) {
        let sym = &mut self.symbols[s];
        sym.live.push(order);
        sym.joined(order.buy, order.price);
        self.live += 1;
        self.report.peak_live = self.report.peak_live.max(self.live);
    }

    /// Removes live order `k` of symbol `s`. Near the back (the newest orders) the later
    /// orders shift down, keeping the vector in arrival order; elsewhere the last order takes
    /// the hole.
    fn remove_live(&mut self, s: usize, k: usize) -> Live {
        let sym = &mut self.symbols[s];
        let order = if sym.live.len() - k <= RECENT_SHIFT {
            sym.live.remove(k)
        } else {
            sym.live.swap_remove(k)
        };
        sym.left(order.buy, order.price);
        self.live -= 1;
        order
    }

    /// The live order an event names: three times in four one of the newest (most orders
    /// are cancelled or filled soon after they arrive), otherwise any.
    fn pick(&mut self, s: usize) -> usize {
        let n = self.symbols[s].live.len() as u64;
        if self.rng.below(4) == 0 {
            self.rng.below(n) as usize
        } else {
            (n - 1 - self.rng.geometric(0.1).min(n - 1)) as usize
        }
    }

    fn add(&mut self, s: usize, ts: u64, mpid: bool) -> Result<(), GenerateError> {
        let buy = self.rng.below(2) == 0;
        let depth = self.rng.geometric(0.35).min(200) as i64;
        let price = self.symbols[s].price_for(buy, depth);
        let shares = self.shares();
        let order_ref = self.new_ref();
        let (stock, locate) = (self.symbols[s].stock, self.symbols[s].locate);
        let side_code = if buy { b'B' } else { b'S' };
        let len = if mpid {
            AddOrderMpidMsg {
                stock_locate: locate,
                tracking_number: 0,
                timestamp: ts,
                order_ref,
                side_code,
                shares,
                stock,
                price,
                attribution: *b"KSTL",
            }
            .encode(&mut self.buf)?
        } else {
            AddOrderMsg {
                stock_locate: locate,
                tracking_number: 0,
                timestamp: ts,
                order_ref,
                side_code,
                shares,
                stock,
                price,
            }
            .encode(&mut self.buf)?
        };
        self.insert_live(
            s,
            Live {
                order_ref,
                price,
                shares,
                buy,
            },
        );
        self.emit(usize::from(mpid), ts, len)
    }

    fn delete(&mut self, s: usize, ts: u64) -> Result<(), GenerateError> {
        let k = self.pick(s);
        let order = self.remove_live(s, k);
        let len = OrderDeleteMsg {
            stock_locate: self.symbols[s].locate,
            tracking_number: 0,
            timestamp: ts,
            order_ref: order.order_ref,
        }
        .encode(&mut self.buf)?;
        self.emit(2, ts, len)
    }

    fn replace(&mut self, s: usize, ts: u64) -> Result<(), GenerateError> {
        let k = self.pick(s);
        let old = self.remove_live(s, k);
        let depth = self.rng.geometric(0.35).min(200) as i64;
        let price = self.symbols[s].price_for(old.buy, depth);
        let shares = self.shares();
        let order_ref = self.new_ref();
        let len = OrderReplaceMsg {
            stock_locate: self.symbols[s].locate,
            tracking_number: 0,
            timestamp: ts,
            original_order_ref: old.order_ref,
            new_order_ref: order_ref,
            shares,
            price,
        }
        .encode(&mut self.buf)?;
        self.insert_live(
            s,
            Live {
                order_ref,
                price,
                shares,
                buy: old.buy,
            },
        );
        self.emit(3, ts, len)
    }

    fn execute(&mut self, s: usize, ts: u64, at_price: bool) -> Result<(), GenerateError> {
        let k = self.pick(s);
        let order = self.symbols[s].live[k];
        // Half the executions take the whole order.
        let shares = if order.shares == 1 || self.rng.below(2) == 0 {
            order.shares
        } else {
            1 + self.rng.below(u64::from(order.shares - 1)) as u32
        };
        if shares == order.shares {
            self.remove_live(s, k);
        } else {
            self.symbols[s].live[k].shares -= shares;
        }
        self.next_match += 1;
        let locate = self.symbols[s].locate;
        let len = if at_price {
            let tick = u32::try_from(self.symbols[s].tick).unwrap_or(1);
            OrderExecutedWithPriceMsg {
                stock_locate: locate,
                tracking_number: 0,
                timestamp: ts,
                order_ref: order.order_ref,
                executed_shares: shares,
                match_number: self.next_match,
                printable: b'Y',
                execution_price: order.price.saturating_add(tick),
            }
            .encode(&mut self.buf)?
        } else {
            OrderExecutedMsg {
                stock_locate: locate,
                tracking_number: 0,
                timestamp: ts,
                order_ref: order.order_ref,
                executed_shares: shares,
                match_number: self.next_match,
            }
            .encode(&mut self.buf)?
        };
        self.emit(if at_price { 5 } else { 4 }, ts, len)
    }

    fn cancel(&mut self, s: usize, ts: u64) -> Result<(), GenerateError> {
        let k = self.pick(s);
        let order = self.symbols[s].live[k];
        if order.shares < 2 {
            // Nothing to cancel in part: delete instead.
            return self.delete(s, ts);
        }
        let cancelled = 1 + self.rng.below(u64::from(order.shares - 1)) as u32;
        self.symbols[s].live[k].shares -= cancelled;
        let len = OrderCancelMsg {
            stock_locate: self.symbols[s].locate,
            tracking_number: 0,
            timestamp: ts,
            order_ref: order.order_ref,
            cancelled_shares: cancelled,
        }
        .encode(&mut self.buf)?;
        self.emit(6, ts, len)
    }

    fn trade(&mut self, s: usize, ts: u64) -> Result<(), GenerateError> {
        let shares = self.shares();
        self.next_match += 1;
        let sym = &self.symbols[s];
        let price = u32::try_from(sym.mid.max(sym.tick)).unwrap_or(u32::MAX);
        let len = TradeMsg {
            stock_locate: sym.locate,
            tracking_number: 0,
            timestamp: ts,
            // Non-displayed orders: reference 0 and side `B` since 2014.
            order_ref: 0,
            side_code: b'B',
            shares,
            stock: sym.stock,
            price,
            match_number: self.next_match,
        }
        .encode(&mut self.buf)?;
        self.emit(7, ts, len)
    }

    fn noii(&mut self, s: usize, ts: u64) -> Result<(), GenerateError> {
        let sym = &self.symbols[s];
        let price = u32::try_from(sym.mid.max(sym.tick)).unwrap_or(u32::MAX);
        let len = NoiiMsg {
            stock_locate: sym.locate,
            tracking_number: 0,
            timestamp: ts,
            paired_shares: 10_000,
            imbalance_shares: 500,
            imbalance_direction: b'B',
            stock: sym.stock,
            far_price: price,
            near_price: price,
            current_reference_price: price,
            cross_type: b'C',
            price_variation_indicator: b' ',
        }
        .encode(&mut self.buf)?;
        self.emit(8, ts, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_unique_four_letters() {
        assert_eq!(symbol_of(0), "AAAA");
        assert_eq!(symbol_of(1), "AAAB");
        assert_eq!(symbol_of(26), "AABA");
        let all: std::collections::HashSet<String> = (0..5_000).map(symbol_of).collect();
        assert_eq!(all.len(), 5_000);
    }

    #[test]
    fn sparse_refs_are_a_bijection_image() {
        let mut seen = std::collections::HashSet::new();
        for k in 1..100_000u64 {
            let r = mix(k);
            assert!(seen.insert(r));
        }
        assert!(seen.iter().filter(|r| **r < (1 << 40)).count() < 10);
    }

    #[test]
    fn spec_errors_are_reported() {
        let mut sink = writer::VecSink::default();
        let mut spec = MarketDaySpec::single_symbol(100, RefStyle::Dense);
        spec.symbols = 0;
        assert!(matches!(
            generate(&spec, &mut sink),
            Err(GenerateError::Spec(_))
        ));
        spec.symbols = 10;
        spec.messages = 20;
        assert!(matches!(
            generate(&spec, &mut sink),
            Err(GenerateError::Spec(_))
        ));
    }
}
