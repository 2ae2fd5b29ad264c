//! Pre-trade risk: every check an order passes before any byte of it leaves.
//!
//! Checks, in order: kill switch, venue ready, instrument halted, order size, order notional,
//! price band against the current book (fat finger), position after the worst-case fill of
//! every open order, open-order count (total and per instrument side), self-trade against our
//! own resting orders, and the order-rate throttle (a token bucket, charged only when every
//! other check passed). A refusal is a [`RiskReject`]: the check and the values that failed it.

mod bucket;
mod check;

pub use bucket::TokenBucket;
pub use check::{RiskCheck, RiskReject};

use crate::oms::{NewOrder, Oms};
use kestrel_core::{MarketTop, Price, Side, Timestamp};

/// The limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskLimits {
    /// Largest order, shares.
    pub max_order_shares: u32,
    /// Largest order notional (price x shares), dollars as a fixed-point value.
    pub max_order_notional: Price,
    /// Largest absolute position per instrument after the worst-case fill of every open order.
    pub max_position: u64,
    /// Largest distance of a limit price from the book's mid, basis points.
    pub price_band_bps: u32,
    /// Open orders at once, all instruments.
    pub max_open_orders: u32,
    /// Open orders at once on one instrument and side.
    pub max_open_per_side: u32,
    /// Sustained order rate, orders per second.
    pub orders_per_second: u32,
    /// Burst the rate allows.
    pub burst: u32,
    /// Refuse an order that would trade against one of our own resting orders.
    pub self_trade_prevention: bool,
}

impl RiskLimits {
    /// Limits far above what a measurement sends (a million shares an order, a billion dollars,
    /// a million orders a second), so that every check still runs on every order and none
    /// refuses: for benches and allocation tests that measure the gateway's work per order,
    /// not its refusals. Never a production setting.
    pub fn wide() -> Self {
        Self {
            max_order_shares: 1_000_000,
            max_order_notional: Price::from_units(1_000_000_000).unwrap_or(Price::MAX),
            max_position: 1_000_000_000,
            price_band_bps: 10_000,
            max_open_orders: 4_000,
            max_open_per_side: 1_000,
            orders_per_second: 1_000_000,
            burst: 100_000,
            self_trade_prevention: true,
        }
    }
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_order_shares: 10_000,
            max_order_notional: Price::from_raw(1_000_000 * 100_000_000),
            max_position: 100_000,
            price_band_bps: 500,
            max_open_orders: 256,
            max_open_per_side: 32,
            orders_per_second: 1_000,
            burst: 100,
            self_trade_prevention: true,
        }
    }
}

/// Counters of pre-trade decisions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiskStats {
    /// Orders passed.
    pub passed: u64,
    /// Orders refused, by check code (index = `RiskCheck as usize`).
    pub rejected: [u64; RiskCheck::COUNT],
}

impl RiskStats {
    /// All refusals.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }
}

/// The pre-trade checks and their state: kill switch, halts, references, the rate bucket.
#[derive(Debug)]
pub struct PreTrade {
    limits: RiskLimits,
    killed: bool,
    trading: Vec<bool>,
    tops: Vec<MarketTop>,
    bucket: TokenBucket,
    stats: RiskStats,
}

