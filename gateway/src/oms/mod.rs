//! The order management system: every order's state machine, open orders per instrument and
//! side, positions and P&L, and the execution reports back to the strategy.
//!
//! Only venue messages move an order (the OMS's own sends only move it into a pending state),
//! so replaying the same sends and venue messages rebuilds exactly the same state: that is how
//! a restart recovers from the journal.

mod fills;
mod id_map;
mod order;
mod positions;
mod restore;
mod venue_msgs;

pub use fills::{Fill, FillLog};
pub use id_map::IdMap;
pub use order::{NO_PARENT, OrdStatus, Order, PendingReplace};
pub use positions::{LOTS_PER_INSTRUMENT, Money, Position, PositionView, money_f64};

use crate::ouch::{
    self, BuySell, CancelOrder, EnterOrder, Firm, IsoEligibility, Price4, ReplaceOrder, Stock,
};
use crate::token::{TokenError, TokenGen};
use kestrel_core::pipeline::Emit;
use kestrel_core::{ExecKind, ExecReport, InstrumentId, Price, Qty, Side, Timestamp};

/// Fees per share by liquidity (1e-8 dollars per share, i.e. a [`Price`]'s raw value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fees {
    /// Per share when the order added liquidity (negative: a rebate).
    pub maker_per_share: Price,
    /// Per share when the order removed liquidity.
    pub taker_per_share: Price,
}

impl Fees {
    /// Whether a liquidity flag means the order removed liquidity (NASDAQ flags `R`, `m`,
    /// `d`, `h`, `r`, `t`, `6`).
    pub fn removed(flag: u8) -> bool {
        matches!(flag, b'R' | b'm' | b'd' | b'h' | b'r' | b't' | b'6')
    }

    /// The fee for `shares` executed with `flag`.
    pub fn fee(&self, shares: u32, flag: u8) -> Money {
        let per = if Self::removed(flag) {
            self.taker_per_share
        } else {
            self.maker_per_share
        };
        i128::from(per.raw()) * i128::from(shares)
    }
}

/// OMS settings.
#[derive(Clone, Debug)]
pub struct OmsConfig {
    /// Token prefix (two characters of `[0-9A-Z]`).
    pub token_prefix: String,
    /// First order number (a live session passes [`TokenGen::wall_clock_floor`]; a backtest 1).
    pub first_order_number: u64,
    /// Orders tracked at once (open orders; done orders free their slot).
    pub max_orders: usize,
    /// Fills kept in the log before it grows.
    pub fill_capacity: usize,
    /// Fees.
    pub fees: Fees,
    /// Firm field of every order (blank: the port's default).
    pub firm: Firm,
    /// Symbols by instrument id.
    pub symbols: Vec<Stock>,
}

impl Default for OmsConfig {
    fn default() -> Self {
        Self {
            token_prefix: "KS".to_owned(),
            first_order_number: 1,
            max_orders: 4096,
            fill_capacity: 65_536,
            fees: Fees::default(),
            firm: Firm::BLANK,
            symbols: Vec::new(),
        }
    }
}

/// Why the OMS could not do something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OmsError {
    /// No free order slot.
    #[error("order table full ({0} orders open)")]
    Full(usize),
    /// Token issue failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The instrument has no symbol.
    #[error("instrument {0} has no symbol")]
    UnknownInstrument(u32),
    /// The price is not representable in OUCH (negative, finer than 1/10,000, too large).
    #[error("price {0} is not an OUCH price")]
    BadPrice(Price),
    /// The order is not open or does not exist.
    #[error("order {0} is not open")]
    NotOpen(u64),
    /// A cancel or replace is already in flight.
    #[error("order {0} already has a cancel or replace pending")]
    Pending(u64),
}

/// A new order to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Limit price (must be on the 1/10,000 grid).
    pub price: Price,
    /// Shares.
    pub shares: u32,
    /// Time in force (see [`ouch::tif`]).
    pub tif: u32,
    /// The intent behind it (0: none).
    pub intent_seq: u64,
    /// Parent slot, or [`NO_PARENT`].
    pub parent: u32,
    /// Market mid when decided (TCA).
    pub arrival_mid: Price,
}

