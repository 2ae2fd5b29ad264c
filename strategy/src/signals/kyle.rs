//! Kyle's lambda: the slope of a rolling least-squares regression of the mid change on the signed
//! traded volume, one point per update over the last `window` updates.
//!
//! `x` = signed trade quantity of the update (raw quantity / 10^4, zero when no trade),
//! `y` = change of `bid + ask` in raw price units. The running sums are exact integers, so the
//! incremental slope equals a recomputation from the window. Lambda is reported in price units
//! per quantity unit.
//!
//! An update whose print has an unknown aggressor (a non-displayed execution, a cross) gives
//! no point: its volume is neither bought nor sold. A break sets its print's `x` back to zero
//! if the point is still in the window (found by match number).

use kestrel_core::BookUpdate;

use super::i128_to_f64;
use super::quote::Quote;
use super::ring::Ring;

/// Scale from raw quantity (8 decimals) to the regression's `x` (4 decimals).
const X_DIVISOR: i64 = 10_000;
/// Converts a slope in (raw mid2 units / x units) to price units per quantity unit.
const SLOPE_TO_PRICE_PER_QTY: f64 = 0.5 * 1e-8 * 1e4;

/// Running sums of a simple linear regression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegressionSums {
    /// Number of points.
    pub n: i128,
    /// Sum of x.
    pub sx: i128,
    /// Sum of y.
    pub sy: i128,
    /// Sum of x^2.
    pub sxx: i128,
    /// Sum of x*y.
    pub sxy: i128,
}

impl RegressionSums {
    /// Adds a point; `None` on overflow. Products of two `i64` cannot overflow `i128`.
    #[inline]
    fn add(&self, x: i64, y: i64) -> Option<Self> {
        let (x, y) = (i128::from(x), i128::from(y));
        Some(Self {
            n: self.n.checked_add(1)?,
            sx: self.sx.checked_add(x)?,
            sy: self.sy.checked_add(y)?,
            sxx: self.sxx.checked_add(x * x)?,
            sxy: self.sxy.checked_add(x * y)?,
        })
    }

    /// Removes a point added before; `None` on overflow.
    #[inline]
    fn remove(&self, x: i64, y: i64) -> Option<Self> {
        let (x, y) = (i128::from(x), i128::from(y));
        Some(Self {
            n: self.n.checked_sub(1)?,
            sx: self.sx.checked_sub(x)?,
            sy: self.sy.checked_sub(y)?,
            sxx: self.sxx.checked_sub(x * x)?,
            sxy: self.sxy.checked_sub(x * y)?,
        })
    }

    /// [`Self::add`] in place; `false` (sums partly updated) on overflow.
    #[inline]
    fn add_in_place(&mut self, x: i64, y: i64) -> bool {
        match self.add(x, y) {
            Some(s) => {
                *self = s;
                true
            }
            None => false,
        }
    }

    /// [`Self::remove`] in place; `false` (sums partly updated) on overflow.
    #[inline]
    fn remove_in_place(&mut self, x: i64, y: i64) -> bool {
        match self.remove(x, y) {
            Some(s) => {
                *self = s;
                true
            }
            None => false,
        }
    }

    /// The sums of a list of points (the direct reference); `None` on overflow.
    pub fn direct(points: impl Iterator<Item = (i64, i64)>) -> Option<Self> {
        let mut s = Self::default();
        for (x, y) in points {
            s = s.add(x, y)?;
        }
        Some(s)
    }

    /// OLS slope `(n Sxy - Sx Sy) / (n Sxx - Sx^2)`; `None` when x has no variance.
    pub fn slope(&self) -> Option<f64> {
        // Within these bounds every product below stays under 2^126: exact integer arithmetic
        // without checked multiplications (a slow library call for i128).
        const SMALL: i128 = 1 << 62;
        const MEDIUM: i128 = 1 << 94;
        let exact = self.n.abs() < (1 << 31)
            && self.sx.abs() < SMALL
            && self.sy.abs() < SMALL
            && self.sxx.abs() < MEDIUM
            && self.sxy.abs() < MEDIUM;
        let (num, den) = match exact {
            true => (
                i128_to_f64(self.n * self.sxy - self.sx * self.sy),
                i128_to_f64(self.n * self.sxx - self.sx * self.sx),
            ),
            false => {
                let (n, sx, sy) = (self.n as f64, self.sx as f64, self.sy as f64);
                (n * self.sxy as f64 - sx * sy, n * self.sxx as f64 - sx * sx)
            }
        };
        if den <= 0.0 {
            return None;
        }
        let s = num / den;
        s.is_finite().then_some(s)
    }
}