impl PreTrade {
    /// Checks for `instruments` instruments (all trading, no book yet).
    pub fn new(limits: RiskLimits, instruments: usize) -> Self {
        Self {
            limits,
            killed: false,
            trading: vec![true; instruments],
            tops: vec![MarketTop::default(); instruments],
            bucket: TokenBucket::new(limits.orders_per_second, limits.burst),
            stats: RiskStats::default(),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// Replaces the limits (a parameter change; the rate bucket keeps its tokens).
    pub fn set_limits(&mut self, limits: RiskLimits) {
        self.bucket.set_rate(limits.orders_per_second, limits.burst);
        self.limits = limits;
    }

    /// Trips (or clears) the kill switch.
    pub fn set_killed(&mut self, killed: bool) {
        self.killed = killed;
    }

    /// Whether the kill switch is tripped.
    pub fn killed(&self) -> bool {
        self.killed
    }

    /// Records the market of one instrument (reference prices and the halt state).
    #[inline]
    pub fn on_market(&mut self, instrument: usize, top: &MarketTop, trading: bool) {
        if let Some(t) = self.tops.get_mut(instrument) {
            *t = *top;
        }
        if let Some(t) = self.trading.get_mut(instrument) {
            *t = trading;
        }
    }

    /// Whether an instrument is trading.
    pub fn trading(&self, instrument: usize) -> bool {
        self.trading.get(instrument).copied().unwrap_or(false)
    }

    /// The last market seen for an instrument.
    pub fn top(&self, instrument: usize) -> MarketTop {
        self.tops.get(instrument).copied().unwrap_or_default()
    }

    /// Counters.
    pub fn stats(&self) -> RiskStats {
        self.stats
    }

    /// Runs every check on `order`. `Ok` charges the rate bucket.
    pub fn check(
        &mut self,
        order: &NewOrder,
        oms: &Oms,
        venue_ready: bool,
        now: Timestamp,
    ) -> Result<(), RiskReject> {
        let r = self.evaluate(order, oms, venue_ready, now);
        match &r {
            Ok(()) => self.stats.passed += 1,
            Err(e) => self.stats.rejected[e.check as usize] += 1,
        }
        r
    }

    fn evaluate(
        &mut self,
        o: &NewOrder,
        oms: &Oms,
        venue_ready: bool,
        now: Timestamp,
    ) -> Result<(), RiskReject> {
        let l = self.limits;
        let i = o.instrument.index();
        if self.killed {
            return Err(RiskReject::new(RiskCheck::KillSwitch, 1, 0));
        }
        if !venue_ready {
            return Err(RiskReject::new(RiskCheck::VenueDown, 0, 1));
        }
        if i >= oms.instruments() {
            return Err(RiskReject::new(
                RiskCheck::BadOrder,
                i64::from(o.instrument.0),
                oms.instruments() as i64,
            ));
        }
        if !self.trading.get(i).copied().unwrap_or(false) {
            return Err(RiskReject::new(
                RiskCheck::Halted,
                i64::from(o.instrument.0),
                0,
            ));
        }
        if o.shares == 0 || !o.price.is_positive() {
            return Err(RiskReject::new(RiskCheck::BadOrder, i64::from(o.shares), 0)
                .with_reference(o.price.raw()));
        }
        if o.shares > l.max_order_shares {
            return Err(RiskReject::new(
                RiskCheck::MaxOrderQty,
                i64::from(o.shares),
                i64::from(l.max_order_shares),
            ));
        }
        // Notional in dollars at 8 decimals: price (1e-8) x shares.
        let notional = i128::from(o.price.raw()) * i128::from(o.shares);
        if notional > i128::from(l.max_order_notional.raw()) {
            return Err(RiskReject::new(
                RiskCheck::MaxNotional,
                i64::try_from(notional).unwrap_or(i64::MAX),
                l.max_order_notional.raw(),
            ));
        }
        let top = self.tops.get(i).copied().unwrap_or_default();
        let Some(mid) = top.mid() else {
            return Err(RiskReject::new(RiskCheck::NoReference, o.price.raw(), 0));
        };
        let distance_bps =
            (i128::from((o.price.raw() - mid.raw()).abs()) * 10_000) / i128::from(mid.raw());
        if distance_bps > i128::from(l.price_band_bps) {
            return Err(RiskReject::new(
                RiskCheck::PriceBand,
                o.price.raw(),
                i64::from(l.price_band_bps),
            )
            .with_reference(mid.raw()));
        }
        let pos = oms.position(o.instrument);
        let worst = match o.side {
            Side::Buy => {
                pos + i64::try_from(oms.working(o.instrument, Side::Buy)).unwrap_or(i64::MAX)
                    + i64::from(o.shares)
            }
            Side::Sell => {
                pos - i64::try_from(oms.working(o.instrument, Side::Sell)).unwrap_or(i64::MAX)
                    - i64::from(o.shares)
            }
        };
        if worst.unsigned_abs() > l.max_position {
            return Err(RiskReject::new(
                RiskCheck::PositionLimit,
                worst,
                i64::try_from(l.max_position).unwrap_or(i64::MAX),
            ));
        }
        let open = oms.open_count() as i64;
        if open >= i64::from(l.max_open_orders) {
            return Err(RiskReject::new(
                RiskCheck::OpenOrders,
                open,
                i64::from(l.max_open_orders),
            ));
        }
        let side_open = oms.open_slots(o.instrument, o.side).len() as i64;
        if side_open >= i64::from(l.max_open_per_side) {
            return Err(RiskReject::new(
                RiskCheck::OpenOrdersSide,
                side_open,
                i64::from(l.max_open_per_side),
            ));
        }
        if l.self_trade_prevention
            && let Some(resting) = oms.best_open_price(o.instrument, o.side.opposite())
        {
            let crosses = match o.side {
                Side::Buy => o.price >= resting,
                Side::Sell => o.price <= resting,
            };
            if crosses {
                return Err(RiskReject::new(
                    RiskCheck::SelfTrade,
                    o.price.raw(),
                    resting.raw(),
                ));
            }
        }
        if !self.bucket.try_take(now.nanos()) {
            return Err(RiskReject::new(
                RiskCheck::RateLimit,
                i64::from(l.orders_per_second),
                i64::from(l.burst),
            ));
        }
        Ok(())
    }
}
