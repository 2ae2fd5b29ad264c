//! Transaction cost analysis, per parent order and per session.
//!
//! For each fill (side sign `s`: +1 buy, -1 sell; prices as `f64` at the edge):
//! - **slippage** against the arrival mid: `s * (px - arrival) / arrival`, in bps;
//! - **effective spread**: `2 * s * (px - mid_at_fill) / mid_at_fill`, in bps;
//! - **realised spread**: `2 * s * (px - mid_later) / mid_later`, with the mid a fixed horizon
//!   after the fill (event time), in bps; resolved on the first market update past the horizon.
//!
//! Per parent (and per session, over every order): share-weighted averages of the above and
//! the **implementation shortfall**: `s * (avg_px - arrival) / arrival * filled / target`
//! (execution cost on what filled) plus the opportunity cost `s * (end_mid - arrival) /
//! arrival * unfilled / target` of what did not, in bps of the target notional.

use kestrel_core::{InstrumentId, Price, Side};

/// Pending realised-spread horizons kept at once (older ones resolve as they can).
const PENDING: usize = 4096;

/// Finished parents whose figures are kept for the report; past this the oldest are
/// overwritten (the totals still count every parent).
pub const FINISHED_KEPT: usize = 4096;

/// Share-weighted cost figures of a set of fills.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostSummary {
    /// Fills.
    pub fills: u64,
    /// Shares filled.
    pub shares: u64,
    /// Share-weighted average fill price.
    pub avg_price: f64,
    /// Share-weighted slippage against the arrival mid, bps.
    pub slippage_bps: f64,
    /// Share-weighted effective spread, bps.
    pub effective_spread_bps: f64,
    /// Share-weighted realised spread, bps (over fills whose horizon has passed).
    pub realised_spread_bps: f64,
    /// Fills whose realised spread is known.
    pub realised_fills: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    fills: u64,
    shares: u64,
    px_sum: f64,
    slip_sum: f64,
    eff_sum: f64,
    real_sum: f64,
    real_shares: u64,
    real_fills: u64,
}

impl Acc {
    fn add_fill(&mut self, shares: u32, px: f64, slip_bps: f64, eff_bps: f64) {
        let w = f64::from(shares);
        self.fills += 1;
        self.shares += u64::from(shares);
        self.px_sum += px * w;
        self.slip_sum += slip_bps * w;
        self.eff_sum += eff_bps * w;
    }

    fn add_realised(&mut self, shares: u32, bps: f64) {
        self.real_sum += bps * f64::from(shares);
        self.real_shares += u64::from(shares);
        self.real_fills += 1;
    }

    fn summary(&self) -> CostSummary {
        let w = self.shares as f64;
        let avg = |s: f64| if w > 0.0 { s / w } else { 0.0 };
        CostSummary {
            fills: self.fills,
            shares: self.shares,
            avg_price: avg(self.px_sum),
            slippage_bps: avg(self.slip_sum),
            effective_spread_bps: avg(self.eff_sum),
            realised_spread_bps: if self.real_shares > 0 {
                self.real_sum / self.real_shares as f64
            } else {
                0.0
            },
            realised_fills: self.real_fills,
        }
    }
}

/// One parent order's TCA.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ParentTca {
    /// Parent id.
    pub parent: u32,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Target shares.
    pub target: u64,
    /// Arrival mid.
    pub arrival_mid: f64,
    /// Mid when the parent ended (0 while running).
    pub end_mid: f64,
    /// Fill costs.
    pub costs: CostSummary,
    /// Implementation shortfall, bps of the target notional at arrival.
    pub implementation_shortfall_bps: f64,
}