/// One regression point with the match number of its print (0 when none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Point {
    x: i64,
    y: i64,
    match_number: u64,
}

/// Rolling Kyle's lambda.
#[derive(Clone, Debug)]
pub struct KyleLambda {
    points: Ring<Point>,
    sums: RegressionSums,
    prev_mid2: Option<i128>,
    overflows: u64,
    unknown: u64,
    breaks_applied: u64,
}

impl KyleLambda {
    /// A regression over the last `window` updates.
    pub fn new(window: usize) -> Self {
        Self {
            points: Ring::new(window),
            sums: RegressionSums::default(),
            prev_mid2: None,
            overflows: 0,
            unknown: 0,
            breaks_applied: 0,
        }
    }

    /// Adds the point of `u` when the books before and after it are normal.
    #[inline]
    pub fn update(&mut self, u: &BookUpdate) {
        self.update_with(u, &Quote::of(&u.top));
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, u: &BookUpdate, q: &Quote) {
        if u.trade.is_break() {
            self.take_back(u.trade.match_number);
        }
        if !q.state.is_normal() {
            self.prev_mid2 = None;
            return;
        }
        let mid2 = q.mid_raw2();
        if let Some(prev) = self.prev_mid2 {
            let x = if u.trade.is_print() {
                u.trade.signed_qty().map(|s| s / X_DIVISOR)
            } else {
                Some(0)
            };
            match (x, i64::try_from(mid2 - prev)) {
                (Some(x), Ok(y)) => self.push(x, y, u.trade.match_number),
                (None, _) => self.unknown += 1,
                (_, Err(_)) => self.overflows += 1,
            }
        }
        self.prev_mid2 = Some(mid2);
    }

    fn push(&mut self, x: i64, y: i64, match_number: u64) {
        let evicted = self.points.push(Point { x, y, match_number });
        // In place: on overflow the sums are thrown away whole, so a partial update is harmless.
        let s = &mut self.sums;
        let ok = match evicted {
            // The common case, an update without a print replacing another: only `sy` moves
            // (`n`, `sx`, `sxx` and `sxy` would take away and add back zeros). Same checked
            // steps on `sy` as the general path, so the same sums and the same overflows.
            Some(p) if x == 0 && p.x == 0 => {
                match s
                    .sy
                    .checked_sub(i128::from(p.y))
                    .and_then(|v| v.checked_add(i128::from(y)))
                {
                    Some(sy) => {
                        s.sy = sy;
                        true
                    }
                    None => false,
                }
            }
            _ => evicted.is_none_or(|p| s.remove_in_place(p.x, p.y)) && s.add_in_place(x, y),
        };
        if !ok {
            self.restart();
        }
    }

    /// Absurd inputs: start the window again rather than report wrapped sums.
    fn restart(&mut self) {
        self.overflows += 1;
        self.points.clear();
        self.sums = RegressionSums::default();
    }

    /// A break: the point of print `match_number`, if still in the window, keeps its mid
    /// change and loses its signed volume.
    fn take_back(&mut self, match_number: u64) {
        if match_number == 0 {
            return;
        }
        let Some(at) = self
            .points
            .rposition(|p| p.match_number == match_number && p.x != 0)
        else {
            return;
        };
        let Some(p) = self.points.get_mut(at) else {
            return;
        };
        let (x, y) = (p.x, p.y);
        p.x = 0;
        self.breaks_applied += 1;
        let s = &mut self.sums;
        if !(s.remove_in_place(x, y) && s.add_in_place(0, y)) {
            self.restart();
        }
    }