/// Counters of what the OMS saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OmsStats {
    /// Orders created.
    pub orders: u64,
    /// Venue messages applied.
    pub messages: u64,
    /// Fills applied.
    pub fills: u64,
    /// Venue messages already applied (sequence at or below the last), skipped.
    pub duplicate_messages: u64,
    /// Sequence numbers skipped by the venue.
    pub sequence_gaps: u64,
    /// Executions repeated by match number, skipped.
    pub duplicate_fills: u64,
    /// Messages for one of our tokens with no open order: adopted (accepted) or applied from
    /// the token (fills), or ignored (late cancels).
    pub unknown_ours: u64,
    /// Fills applied for orders the OMS had no record of (positions reconciled from the token).
    pub reconciled_fills: u64,
    /// Messages whose token is not ours (not applied to positions).
    pub foreign_tokens: u64,
    /// Venue rejects.
    pub rejects: u64,
    /// Cancels confirmed.
    pub cancels: u64,
    /// Cancel rejects.
    pub cancel_rejects: u64,
    /// Replaces confirmed.
    pub replaces: u64,
    /// Trades broken.
    pub broken: u64,
    /// Rejects for orders already accepted (answers to stale resends), ignored.
    pub stale_rejects: u64,
}

/// The OMS.
#[derive(Debug)]
pub struct Oms {
    tokens: TokenGen,
    orders: Vec<Order>,
    free: Vec<u32>,
    by_number: IdMap,
    /// Open order slots per instrument and side (`instrument * 2 + side`).
    open: Vec<Vec<u32>>,
    /// Working shares per instrument and side.
    working: Vec<[u64; 2]>,
    positions: Vec<Position>,
    fills: FillLog,
    fees: Fees,
    firm: Firm,
    symbols: Vec<Stock>,
    last_seq: u64,
    stats: OmsStats,
    max_orders: usize,
    /// Done orders not yet swept (their reports may still be routed).
    done: Vec<u32>,
}

fn qty(shares: u64) -> Qty {
    Qty::from_raw(
        i64::try_from(shares)
            .unwrap_or(i64::MAX)
            .saturating_mul(100_000_000),
    )
}

impl Oms {
    /// An OMS for `cfg.symbols.len()` instruments.
    pub fn new(cfg: OmsConfig) -> Result<Self, OmsError> {
        let n = cfg.symbols.len();
        let per_side = cfg.max_orders.min(1024);
        Ok(Self {
            tokens: TokenGen::new(&cfg.token_prefix, cfg.first_order_number)?,
            orders: vec![Order::default(); cfg.max_orders],
            free: (0..cfg.max_orders as u32).rev().collect(),
            by_number: IdMap::with_capacity(cfg.max_orders * 2),
            open: (0..n * 2).map(|_| Vec::with_capacity(per_side)).collect(),
            working: vec![[0; 2]; n],
            positions: (0..n).map(|_| Position::new()).collect(),
            fills: FillLog::with_capacity(cfg.fill_capacity),
            fees: cfg.fees,
            firm: cfg.firm,
            symbols: cfg.symbols,
            last_seq: 0,
            stats: OmsStats::default(),
            max_orders: cfg.max_orders,
            done: Vec::with_capacity(cfg.max_orders),
        })
    }

    // ---- queries -------------------------------------------------------------------------

    /// Counters.
    pub fn stats(&self) -> OmsStats {
        self.stats
    }

    /// Number of instruments.
    pub fn instruments(&self) -> usize {
        self.symbols.len()
    }

    /// The symbol of an instrument.
    pub fn symbol(&self, instrument: InstrumentId) -> Option<&Stock> {
        self.symbols.get(instrument.index())
    }

    /// The instrument trading `stock`.
    pub fn instrument_of(&self, stock: &Stock) -> Option<InstrumentId> {
        self.symbols
            .iter()
            .position(|s| s == stock)
            .map(|i| InstrumentId(i as u32))
    }

    /// The token generator (next number, parsing).
    pub fn tokens(&self) -> &TokenGen {
        &self.tokens
    }

    /// The last venue sequence number applied (0: none).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The venue sequence number to log in at.
    pub fn next_seq(&self) -> u64 {
        self.last_seq + 1
    }