/// Totals over every finished parent order.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ParentTotals {
    /// Parents finished.
    pub parents: u64,
    /// Their target shares.
    pub target_shares: u64,
    /// Their filled shares.
    pub filled_shares: u64,
    /// Their target notional at the arrival mids, dollars.
    pub arrival_notional: f64,
    /// Implementation shortfall over all of them, bps of `arrival_notional` (each parent's
    /// shortfall weighted by its target notional at arrival).
    pub implementation_shortfall_bps: f64,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    instrument: InstrumentId,
    sign: f64,
    px: f64,
    shares: u32,
    due_ns: u64,
    parent: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct ParentAcc {
    instrument: InstrumentId,
    side: Side,
    target: u64,
    arrival: f64,
    end_mid: f64,
    acc: Acc,
    active: bool,
}

/// The session's TCA.
#[derive(Debug)]
pub struct Tca {
    horizon_ns: u64,
    session: Acc,
    parents: Vec<ParentAcc>,
    pending: Vec<Pending>,
    dropped_horizons: u64,
    /// The last [`FINISHED_KEPT`] finished parents, a ring (`finished_next` is the next slot).
    finished: Vec<ParentTca>,
    finished_next: usize,
    totals: ParentTotals,
    /// Sum of shortfall (bps) x arrival notional, over finished parents.
    shortfall_weighted: f64,
}

#[inline]
fn bps(x: f64) -> f64 {
    x * 10_000.0
}

impl Tca {
    /// TCA with realised spreads measured `horizon_ns` of event time after each fill, for up to
    /// `parents` parent orders at once.
    pub fn new(horizon_ns: u64, parents: usize) -> Self {
        Self {
            horizon_ns,
            session: Acc::default(),
            parents: vec![ParentAcc::default(); parents],
            pending: Vec::with_capacity(PENDING),
            dropped_horizons: 0,
            finished: Vec::with_capacity(FINISHED_KEPT),
            finished_next: 0,
            totals: ParentTotals::default(),
            shortfall_weighted: 0.0,
        }
    }

    /// A parent order starts (slot `parent`).
    pub fn start_parent(
        &mut self,
        parent: u32,
        instrument: InstrumentId,
        side: Side,
        target: u64,
        arrival_mid: Price,
    ) {
        if let Some(p) = self.parents.get_mut(parent as usize) {
            *p = ParentAcc {
                instrument,
                side,
                target,
                arrival: arrival_mid.to_f64(),
                end_mid: 0.0,
                acc: Acc::default(),
                active: true,
            };
        }
    }

    /// A parent order ends with the market at `end_mid`; returns its final figures.
    pub fn end_parent(&mut self, parent: u32, end_mid: Price) -> Option<ParentTca> {
        let p = self.parents.get_mut(parent as usize)?;
        if !p.active {
            return None;
        }
        p.end_mid = end_mid.to_f64();
        p.active = false;
        let figures = Self::parent_figures(parent, p);
        self.keep_finished(figures);
        Some(figures)
    }

    /// Adds a finished parent to the totals and the ring (never grows past its capacity).
    fn keep_finished(&mut self, f: ParentTca) {
        let t = &mut self.totals;
        t.parents += 1;
        t.target_shares += f.target;
        t.filled_shares += f.costs.shares;
        if f.arrival_mid > 0.0 {
            let notional = f.target as f64 * f.arrival_mid;
            t.arrival_notional += notional;
            self.shortfall_weighted += f.implementation_shortfall_bps * notional;
            t.implementation_shortfall_bps = if t.arrival_notional > 0.0 {
                self.shortfall_weighted / t.arrival_notional
            } else {
                0.0
            };
        }
        if self.finished.len() < FINISHED_KEPT {
            self.finished.push(f);
        } else {
            self.finished[self.finished_next] = f;
        }
        self.finished_next = (self.finished_next + 1) % FINISHED_KEPT;
    }

    /// Totals over every finished parent.
    pub fn parent_totals(&self) -> ParentTotals {
        self.totals
    }

    /// The last [`FINISHED_KEPT`] finished parents, oldest first.
    pub fn finished_parents(&self) -> impl Iterator<Item = &ParentTca> {
        let (newer, older) = if self.finished.len() < FINISHED_KEPT {
            (&self.finished[..], &self.finished[..0])
        } else {
            self.finished.split_at(self.finished_next)
        };
        older.iter().chain(newer)
    }