    /// Lambda in price units per quantity unit; `None` until the window has signed volume
    /// with some variance.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.sums.slope().map(|s| s * SLOPE_TO_PRICE_PER_QTY)
    }

    /// The running sums.
    #[inline]
    pub fn sums(&self) -> RegressionSums {
        self.sums
    }

    /// The `(x, y)` points in the window, oldest first.
    pub fn points(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.points.iter().map(|p| (p.x, p.y))
    }

    /// Updates left out because their print's aggressor is unknown.
    #[inline]
    pub fn unknown_aggressor(&self) -> u64 {
        self.unknown
    }

    /// Breaks that zeroed a point's signed volume.
    #[inline]
    pub fn breaks_applied(&self) -> u64 {
        self.breaks_applied
    }

    /// Points dropped (mid change beyond 64 bits) or window restarts (a sum would overflow).
    #[inline]
    pub fn overflows(&self) -> u64 {
        self.overflows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{Price, Qty, TradeKind, TradePrint};

    #[test]
    fn hand_computed_slope() {
        // y = 3x + 1 exactly.
        let s = RegressionSums::direct([(0, 1), (1, 4), (2, 7), (-1, -2)].into_iter());
        assert_eq!(s.and_then(|s| s.slope()), Some(3.0));
        // No variance in x.
        let flat = RegressionSums::direct([(2, 1), (2, 4)].into_iter());
        assert_eq!(flat.and_then(|s| s.slope()), None);
    }

    fn update(bid: i64, ask: i64, qty: i64, aggressor: i8, kind: TradeKind, m: u64) -> BookUpdate {
        let mut u = BookUpdate::default();
        u.top.bids[0].price = Price::from_units(bid).unwrap();
        u.top.bids[0].qty = Qty::ONE;
        u.top.asks[0].price = Price::from_units(ask).unwrap();
        u.top.asks[0].qty = Qty::ONE;
        u.top.bid_levels = 1;
        u.top.ask_levels = 1;
        u.trade = TradePrint {
            price: Price::from_units(ask).unwrap(),
            qty: Qty::from_units(qty).unwrap(),
            match_number: m,
            aggressor,
            kind,
        };
        u
    }

    proptest::proptest! {
        /// The running sums (with the shortcut for updates without a print) equal the sums
        /// computed directly over the window's points after every update, through evictions,
        /// breaks and restarts.
        #[test]
        fn running_sums_equal_the_window_recomputed(
            window in 1usize..12,
            steps in proptest::collection::vec((-3i64..=3, 0i64..4, -1i8..=1, 0u8..8), 1..150),
        ) {
            let mut k = KyleLambda::new(window);
            let mut mid = 100i64;
            for (m, (dmid, qty, aggressor, what)) in steps.into_iter().enumerate() {
                mid += dmid;
                // Mostly updates without a print (x = 0), some prints, a few breaks.
                let (qty, kind) = match what {
                    0 | 1 => (qty, TradeKind::Execution),
                    2 => (0, TradeKind::Break),
                    _ => (0, TradeKind::None),
                };
                let matched = if kind == TradeKind::Break { (m as u64).saturating_sub(3) } else { m as u64 };
                k.update(&update(mid, mid + 1, qty, aggressor, kind, matched));
                proptest::prop_assert_eq!(
                    Some(k.sums()),
                    RegressionSums::direct(k.points().collect::<Vec<_>>().into_iter())
                );
            }
        }
    }

    #[test]
    fn unknown_aggressors_give_no_point_and_breaks_zero_theirs() {
        let mut k = KyleLambda::new(10);
        k.update(&update(100, 101, 0, 0, TradeKind::None, 0));
        k.update(&update(101, 102, 5, 1, TradeKind::Execution, 1));
        // A non-displayed print: before the fix its `B` side byte made it a sale of 7.
        k.update(&update(101, 102, 7, 0, TradeKind::NonDisplayed, 2));
        k.update(&update(100, 101, 3, -1, TradeKind::Execution, 3));
        assert_eq!(k.unknown_aggressor(), 1);
        let x = |n: i64| n * 10_000;
        let y = 2 * 100_000_000;
        assert_eq!(k.points().collect::<Vec<_>>(), [(x(5), y), (x(-3), -y)]);
        k.update(&update(100, 101, 0, 0, TradeKind::Break, 1));
        assert_eq!(k.breaks_applied(), 1);
        assert_eq!(
            k.points().collect::<Vec<_>>(),
            [(0, y), (x(-3), -y), (0, 0)]
        );
        assert_eq!(
            Some(k.sums()),
            RegressionSums::direct(k.points().collect::<Vec<_>>().into_iter())
        );
    }
}
