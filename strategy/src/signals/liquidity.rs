//! A liquidity score from the depth within a band around the mid, the spread and the number of
//! visible levels:
//! `score = depth / (depth + depth_ref) * 1 / (1 + spread_bps / spread_ref_bps) * levels / 20`,
//! in `[0, 1]`; higher is more liquid.

use kestrel_core::{BookUpdate, Side, TOP_LEVELS};

use super::i128_to_f64;
use super::quote::Quote;

/// Liquidity score state and parameters.
#[derive(Clone, Copy, Debug)]
pub struct LiquidityScore {
    band_bps: f64,
    depth_ref: f64,
    spread_ref_bps: f64,
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
            spread_ref_bps: pos(spread_ref_bps, 1.0),
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
        self.levels = u32::from(u.top.bid_levels.min(TOP_LEVELS as u8))
            + u32::from(u.top.ask_levels.min(TOP_LEVELS as u8));
        if !q.state.is_normal() {
            self.depth = 0.0;
            self.score = None;
            return;
        }
        // Levels are best first (as `BookTop` promises), so each side stops at its first level
        // outside the band. Distances are compared in raw units of twice the price.
        let mid2_raw = q.mid_raw2();
        let mid2 = i128_to_f64(mid2_raw);
        let band2 = (mid2 * self.band_bps / 1e4).floor();
        let band2 = if band2.is_finite() { band2 as i128 } else { 0 };
        let mut depth_raw = 0i128;
        for lvl in u.top.side(Side::Buy) {
            if mid2_raw - 2 * i128::from(lvl.price.raw()) > band2 {
                break;
            }
            depth_raw += i128::from(lvl.qty.raw());
        }
        for lvl in u.top.side(Side::Sell) {
            if 2 * i128::from(lvl.price.raw()) - mid2_raw > band2 {
                break;
            }
            depth_raw += i128::from(lvl.qty.raw());
        }
        let depth = i128_to_f64(depth_raw) / kestrel_core::FIXED_SCALE as f64;
        self.depth = depth;
        let spread_bps = 2.0 * (q.ask.raw() as f64 - q.bid.raw() as f64) / mid2 * 1e4;
        let depth_term = depth / (depth + self.depth_ref);
        let spread_term = 1.0 / (1.0 + spread_bps.max(0.0) / self.spread_ref_bps);
        let level_term = f64::from(self.levels) / (2 * TOP_LEVELS) as f64;
        let s = depth_term * spread_term * level_term;
        self.score = s.is_finite().then_some(s.clamp(0.0, 1.0));
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
