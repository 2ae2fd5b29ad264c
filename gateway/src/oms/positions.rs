//! Positions, average cost and FIFO realised / unrealised P&L with fees, per instrument.
//!
//! Money is an `i128` in units of 1e-8 dollars (a fixed-point [`Price`]'s raw value times whole
//! shares): exact for any realistic size. Each instrument keeps its open lots first-in,
//! first-out: a fill that reduces the position closes the oldest lots first and realises
//! `(exit - entry) * shares` on each; a fill that crosses zero closes everything and opens a
//! lot on the other side with the rest.

use kestrel_core::{Price, Side};
use std::collections::VecDeque;

/// Open lots kept per instrument before the first growth (counted).
pub const LOTS_PER_INSTRUMENT: usize = 1024;

/// A money amount in 1e-8 dollars.
pub type Money = i128;

/// Money to dollars as `f64` (reports only).
pub fn money_f64(m: Money) -> f64 {
    m as f64 / 1e8
}

/// One open lot: signed shares (+ long, - short) at an entry price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lot {
    shares: i64,
    price: Price,
}

/// One instrument's position.
#[derive(Clone, Debug, Default)]
pub struct Position {
    net: i64,
    lots: VecDeque<Lot>,
    realised: Money,
    fees: Money,
    bought: u64,
    sold: u64,
    buy_value: Money,
    sell_value: Money,
    fills: u64,
    mark: Price,
    lot_growths: u64,
}

/// A snapshot of one position for reports and comparisons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PositionView {
    /// Net shares (+ long).
    pub net: i64,
    /// Average entry price of the open lots (zero when flat).
    pub avg_cost: Price,
    /// Realised P&L before fees.
    pub realised: Money,
    /// Unrealised P&L at the mark.
    pub unrealised: Money,
    /// Fees paid (negative: rebates earned).
    pub fees: Money,
    /// Shares bought.
    pub bought: u64,
    /// Shares sold.
    pub sold: u64,
    /// Fills applied.
    pub fills: u64,
    /// The mark used.
    pub mark: Price,
}

impl PositionView {
    /// Realised + unrealised - fees.
    pub fn net_pnl(&self) -> Money {
        self.realised + self.unrealised - self.fees
    }
}

#[inline]
fn value(shares: i64, price: Price) -> Money {
    i128::from(shares) * i128::from(price.raw())
}

impl Position {
    /// An empty position with its lot queue preallocated.
    pub fn new() -> Self {
        Self {
            lots: VecDeque::with_capacity(LOTS_PER_INSTRUMENT),
            ..Self::default()
        }
    }

    /// Applies a fill of `shares` at `price` on `side`, paying `fee` (negative: a rebate).
    pub fn apply_fill(&mut self, side: Side, shares: u32, price: Price, fee: Money) {
        let signed = i64::from(shares) * side.sign();
        self.fills += 1;
        self.fees += fee;
        match side {
            Side::Buy => {
                self.bought += u64::from(shares);
                self.buy_value += value(i64::from(shares), price);
            }
            Side::Sell => {
                self.sold += u64::from(shares);
                self.sell_value += value(i64::from(shares), price);
            }
        }
        let mut rest = signed;
        // Close opposite lots first, oldest first.
        while rest != 0 {
            let Some(front) = self.lots.front_mut() else {
                break;
            };
            if front.shares.signum() == rest.signum() {
                break;
            }
            let close = rest.abs().min(front.shares.abs());
            // A long lot closed by a sell realises (exit - entry); a short lot by a buy,
            // (entry - exit).
            let per_share = if front.shares > 0 {
                price.raw() - front.price.raw()
            } else {
                front.price.raw() - price.raw()
            };
            self.realised += i128::from(per_share) * i128::from(close);
            front.shares -= close * front.shares.signum();
            rest -= close * rest.signum();
            if front.shares == 0 {
                self.lots.pop_front();
            }
        }
        if rest != 0 {
            if self.lots.len() == self.lots.capacity() {
                self.lot_growths += 1;
            }
            self.lots.push_back(Lot {
                shares: rest,
                price,
            });
        }
        self.net += signed;
        self.mark = price;
    }

