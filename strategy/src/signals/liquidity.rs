//! A liquidity score from the depth within a band around the mid, the spread and the number of
//! visible levels:
//! `score = depth / (depth + depth_ref) * 1 / (1 + spread_bps / spread_ref_bps) * levels / 20`,
//! in `[0, 1]`; higher is more liquid.

use kestrel_core::{BookUpdate, Side, TOP_LEVELS};

use super::book_scan::Reciprocals;
use super::i128_to_f64;
use super::quote::Quote;

/// `1 / FIXED_SCALE`: raw fixed-point to units by a multiplication.
const INV_SCALE: f64 = 1.0 / kestrel_core::FIXED_SCALE as f64;

/// Liquidity score state and parameters.
#[derive(Clone, Copy, Debug)]
pub struct LiquidityScore {
    band_bps: f64,
    depth_ref: f64,
    inv_spread_ref_bps: f64,
    depth: f64,
    levels: u32,
    score: Option<f64>,
}

impl LiquidityScore {
    /// Depth counted within `band_bps` of the mid; `depth_ref` (quantity units) is the depth
    /// that earns half the depth term; `spread_ref_bps` the spread that halves the spread term.
    pub fn new(band_bps: f64, depth_ref: f64, spread_ref_bps: f64) -> Self {
        let pos = |x: f64, d: f64| if x.is_finite() && x > 0.0 { x } else { d };
        Self {
            band_bps: pos(band_bps, 10.0),
            depth_ref: pos(depth_ref, 1.0),
            inv_spread_ref_bps: 1.0 / pos(spread_ref_bps, 1.0),
            depth: 0.0,
            levels: 0,
            score: None,
        }
    }

    /// Recomputes from the book after `u` (O(levels); each side stops at its first level outside
    /// the band, the levels being best first).
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, u: &BookUpdate, q: &Quote) {
        self.set_levels(u);
        if !q.state.is_normal() {
            self.depth = 0.0;
            self.score = None;
            return;
        }
        let (bid_min, ask_max) = self.band_limits(q);
        let spread_bps = Reciprocals::of(q).spread_bps(q);
        self.set_depth(depth_in_band(u, bid_min, ask_max), spread_bps);
    }

    /// The band of a normal book in raw price units: bids at or above the first value, asks at
    /// or below the second. Levels are best first (as `BookTop` promises), so each side stops
    /// at its first level outside the band.
    #[inline]
    pub(crate) fn band_limits(&self, q: &Quote) -> (i64, i64) {
        // Distances are compared in raw units of twice the price. (as `BookTop` promises), so each side stops at its first level
        // outside the band. Distances are compared in raw units of twice the price.
        let mid2_raw = q.mid_raw2();
        let mid2 = i128_to_f64(mid2_raw);
        // Non-negative (every real book): truncation through `i64` is the floor, without the
        // `floor` library call (this target has no rounding instruction) nor `f64 -> i128`.
        let band2 = mid2 * self.band_bps * 1e-4;
        let band2 = if (0.0..9.0e18).contains(&band2) {
            band2 as i64 as i128
        } else {
            let f = band2.floor();
            if f.is_finite() { f as i128 } else { 0 }
        };
        // In price units: bids at or above `bid_min`, asks at or below `ask_max`.
        let clamp = |x: i128| i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX });
        let bid_min = clamp((mid2_raw - band2 + 1).div_euclid(2));
        let ask_max = clamp((mid2_raw + band2).div_euclid(2));
        (bid_min, ask_max)
    }

    /// Sets depth and score of a normal book from the raw quantity inside
    /// [`Self::band_limits`], both sides, and the spread in bps
    /// ([`Reciprocals::spread_bps`]); the level count must already be set
    /// ([`Self::set_levels`]).
    #[inline]
    pub(crate) fn set_depth(&mut self, depth_raw: i128, spread_bps: f64) {
        let depth = i128_to_f64(depth_raw) * INV_SCALE;
        self.depth = depth;
        let depth_term = depth / (depth + self.depth_ref);
        let spread_term = 1.0 / (1.0 + spread_bps.max(0.0) * self.inv_spread_ref_bps);
        let level_term = f64::from(self.levels) * (1.0 / (2 * TOP_LEVELS) as f64);
        let s = depth_term * spread_term * level_term;
        self.score = s.is_finite().then_some(s.clamp(0.0, 1.0));
    }

    /// Counts the visible levels of both sides.
    #[inline]
    pub(crate) fn set_levels(&mut self, u: &BookUpdate) {
        self.levels = u32::from(u.top.bid_levels.min(TOP_LEVELS as u8))
            + u32::from(u.top.ask_levels.min(TOP_LEVELS as u8));
    }

    /// The score in `[0, 1]`.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.score
    }

    /// Quantity within the band, both sides (zero for a non-normal book).
    #[inline]
    pub fn depth_within_band(&self) -> f64 {
        self.depth
    }

    /// Visible levels, both sides.
    #[inline]
    pub fn level_count(&self) -> u32 {
        self.levels
    }
}

/// Quantity of the levels inside `[bid_min, ask_max]`, each side stopping at its first level
/// outside. Summed in `i64` (one add per level), again in `i128` in the absurd case where that
/// overflows.
#[inline]
pub(crate) fn depth_in_band(u: &BookUpdate, bid_min: i64, ask_max: i64) -> i128 {
    let mut sum = 0i64;
    let mut overflow = false;
    let mut add = |q: i64| {
        let (s, o) = sum.overflowing_add(q);
        sum = s;
        overflow |= o;
    };
    for lvl in u.top.side(Side::Buy) {
        if lvl.price.raw() < bid_min {
            break;
        }
        add(lvl.qty.raw());
    }
    for lvl in u.top.side(Side::Sell) {
        if lvl.price.raw() > ask_max {
            break;
        }
        add(lvl.qty.raw());
    }
    if !overflow {
        return i128::from(sum);
    }
    let bids = u
        .top
        .side(Side::Buy)
        .iter()
        .take_while(|l| l.price.raw() >= bid_min);
    let asks = u
        .top
        .side(Side::Sell)
        .iter()
        .take_while(|l| l.price.raw() <= ask_max);
    bids.chain(asks).map(|l| i128::from(l.qty.raw())).sum()
}
