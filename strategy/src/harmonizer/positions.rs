//! Positions, working orders and P&L in exact fixed point: per-instrument position and working
//! quantity (raw, eight decimals), marks at the mid, and cash and mark value as `i128` notionals
//! at sixteen decimals. Equity, its peak, drawdown and the day's loss come from these.

use kestrel_core::FIXED_SCALE;

/// Book-keeping of positions and P&L.
#[derive(Clone, Debug)]
pub struct Positions {
    pos: Vec<i64>,
    working: Vec<i64>,
    marks: Vec<i64>,
    cash16: i128,
    mark_value16: i128,
    capital16: i128,
    /// `capital16` as `f64`, converted once (the conversion of an `i128` is a library call).
    capital16_f64: f64,
    peak16: i128,
    day_start16: i128,
}

const SCALE16: f64 = (FIXED_SCALE as f64) * (FIXED_SCALE as f64);

impl Positions {
    /// Flat positions over `n` instruments with `capital16` (money at sixteen decimals).
    pub fn new(n: usize, capital16: i128) -> Self {
        Self {
            pos: vec![0; n],
            working: vec![0; n],
            marks: vec![0; n],
            cash16: 0,
            mark_value16: 0,
            capital16,
            capital16_f64: capital16 as f64,
            peak16: capital16,
            day_start16: capital16,
        }
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    /// Whether there are no instruments.
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }

    /// Position of `i` (raw), 0 when out of range.
    #[inline]
    pub fn position(&self, i: usize) -> i64 {
        self.pos.get(i).copied().unwrap_or(0)
    }

    /// Working (sent, not yet filled or done) quantity of `i` (raw, signed).
    #[inline]
    pub fn working(&self, i: usize) -> i64 {
        self.working.get(i).copied().unwrap_or(0)
    }

    /// Position plus working quantity of `i` (raw).
    #[inline]
    pub fn exposure(&self, i: usize) -> i64 {
        self.position(i).saturating_add(self.working(i))
    }

    /// Mark (mid, raw price) of `i`, 0 before the first.
    #[inline]
    pub fn mark(&self, i: usize) -> i64 {
        self.marks.get(i).copied().unwrap_or(0)
    }

    /// Marks `i` at `mid_raw`, revaluing its position exactly, and moves the equity peak.
    pub fn set_mark(&mut self, i: usize, mid_raw: i64) {
        self.mark_to(i, mid_raw);
    }

    /// [`Self::set_mark`], returning the equity it leaves ([`Self::equity16`], computed once
    /// for the peak, the drawdown and the day's loss: [`Self::drawdown_at`],
    /// [`Self::day_loss16_at`]).
    #[inline]
    pub fn mark_to(&mut self, i: usize, mid_raw: i64) -> i128 {
        let (Some(mark), Some(&pos)) = (self.marks.get_mut(i), self.pos.get(i)) else {
            return self.equity16();
        };
        let diff = i128::from(mid_raw) - i128::from(*mark);
        *mark = mid_raw;
        self.mark_value16 = self.mark_value16.saturating_add(i128::from(pos) * diff);
        let equity16 = self.equity16();
        self.peak16 = self.peak16.max(equity16);
        equity16
    }

    /// Adds a sent order's signed quantity to the working quantity of `i`.
    pub fn add_working(&mut self, i: usize, signed_raw: i64) {
        if let Some(w) = self.working.get_mut(i) {
            *w = w.saturating_add(signed_raw);
        }
    }

    /// Releases the unfilled signed quantity of an order that is done (cancelled, rejected,
    /// expired); working never crosses zero.
    pub fn release_working(&mut self, i: usize, signed_raw: i64) {
        if let Some(w) = self.working.get_mut(i) {
            *w = toward_zero(*w, signed_raw);
        }
    }

    /// A fill of `signed_raw` (bought > 0) at `price_raw`: position, cash and mark value move
    /// exactly; the working quantity shrinks by the same amount (never crossing zero).
    pub fn on_fill(&mut self, i: usize, signed_raw: i64, price_raw: i64) {
        let (Some(pos), Some(w), Some(&mark)) = (
            self.pos.get_mut(i),
            self.working.get_mut(i),
            self.marks.get(i),
        ) else {
            return;
        };
        *pos = pos.saturating_add(signed_raw);
        *w = toward_zero(*w, signed_raw);
        let q = i128::from(signed_raw);
        self.cash16 = self.cash16.saturating_sub(q * i128::from(price_raw));
        self.mark_value16 = self.mark_value16.saturating_add(q * i128::from(mark));
        self.peak16 = self.peak16.max(self.equity16());
    }