    /// Sets the mark price (the market mid) used for unrealised P&L.
    #[inline]
    pub fn set_mark(&mut self, mark: Price) {
        if mark.is_positive() {
            self.mark = mark;
        }
    }

    /// Net shares.
    #[inline]
    pub fn net(&self) -> i64 {
        self.net
    }

    /// Average entry price of the open lots (zero when flat; rounded toward zero).
    pub fn avg_cost(&self) -> Price {
        if self.net == 0 {
            return Price::ZERO;
        }
        let total: Money = self.lots.iter().map(|l| value(l.shares, l.price)).sum();
        Price::from_raw((total / i128::from(self.net)) as i64)
    }

    /// Unrealised P&L at the mark.
    pub fn unrealised(&self) -> Money {
        self.lots
            .iter()
            .map(|l| i128::from(l.shares) * i128::from(self.mark.raw() - l.price.raw()))
            .sum()
    }

    /// Times the lot queue had to grow past its preallocation.
    pub fn lot_growths(&self) -> u64 {
        self.lot_growths
    }

    /// A snapshot.
    pub fn view(&self) -> PositionView {
        PositionView {
            net: self.net,
            avg_cost: self.avg_cost(),
            realised: self.realised,
            unrealised: self.unrealised(),
            fees: self.fees,
            bought: self.bought,
            sold: self.sold,
            fills: self.fills,
            mark: self.mark,
        }
    }

    /// Forgets everything (rebuilding from a fill log).
    pub fn reset(&mut self) {
        let mark = self.mark;
        self.lots.clear();
        *self = Self {
            lots: core::mem::take(&mut self.lots),
            mark,
            lot_growths: self.lot_growths,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn px(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn fifo_realises_oldest_lots_first() {
        let mut p = Position::new();
        p.apply_fill(Side::Buy, 100, px("10"), 0);
        p.apply_fill(Side::Buy, 100, px("12"), 0);
        assert_eq!(p.avg_cost(), px("11"));
        p.apply_fill(Side::Sell, 150, px("13"), 0);
        // 100 @ 10 -> +300, 50 @ 12 -> +50.
        let v = p.view();
        assert_eq!(v.realised, 350 * 100_000_000);
        assert_eq!(v.net, 50);
        assert_eq!(v.avg_cost, px("12"));
        p.set_mark(px("11"));
        assert_eq!(p.unrealised(), -50 * 100_000_000);
    }

    #[test]
    fn crossing_zero_opens_the_other_side_and_fees_count() {
        let mut p = Position::new();
        p.apply_fill(Side::Buy, 10, px("100"), 30_000_000);
        p.apply_fill(Side::Sell, 30, px("101"), 90_000_000);
        let v = p.view();
        assert_eq!(v.net, -20);
        assert_eq!(v.realised, 10 * 100_000_000);
        assert_eq!(v.avg_cost, px("101"));
        assert_eq!(v.fees, 120_000_000);
        p.apply_fill(Side::Buy, 20, px("99"), 0);
        let v = p.view();
        assert_eq!(v.net, 0);
        assert_eq!(v.realised, (10 + 40) * 100_000_000);
        assert_eq!(v.unrealised, 0);
        assert_eq!(v.net_pnl(), 50 * 100_000_000 - 120_000_000);
    }

    proptest! {
        /// Realised + unrealised equals the cash flow marked to market, for any fill sequence.
        #[test]
        fn pnl_matches_cash_flow(fills in proptest::collection::vec((any::<bool>(), 1u32..500, 9_000i64..11_000), 1..60), mark in 9_000i64..11_000) {
            let mut p = Position::new();
            let mut cash: i128 = 0;
            let mut net: i64 = 0;
            for (buy, shares, cents) in fills {
                let price = Price::from_raw(cents * 1_000_000);
                let side = if buy { Side::Buy } else { Side::Sell };
                p.apply_fill(side, shares, price, 0);
                cash -= i128::from(side.sign() * i64::from(shares)) * i128::from(price.raw());
                net += side.sign() * i64::from(shares);
            }
            let m = Price::from_raw(mark * 1_000_000);
            p.set_mark(m);
            let v = p.view();
            prop_assert_eq!(v.net, net);
            prop_assert_eq!(v.realised + v.unrealised, cash + i128::from(net) * i128::from(m.raw()));
        }
    }
}
