//! The importer's own L3 model of the book: real orders (LOBSTER ids) and synthetic orders
//! (reserved refs) standing for liquidity LOBSTER never announced. Every change it makes is
//! also emitted as an [`ImportOp`], so the ITCH stream and the model never drift apart.

use std::collections::{BTreeMap, HashMap};

use kestrel_core::Side;

use super::message::SYNTHETIC_REF_BASE;
use super::ops::ImportOp;
use super::orderbook::BookLevel;

/// Why an operation could not be represented in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// An Add for an order id that is already resting.
    #[error("order {0} is already resting")]
    DuplicateOrder(u64),
    /// More shares removed from an order than it holds.
    #[error("order {order_ref} holds {held} shares, {wanted} removed")]
    Oversized {
        /// The order.
        order_ref: u64,
        /// Shares it holds.
        held: u64,
        /// Shares the event removes.
        wanted: u64,
    },
    /// An event removes shares the named order does not hold (it predates the capture or
    /// changed unseen) and the level's synthetic and hidden orders cannot cover them.
    #[error(
        "{wanted} shares at {price} not held by the named order, only {available} synthetic or hidden shares there"
    )]
    NoSyntheticLiquidity {
        /// Level price.
        price: i64,
        /// Synthetic shares resting there.
        available: u64,
        /// Shares the event removes.
        wanted: u64,
    },
    /// A price or size that does not fit the ITCH field.
    #[error("value {0} does not fit an ITCH field")]
    OutOfRange(i64),
}

/// How shares leave an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Executed (ITCH `E`).
    Execute,
    /// Executed in a cross at `price` (x 10^4), not a print (ITCH `C`, non-printable): the
    /// cross's own `Q` prints the volume.
    CrossExecute {
        /// Cross price x 10^4.
        price: u32,
    },
    /// Cancelled (ITCH `X`).
    Cancel,
}

#[derive(Debug, Clone, Copy)]
struct RestingOrder {
    side: Side,
    price: i64,
    shares: u64,
    /// The order's level has been beyond the visible window since the order was added, so
    /// LOBSTER may have dropped changes to it: its quantity is not confirmed.
    hidden: bool,
}

#[derive(Debug, Clone, Default)]
struct Level {
    shares: u64,
    /// Order refs in arrival order (front of the queue first).
    refs: Vec<u64>,
}

/// The importer's book.
#[derive(Debug, Clone)]
pub struct ImportBook {
    orders: HashMap<u64, RestingOrder>,
    /// `[bids, asks]`, keyed by price (dollars x 10^4).
    levels: [BTreeMap<i64, Level>; 2],
    next_synthetic: u64,
}

impl Default for ImportBook {
    fn default() -> Self {
        Self {
            orders: HashMap::new(),
            levels: [BTreeMap::new(), BTreeMap::new()],
            next_synthetic: SYNTHETIC_REF_BASE,
        }
    }
}

fn to_u32(v: u64) -> Result<u32, ModelError> {
    u32::try_from(v).map_err(|_| ModelError::OutOfRange(i64::try_from(v).unwrap_or(i64::MAX)))
}

fn price_u32(p: i64) -> Result<u32, ModelError> {
    u32::try_from(p).map_err(|_| ModelError::OutOfRange(p))
}

/// Whether a ref belongs to the synthetic range.
pub fn is_synthetic(order_ref: u64) -> bool {
    order_ref >= SYNTHETIC_REF_BASE
}