    /// Reverses a fill of `signed_raw` at `price_raw` that the venue broke: position, cash
    /// and mark value move back; the working quantity is left alone (the order is not
    /// reinstated).
    pub fn reverse_fill(&mut self, i: usize, signed_raw: i64, price_raw: i64) {
        let (Some(pos), Some(&mark)) = (self.pos.get_mut(i), self.marks.get(i)) else {
            return;
        };
        *pos = pos.saturating_sub(signed_raw);
        let q = i128::from(signed_raw);
        self.cash16 = self.cash16.saturating_add(q * i128::from(price_raw));
        self.mark_value16 = self.mark_value16.saturating_sub(q * i128::from(mark));
    }

    /// Equity (capital + cash + marked positions) at sixteen decimals.
    #[inline]
    pub fn equity16(&self) -> i128 {
        self.capital16
            .saturating_add(self.cash16)
            .saturating_add(self.mark_value16)
    }

    /// Equity in money.
    pub fn equity(&self) -> f64 {
        self.equity16() as f64 / SCALE16
    }

    /// Drawdown from the equity peak as a fraction of capital.
    #[inline]
    pub fn drawdown(&self) -> f64 {
        self.drawdown_at(self.equity16())
    }

    /// [`Self::drawdown`] given the current [`Self::equity16`].
    #[inline]
    pub fn drawdown_at(&self, equity16: i128) -> f64 {
        debug_assert_eq!(equity16, self.equity16());
        if self.capital16 <= 0 {
            return 0.0;
        }
        // A drawdown over 922 (money) no longer fits an `i64` at sixteen decimals: the split
        // conversion (within an ulp) rather than the `i128 -> f64` library call.
        crate::signals::i128_to_f64(self.peak16 - equity16) / self.capital16_f64
    }

    /// Loss since the start of the day (positive when down), sixteen decimals.
    #[inline]
    pub fn day_loss16(&self) -> i128 {
        self.day_loss16_at(self.equity16())
    }

    /// [`Self::day_loss16`] given the current [`Self::equity16`].
    #[inline]
    pub fn day_loss16_at(&self, equity16: i128) -> i128 {
        debug_assert_eq!(equity16, self.equity16());
        self.day_start16.saturating_sub(equity16)
    }

    /// Starts a new day at the current equity.
    pub fn start_day(&mut self) {
        self.day_start16 = self.equity16();
    }

    /// Exposure notional of `i` (position plus working at the mark), money.
    #[inline]
    pub fn exposure_notional(&self, i: usize) -> f64 {
        exact_f64(i128::from(self.exposure(i)) * i128::from(self.mark(i))) / SCALE16
    }
}

/// `w` moved toward zero by `amount` when they have the same sign, never crossing zero.
/// `x as f64` (round to nearest), without the library call when `x` fits an `i64` (then the
/// hardware conversion gives the same, correctly rounded, value).
#[inline]
fn exact_f64(x: i128) -> f64 {
    match i64::try_from(x) {
        Ok(v) => v as f64,
        Err(_) => x as f64,
    }
}

fn toward_zero(w: i64, amount: i64) -> i64 {
    if w > 0 && amount > 0 {
        w - amount.min(w)
    } else if w < 0 && amount < 0 {
        w - amount.max(w)
    } else {
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: i64 = FIXED_SCALE;

    #[test]
    fn exact_pnl_and_drawdown() {
        let capital = 1_000 * i128::from(U) * i128::from(U);
        let mut p = Positions::new(2, capital);
        p.set_mark(0, 100 * U);
        p.add_working(0, 10 * U);
        assert_eq!(p.exposure(0), 10 * U);
        p.on_fill(0, 10 * U, 100 * U);
        assert_eq!((p.position(0), p.working(0)), (10 * U, 0));
        assert_eq!(p.equity(), 1_000.0);
        p.set_mark(0, 95 * U); // -50
        assert_eq!(p.equity(), 950.0);
        assert!((p.drawdown() - 0.05).abs() < 1e-12);
        assert_eq!(p.day_loss16(), 50 * i128::from(U) * i128::from(U));
        p.set_mark(0, 110 * U); // +100 over capital: new peak
        assert_eq!(p.drawdown(), 0.0);
        p.on_fill(0, -10 * U, 110 * U);
        assert_eq!(p.position(0), 0);
        assert_eq!(p.equity(), 1_100.0);
        p.start_day();
        assert_eq!(p.day_loss16(), 0);
        p.add_working(1, -5 * U);
        p.release_working(1, -7 * U);
        assert_eq!(p.working(1), 0, "never crosses zero");
    }
}