    /// An order by slot.
    pub fn order(&self, slot: u32) -> Option<&Order> {
        self.orders.get(slot as usize).filter(|o| o.id != 0)
    }

    /// The slot of the order whose token in force (or original token) has `number`.
    pub fn slot_of(&self, number: u64) -> Option<u32> {
        self.by_number.get(number)
    }

    /// Every open order.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> + '_ {
        self.open
            .iter()
            .flatten()
            .filter_map(|s| self.orders.get(*s as usize))
    }

    /// Collects the slots of open orders matching `f` into `out` (no allocation); returns how
    /// many were written and whether every match fitted.
    pub fn collect_open(
        &self,
        mut f: impl FnMut(&Order) -> bool,
        out: &mut [u32],
    ) -> (usize, bool) {
        let mut n = 0;
        let mut all = true;
        for slot in self.open.iter().flatten() {
            if self.orders.get(*slot as usize).is_some_and(&mut f) {
                match out.get_mut(n) {
                    Some(o) => {
                        *o = *slot;
                        n += 1;
                    }
                    None => all = false,
                }
            }
        }
        (n, all)
    }

    /// Open order slots of one instrument and side.
    pub fn open_slots(&self, instrument: InstrumentId, side: Side) -> &[u32] {
        self.open
            .get(instrument.index() * 2 + side.index())
            .map_or(&[], Vec::as_slice)
    }

    /// Number of open orders.
    pub fn open_count(&self) -> usize {
        self.max_orders - self.free.len() - self.done.len()
    }

    /// Working shares on one instrument and side.
    pub fn working(&self, instrument: InstrumentId, side: Side) -> u64 {
        self.working
            .get(instrument.index())
            .map_or(0, |w| w[side.index()])
    }

    /// Net position in shares.
    pub fn position(&self, instrument: InstrumentId) -> i64 {
        self.positions
            .get(instrument.index())
            .map_or(0, Position::net)
    }

    /// A position snapshot.
    pub fn position_view(&self, instrument: InstrumentId) -> PositionView {
        self.positions
            .get(instrument.index())
            .map(Position::view)
            .unwrap_or_default()
    }

    /// Sets an instrument's mark price (unrealised P&L).
    #[inline]
    pub fn set_mark(&mut self, instrument: InstrumentId, mark: Price) {
        if let Some(p) = self.positions.get_mut(instrument.index()) {
            p.set_mark(mark);
        }
    }

    /// The best (most aggressive) price among our open orders on one side of an instrument
    /// that can still trade with an order sent now. An order with a full cancel already sent
    /// cannot: OUCH processes a port's messages in order, so the cancel reaches the book first.
    pub fn best_open_price(&self, instrument: InstrumentId, side: Side) -> Option<Price> {
        let prices = self
            .open_slots(instrument, side)
            .iter()
            .filter_map(|s| self.orders.get(*s as usize))
            .filter(|o| !(o.status == OrdStatus::PendingCancel && o.cancel_to == 0))
            .map(|o| o.price);
        match side {
            Side::Buy => prices.max(),
            Side::Sell => prices.min(),
        }
    }

    /// The fill log.
    pub fn fills(&self) -> &FillLog {
        &self.fills
    }

    /// Sum of every instrument's P&L views: (realised, unrealised, fees).
    pub fn totals(&self) -> (Money, Money, Money) {
        self.positions.iter().fold((0, 0, 0), |(r, u, f), p| {
            let v = p.view();
            (r + v.realised, u + v.unrealised, f + v.fees)
        })
    }

    // ---- sends ---------------------------------------------------------------------------

    /// Creates an order in `PendingNew` and returns its slot and the Enter Order to send. If
    /// the venue does not take the message, call [`Oms::send_failed`].
    pub fn new_order(
        &mut self,
        req: &NewOrder,
        now: Timestamp,
    ) -> Result<(u32, EnterOrder), OmsError> {
        if req.instrument.index() >= self.symbols.len() {
            return Err(OmsError::UnknownInstrument(req.instrument.0));
        }
        let price4 = Price4::from_price(req.price).ok_or(OmsError::BadPrice(req.price))?;
        let slot = *self.free.last().ok_or(OmsError::Full(self.max_orders))?;
        let (token, number) = self.tokens.issue(req.instrument, req.side)?;
        if !self.by_number.insert(number, slot) {
            return Err(OmsError::Full(self.max_orders));
        }
        self.free.pop();
        self.orders[slot as usize] = Order {
            id: number,
            number,
            intent_seq: req.intent_seq,
            parent: req.parent,
            instrument: req.instrument,
            side: req.side,
            status: OrdStatus::PendingNew,
            prior: OrdStatus::PendingNew,
            price: req.price,
            shares: req.shares,
            filled: 0,
            leaves: req.shares,
            tif: req.tif,
            order_ref: 0,
            sent_at: now,
            arrival_mid: req.arrival_mid,
            replace: None,
            acked: false,
            cancel_to: 0,
        };
        self.open_insert(req.instrument, req.side, slot);
        self.working_add(req.instrument, req.side, i64::from(req.shares));
        self.stats.orders += 1;
        let enter = self
            .enter_message(slot)
            .ok_or(OmsError::BadPrice(req.price))?;
        debug_assert_eq!(enter.token, token);
        debug_assert_eq!(enter.price, price4);
        Ok((slot, enter))
    }

    /// The Enter Order for an open order as it was first sent (to send it again: OUCH ignores
    /// an Enter Order whose token it has seen, so a resend after a reconnect is safe).
    pub fn enter_message(&self, slot: u32) -> Option<EnterOrder> {
        let o = self.orders.get(slot as usize).filter(|o| o.id != 0)?;
        Some(EnterOrder {
            token: self.tokens.make(o.id, o.instrument, o.side),
            side: BuySell::from_side(o.side),
            shares: o.shares,
            stock: *self.symbols.get(o.instrument.index())?,
            price: Price4::from_price(o.price)?,
            time_in_force: o.tif,
            firm: self.firm,
            display: ouch::display::ANONYMOUS,
            capacity: ouch::capacity::PRINCIPAL,
            iso: IsoEligibility::NotEligible,
            min_qty: 0,
            cross_type: ouch::cross_type::NO_CROSS,
            customer_type: ouch::customer_type::PORT_DEFAULT,
        })
    }

    /// The venue did not take the Enter Order for `slot`: the order never existed.
    pub fn send_failed(&mut self, slot: u32) {
        if let Some(o) = self.orders.get(slot as usize).copied()
            && o.id != 0
            && o.status == OrdStatus::PendingNew
        {
            self.working_add(o.instrument, o.side, -i64::from(o.leaves));
            self.retire_with(slot, OrdStatus::Rejected);
        }
    }

    /// Moves an open order to `PendingCancel` and returns the Cancel Order to send (reducing
    /// it to `remaining` shares; 0 cancels it).
    pub fn cancel(&mut self, slot: u32, remaining: u32) -> Result<CancelOrder, OmsError> {
        let o = self
            .orders
            .get_mut(slot as usize)
            .filter(|o| o.id != 0 && o.is_open())
            .ok_or(OmsError::NotOpen(u64::from(slot)))?;
        if matches!(
            o.status,
            OrdStatus::PendingCancel | OrdStatus::PendingReplace
        ) {
            return Err(OmsError::Pending(o.id));
        }
        o.prior = o.status;
        o.status = OrdStatus::PendingCancel;
        o.cancel_to = remaining;
        Ok(CancelOrder {
            token: self.tokens.make(o.number, o.instrument, o.side),
            shares: remaining,
        })
    }

    /// A cancel the venue did not take: the order goes back to where it was.
    pub fn cancel_failed(&mut self, slot: u32) {
        if let Some(o) = self.orders.get_mut(slot as usize)
            && o.status == OrdStatus::PendingCancel
        {
            o.status = o.prior;
        }
    }

    /// Moves an open order to `PendingReplace` and returns the Replace Order to send.
    pub fn replace(
        &mut self,
        slot: u32,
        price: Price,
        shares: u32,
    ) -> Result<ReplaceOrder, OmsError> {
        let price4 = Price4::from_price(price).ok_or(OmsError::BadPrice(price))?;
        let o = *self
            .orders
            .get(slot as usize)
            .filter(|o| o.id != 0 && o.is_open())
            .ok_or(OmsError::NotOpen(u64::from(slot)))?;
        if matches!(
            o.status,
            OrdStatus::PendingCancel | OrdStatus::PendingReplace | OrdStatus::PendingNew
        ) {
            return Err(OmsError::Pending(o.id));
        }
        let (token, number) = self.tokens.issue(o.instrument, o.side)?;
        if !self.by_number.insert(number, slot) {
            return Err(OmsError::Full(self.max_orders));
        }
        let existing = self.tokens.make(o.number, o.instrument, o.side);
        let ord = &mut self.orders[slot as usize];
        ord.prior = ord.status;
        ord.status = OrdStatus::PendingReplace;
        ord.replace = Some(PendingReplace {
            number,
            price,
            shares,
        });
        Ok(ReplaceOrder {
            existing_token: existing,
            replacement_token: token,
            shares,
            price: price4,
            time_in_force: o.tif,
            display: ouch::display::ANONYMOUS,
            iso: IsoEligibility::NotEligible,
            min_qty: 0,
        })
    }

    /// A replace the venue did not take.
    pub fn replace_failed(&mut self, slot: u32) {
        if let Some(o) = self.orders.get_mut(slot as usize)
            && o.status == OrdStatus::PendingReplace
        {
            if let Some(r) = o.replace.take() {
                self.by_number.remove(r.number);
            }
            o.status = o.prior;
        }
    }

    /// Ends an open order in `status`, releasing its leaves (reported as Done).
    fn finish<E: Emit<ExecReport>>(
        &mut self,
        slot: u32,
        status: OrdStatus,
        reason: u8,
        vt: Timestamp,
        now: Timestamp,
        out: &mut E,
    ) {
        let o = self.orders[slot as usize];
        if o.leaves > 0 {
            self.working_add(o.instrument, o.side, -i64::from(o.leaves));
            out.emit(Self::report(
                &o,
                ExecKind::Done,
                u64::from(o.leaves),
                o.price,
                reason,
                vt,
                now,
            ));
            self.orders[slot as usize].leaves = 0;
        }
        self.retire_with(slot, status);
    }

    fn retire_with(&mut self, slot: u32, status: OrdStatus) {
        self.orders[slot as usize].status = status;
        self.retire(slot);
    }

    /// Takes a done order off the open lists; its slot and token mappings stay until
    /// [`Oms::sweep`], so the reports it just produced can still be routed.
    fn retire(&mut self, slot: u32) {
        let o = self.orders[slot as usize];
        if let Some(list) = self.open.get_mut(o.instrument.index() * 2 + o.side.index())
            && let Some(i) = list.iter().position(|s| *s == slot)
        {
            list.swap_remove(i);
        }
        if !self.done.contains(&slot) {
            self.done.push(slot);
        }
    }

    /// Frees the slots and token mappings of every done order.
    pub fn sweep(&mut self) {
        while let Some(slot) = self.done.pop() {
            let o = self.orders[slot as usize];
            self.by_number.remove(o.number);
            self.by_number.remove(o.id);
            if let Some(r) = o.replace {
                self.by_number.remove(r.number);
            }
            self.orders[slot as usize] = Order::default();
            self.free.push(slot);
        }
    }

    fn open_insert(&mut self, instrument: InstrumentId, side: Side, slot: u32) {
        if let Some(list) = self.open.get_mut(instrument.index() * 2 + side.index()) {
            list.push(slot);
        }
    }

    fn working_add(&mut self, instrument: InstrumentId, side: Side, delta: i64) {
        if let Some(w) = self.working.get_mut(instrument.index()) {
            let v = &mut w[side.index()];
            *v = v.saturating_add_signed(delta);
        }
    }

    /// Restores the sequence position and token floor (journal rebuild).
    pub fn restore_cursor(&mut self, last_seq: u64, last_order_number: u64) {
        self.last_seq = self.last_seq.max(last_seq);
        self.tokens.skip_past(last_order_number);
    }

    /// Every instrument's position snapshot, in instrument order.
    pub fn positions(&self) -> impl Iterator<Item = PositionView> + '_ {
        self.positions.iter().map(Position::view)
    }
}