    fn parent_figures(parent: u32, p: &ParentAcc) -> ParentTca {
        let costs = p.acc.summary();
        let sign = p.side.sign() as f64;
        let target = p.target.max(1) as f64;
        let filled = costs.shares as f64;
        let mut is = 0.0;
        if p.arrival > 0.0 {
            if filled > 0.0 {
                is += bps(sign * (costs.avg_price - p.arrival) / p.arrival) * filled / target;
            }
            let unfilled = (target - filled).max(0.0);
            if p.end_mid > 0.0 && unfilled > 0.0 {
                is += bps(sign * (p.end_mid - p.arrival) / p.arrival) * unfilled / target;
            }
        }
        ParentTca {
            parent,
            instrument: p.instrument,
            side: p.side,
            target: p.target,
            arrival_mid: p.arrival,
            end_mid: p.end_mid,
            costs,
            implementation_shortfall_bps: is,
        }
    }

    /// A fill: `shares` at `price` on `side`, with the mid at the fill and the arrival mid of
    /// its order (or parent). `parent` is the parent slot or `u32::MAX`.
    #[allow(clippy::too_many_arguments)]
    pub fn on_fill(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        shares: u32,
        price: Price,
        mid_at_fill: Price,
        arrival_mid: Price,
        parent: u32,
        now_ns: u64,
    ) {
        let sign = side.sign() as f64;
        let px = price.to_f64();
        let mid = mid_at_fill.to_f64();
        let parent_arrival = self
            .parents
            .get(parent as usize)
            .filter(|p| p.active)
            .map(|p| p.arrival);
        let arrival = parent_arrival.unwrap_or(arrival_mid.to_f64());
        let slip = if arrival > 0.0 {
            bps(sign * (px - arrival) / arrival)
        } else {
            0.0
        };
        let eff = if mid > 0.0 {
            bps(2.0 * sign * (px - mid) / mid)
        } else {
            0.0
        };
        self.session.add_fill(shares, px, slip, eff);
        if let Some(p) = self.parents.get_mut(parent as usize).filter(|p| p.active) {
            p.acc.add_fill(shares, px, slip, eff);
        }
        if self.pending.len() < self.pending.capacity() {
            self.pending.push(Pending {
                instrument,
                sign,
                px,
                shares,
                due_ns: now_ns.saturating_add(self.horizon_ns),
                parent,
            });
        } else {
            self.dropped_horizons += 1;
        }
    }