impl ImportBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `order_ref` is resting.
    pub fn contains(&self, order_ref: u64) -> bool {
        self.orders.contains_key(&order_ref)
    }

    /// Shares resting at one level (0 when none).
    pub fn level_shares(&self, side: Side, price: i64) -> u64 {
        self.levels[side.index()]
            .get(&price)
            .map_or(0, |l| l.shares)
    }

    /// The best `n` levels of a side, best first.
    pub fn top(&self, side: Side, n: usize) -> Vec<BookLevel> {
        let map = &self.levels[side.index()];
        let to_level = |(&price, l): (&i64, &Level)| BookLevel {
            price,
            size: l.shares,
        };
        match side {
            Side::Buy => map.iter().rev().take(n).map(to_level).collect(),
            Side::Sell => map.iter().take(n).map(to_level).collect(),
        }
    }

    /// All level prices of a side (any order).
    pub fn prices(&self, side: Side) -> Vec<i64> {
        self.levels[side.index()].keys().copied().collect()
    }

    /// Adds a real order and emits `A`.
    pub fn add(
        &mut self,
        order_ref: u64,
        side: Side,
        price: i64,
        shares: u64,
        out: &mut Vec<ImportOp>,
    ) -> Result<(), ModelError> {
        if self.orders.contains_key(&order_ref) {
            return Err(ModelError::DuplicateOrder(order_ref));
        }
        let op = ImportOp::Add {
            order_ref,
            side,
            price: price_u32(price)?,
            shares: to_u32(shares)?,
        };
        self.orders.insert(
            order_ref,
            RestingOrder {
                side,
                price,
                shares,
                hidden: false,
            },
        );
        let level = self.levels[side.index()].entry(price).or_default();
        level.shares += shares;
        level.refs.push(order_ref);
        out.push(op);
        Ok(())
    }

    /// Adds a synthetic order (next reserved ref) and emits `A`; returns its ref.
    pub fn add_synthetic(
        &mut self,
        side: Side,
        price: i64,
        shares: u64,
        out: &mut Vec<ImportOp>,
    ) -> Result<u64, ModelError> {
        let order_ref = self.next_synthetic;
        self.add(order_ref, side, price, shares, out)?;
        self.next_synthetic += 1;
        Ok(order_ref)
    }

    /// Removes `shares` from a resting order (emits `E` or `X`; the order leaves the book at
    /// zero).
    pub fn reduce(
        &mut self,
        order_ref: u64,
        shares: u64,
        how: Removal,
        out: &mut Vec<ImportOp>,
    ) -> Result<(), ModelError> {
        let Some(order) = self.orders.get(&order_ref).copied() else {
            return Err(ModelError::Oversized {
                order_ref,
                held: 0,
                wanted: shares,
            });
        };
        if shares > order.shares {
            return Err(ModelError::Oversized {
                order_ref,
                held: order.shares,
                wanted: shares,
            });
        }
        let n = to_u32(shares)?;
        out.push(match how {
            Removal::Execute => ImportOp::Execute {
                order_ref,
                shares: n,
            },
            Removal::CrossExecute { price } => ImportOp::ExecuteNonPrintable {
                order_ref,
                shares: n,
                price,
            },
            Removal::Cancel => ImportOp::Cancel {
                order_ref,
                shares: n,
            },
        });
        self.take(order_ref, order, shares);
        Ok(())
    }

    /// Removes a resting order entirely and emits `D`; returns the shares it held.
    pub fn delete(&mut self, order_ref: u64, out: &mut Vec<ImportOp>) -> Option<u64> {
        let order = self.orders.get(&order_ref).copied()?;
        out.push(ImportOp::Delete { order_ref });
        self.take(order_ref, order, order.shares);
        Some(order.shares)
    }

    /// Shares an order holds (0 when it is not resting).
    pub fn held(&self, order_ref: u64) -> u64 {
        self.orders.get(&order_ref).map_or(0, |o| o.shares)
    }

    /// The price an order rests at.
    pub fn price_of(&self, order_ref: u64) -> Option<i64> {
        self.orders.get(&order_ref).map(|o| o.price)
    }

    /// Marks every order on levels beyond (worse than) `edge` as hidden: LOBSTER may change
    /// them without a message from now on.
    pub fn mark_hidden_beyond(&mut self, side: Side, edge: i64) {
        let beyond: Vec<u64> = match side {
            Side::Buy => self.levels[0]
                .range(..edge)
                .flat_map(|(_, l)| l.refs.iter().copied())
                .collect(),
            Side::Sell => self.levels[1]
                .range(edge.saturating_add(1)..)
                .flat_map(|(_, l)| l.refs.iter().copied())
                .collect(),
        };
        for r in beyond {
            if let Some(o) = self.orders.get_mut(&r) {
                o.hidden = true;
            }
        }
    }

    /// Shares at a level that can stand in for an order LOBSTER names but the model does not
    /// hold (enough of): synthetic orders, and real orders whose quantity is unconfirmed
    /// (hidden), except `exclude`.
    pub fn coverable(&self, side: Side, price: i64, exclude: u64) -> u64 {
        self.level_refs(side, price)
            .iter()
            .filter(|&&r| r != exclude)
            .filter_map(|&r| self.orders.get(&r).filter(|o| o.hidden || is_synthetic(r)))
            .map(|o| o.shares)
            .sum()
    }

    /// Removes `shares` at a level on behalf of an order the model does not hold (enough of):
    /// first from the level's synthetic orders (oldest first, `E` or `X` each), then from
    /// hidden real orders (newest first, never `exclude`): such an order's share is taken as
    /// having left unseen (`X`/`D` on it) and the event's shares are re-attributed to a new
    /// synthetic order (`A`, then `E` or `X` on it). Returns the re-attributed shares.
    /// Nothing changes when [`coverable`](Self::coverable) is short.
    pub fn cover(
        &mut self,
        side: Side,
        price: i64,
        shares: u64,
        how: Removal,
        exclude: u64,
        out: &mut Vec<ImportOp>,
    ) -> Result<u64, ModelError> {
        let available = self.coverable(side, price, exclude);
        if available < shares {
            return Err(ModelError::NoSyntheticLiquidity {
                price,
                available,
                wanted: shares,
            });
        }
        let mut left = shares;
        for r in self.synthetic_refs(side, price) {
            if left == 0 {
                break;
            }
            let part = left.min(self.held(r));
            self.reduce(r, part, how, out)?;
            left -= part;
        }
        let mut reattributed = 0;
        let mut hidden = self.level_refs(side, price);
        hidden.retain(|&r| r != exclude && !is_synthetic(r));
        for r in hidden.into_iter().rev() {
            if left == 0 {
                break;
            }
            let held = self.held(r);
            let part = left.min(held);
            if part == 0 || !self.orders.get(&r).is_some_and(|o| o.hidden) {
                continue;
            }
            if part == held {
                self.delete(r, out);
            } else {
                self.reduce(r, part, Removal::Cancel, out)?;
            }
            let s = self.add_synthetic(side, price, part, out)?;
            self.reduce(s, part, how, out)?;
            reattributed += part;
            left -= part;
        }
        Ok(reattributed)
    }

    /// Sets a level to `target` shares with synthetic orders: an `A` for the missing shares, or
    /// cancels (synthetic orders newest first, then real orders newest first: they sit beyond
    /// the visible window, where LOBSTER does not report changes) for the surplus.
    pub fn set_level(
        &mut self,
        side: Side,
        price: i64,
        target: u64,
        out: &mut Vec<ImportOp>,
    ) -> Result<(), ModelError> {
        let have = self.level_shares(side, price);
        if target > have {
            self.add_synthetic(side, price, target - have, out)?;
            return Ok(());
        }
        let mut surplus = have - target;
        let mut refs = self.level_refs(side, price);
        // Synthetic first (newest first), then real orders (newest first).
        refs.reverse();
        refs.sort_by_key(|&r| !is_synthetic(r));
        for r in refs {
            if surplus == 0 {
                break;
            }
            let held = self.orders.get(&r).map_or(0, |o| o.shares);
            if held <= surplus {
                self.delete(r, out);
                surplus -= held;
            } else {
                self.reduce(r, surplus, Removal::Cancel, out)?;
                surplus = 0;
            }
        }
        Ok(())
    }

    fn level_refs(&self, side: Side, price: i64) -> Vec<u64> {
        self.levels[side.index()]
            .get(&price)
            .map_or_else(Vec::new, |l| l.refs.clone())
    }

    fn synthetic_refs(&self, side: Side, price: i64) -> Vec<u64> {
        let mut refs = self.level_refs(side, price);
        refs.retain(|&r| is_synthetic(r));
        refs
    }

    fn take(&mut self, order_ref: u64, order: RestingOrder, shares: u64) {
        let remaining = order.shares - shares;
        let book = &mut self.levels[order.side.index()];
        if let Some(level) = book.get_mut(&order.price) {
            level.shares -= shares;
            if remaining == 0 {
                level.refs.retain(|&r| r != order_ref);
            }
            if level.refs.is_empty() {
                book.remove(&order.price);
            }
        }
        if remaining == 0 {
            self.orders.remove(&order_ref);
        } else if let Some(o) = self.orders.get_mut(&order_ref) {
            o.shares = remaining;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_and_synthetic_orders() {
        let mut b = ImportBook::new();
        let mut out = Vec::new();
        let s = b.add_synthetic(Side::Sell, 100, 50, &mut out).unwrap();
        assert!(is_synthetic(s));
        b.add(7, Side::Sell, 100, 10, &mut out).unwrap();
        assert_eq!(b.level_shares(Side::Sell, 100), 60);
        // Unknown order executes 20 at 100: taken from the synthetic order.
        b.cover(Side::Sell, 100, 20, Removal::Execute, 0, &mut out)
            .unwrap();
        assert_eq!(b.level_shares(Side::Sell, 100), 40);
        assert!(matches!(
            b.cover(Side::Sell, 100, 31, Removal::Cancel, 0, &mut out),
            Err(ModelError::NoSyntheticLiquidity { available: 30, .. })
        ));
        assert!(matches!(
            b.add(7, Side::Sell, 101, 1, &mut out),
            Err(ModelError::DuplicateOrder(7))
        ));
        // Learned shrink: synthetic goes first.
        b.set_level(Side::Sell, 100, 5, &mut out).unwrap();
        assert_eq!(b.level_shares(Side::Sell, 100), 5);
        assert!(b.contains(7) && !b.contains(s));
        assert_eq!(b.delete(7, &mut out), Some(5));
        assert!(b.top(Side::Sell, 10).is_empty());
        assert_eq!(out.last(), Some(&ImportOp::Delete { order_ref: 7 }));
    }

    #[test]
    fn hidden_orders_cover_what_lobster_says_left_unseen() {
        let mut b = ImportBook::new();
        let mut out = Vec::new();
        b.add(7, Side::Sell, 100, 10, &mut out).unwrap();
        // Visible: nothing can stand in for an unknown order.
        assert_eq!(b.coverable(Side::Sell, 100, 999), 0);
        b.mark_hidden_beyond(Side::Sell, 99);
        assert_eq!(b.coverable(Side::Sell, 100, 999), 10);
        assert_eq!(b.coverable(Side::Sell, 100, 7), 0);
        out.clear();
        let moved = b
            .cover(Side::Sell, 100, 4, Removal::Execute, 999, &mut out)
            .unwrap();
        assert_eq!(moved, 4);
        let s = SYNTHETIC_REF_BASE;
        assert_eq!(
            out,
            vec![
                ImportOp::Cancel {
                    order_ref: 7,
                    shares: 4
                },
                ImportOp::Add {
                    order_ref: s,
                    side: Side::Sell,
                    price: 100,
                    shares: 4
                },
                ImportOp::Execute {
                    order_ref: s,
                    shares: 4
                },
            ]
        );
        assert_eq!((b.held(7), b.level_shares(Side::Sell, 100)), (6, 6));
        assert!(
            b.cover(Side::Sell, 100, 7, Removal::Cancel, 999, &mut out)
                .is_err()
        );
        assert_eq!(b.level_shares(Side::Sell, 100), 6);
    }

    #[test]
    fn top_is_best_first() {
        let mut b = ImportBook::new();
        let mut out = Vec::new();
        for (i, p) in [101, 99, 100].into_iter().enumerate() {
            b.add(i as u64, Side::Buy, p, 1, &mut out).unwrap();
            b.add(10 + i as u64, Side::Sell, p + 10, 1, &mut out)
                .unwrap();
        }
        let bids: Vec<i64> = b.top(Side::Buy, 2).iter().map(|l| l.price).collect();
        let asks: Vec<i64> = b.top(Side::Sell, 2).iter().map(|l| l.price).collect();
        assert_eq!((bids, asks), (vec![101, 100], vec![109, 110]));
    }
}