    /// A market update: resolves realised spreads whose horizon has passed.
    #[inline]
    pub fn on_market(&mut self, instrument: InstrumentId, mid: Price, now_ns: u64) {
        if self.pending.is_empty() || !mid.is_positive() {
            return;
        }
        let m = mid.to_f64();
        let mut i = 0;
        while i < self.pending.len() {
            let p = self.pending[i];
            if p.instrument == instrument && now_ns >= p.due_ns {
                let real = bps(2.0 * p.sign * (p.px - m) / m);
                self.session.add_realised(p.shares, real);
                if let Some(pa) = self.parents.get_mut(p.parent as usize).filter(|x| x.active) {
                    pa.acc.add_realised(p.shares, real);
                }
                self.pending.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// The session's figures.
    pub fn session(&self) -> CostSummary {
        self.session.summary()
    }

    /// A running parent's figures so far.
    pub fn parent(&self, parent: u32) -> Option<ParentTca> {
        self.parents
            .get(parent as usize)
            .filter(|p| p.active)
            .map(|p| Self::parent_figures(parent, p))
    }

    /// Fills whose realised spread could not be tracked (too many pending at once).
    pub fn dropped_horizons(&self) -> u64 {
        self.dropped_horizons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn buy_above_arrival_costs_and_realised_spread_resolves() {
        let mut t = Tca::new(1_000, 4);
        t.start_parent(0, InstrumentId(0), Side::Buy, 200, px("100"));
        // Filled 100 at 100.10 with the mid at 100.05; later the mid is 100.20.
        t.on_fill(
            InstrumentId(0),
            Side::Buy,
            100,
            px("100.10"),
            px("100.05"),
            px("100"),
            0,
            10,
        );
        let s = t.session();
        assert!((s.slippage_bps - 10.0).abs() < 1e-9, "{s:?}");
        assert!((s.effective_spread_bps - 2.0 * 0.05 / 100.05 * 1e4).abs() < 1e-9);
        t.on_market(InstrumentId(0), px("100.20"), 500);
        assert_eq!(t.session().realised_fills, 0, "horizon not reached");
        t.on_market(InstrumentId(0), px("100.20"), 1_010);
        let s = t.session();
        assert_eq!(s.realised_fills, 1);
        assert!((s.realised_spread_bps - 2.0 * (-0.10) / 100.20 * 1e4).abs() < 1e-9);
        // Half filled; the market ended at 100.50: shortfall = 10 bps * 1/2 + 50 bps * 1/2.
        let p = t.end_parent(0, px("100.5")).unwrap();
        assert!(
            (p.implementation_shortfall_bps - 30.0).abs() < 1e-9,
            "{p:?}"
        );
        assert!(t.end_parent(0, px("100.5")).is_none());
        let totals = t.parent_totals();
        assert_eq!(totals.parents, 1);
        assert_eq!((totals.target_shares, totals.filled_shares), (200, 100));
        assert!((totals.implementation_shortfall_bps - 30.0).abs() < 1e-9);
        assert_eq!(t.finished_parents().count(), 1);
    }

    #[test]
    fn session_shortfall_weights_parents_by_arrival_notional_and_the_ring_keeps_the_newest() {
        let mut t = Tca::new(0, 2);
        // Parent 0: 100 shares at arrival 100, filled at 100.10 (10 bps) = $10,000 notional.
        t.start_parent(0, InstrumentId(0), Side::Buy, 100, px("100"));
        t.on_fill(
            InstrumentId(0),
            Side::Buy,
            100,
            px("100.10"),
            px("100"),
            px("100"),
            0,
            0,
        );
        // Parent 1: 300 shares at arrival 100, sold at 100.00 (0 bps) = $30,000 notional.
        t.start_parent(1, InstrumentId(0), Side::Sell, 300, px("100"));
        t.on_fill(
            InstrumentId(0),
            Side::Sell,
            300,
            px("100"),
            px("100"),
            px("100"),
            1,
            0,
        );
        t.end_parent(1, px("100"));
        t.end_parent(0, px("100"));
        let totals = t.parent_totals();
        assert!((totals.arrival_notional - 40_000.0).abs() < 1e-6);
        assert!(
            (totals.implementation_shortfall_bps - 2.5).abs() < 1e-9,
            "{totals:?}"
        );
        let order: Vec<u32> = t.finished_parents().map(|p| p.parent).collect();
        assert_eq!(order, vec![1, 0], "in the order they finished");
        // Past the ring's capacity the oldest are overwritten, still oldest first.
        for i in 0..FINISHED_KEPT as u32 + 3 {
            t.start_parent(0, InstrumentId(0), Side::Buy, u64::from(i) + 1, px("100"));
            t.end_parent(0, px("100"));
        }
        assert_eq!(t.parent_totals().parents, FINISHED_KEPT as u64 + 5);
        let kept: Vec<u64> = t.finished_parents().map(|p| p.target).collect();
        assert_eq!(kept.len(), FINISHED_KEPT);
        assert_eq!(kept[0], 4);
        assert_eq!(*kept.last().unwrap(), FINISHED_KEPT as u64 + 3);
        assert!(kept.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn sells_below_arrival_cost_too() {
        let mut t = Tca::new(0, 1);
        t.on_fill(
            InstrumentId(0),
            Side::Sell,
            10,
            px("99.9"),
            px("100"),
            px("100"),
            u32::MAX,
            0,
        );
        assert!((t.session().slippage_bps - 10.0).abs() < 1e-9);
        assert!((t.session().effective_spread_bps - 20.0).abs() < 1e-9);
    }
}
