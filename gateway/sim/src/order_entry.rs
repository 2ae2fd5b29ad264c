//! OUCH 4.2 order entry on top of the matching engine: tokens, validation, and the engine's
//! events turned into each participant's OUCH messages.
//!
//! - Tokens are day-unique per participant: an Enter Order whose token was used before is
//!   ignored (the OMS may resend a pending order after a reconnect), as is a cancel or replace
//!   naming a token that is not live, or a replace whose replacement token was used.
//! - Every participant fill is one Executed message on that participant's stream: liquidity
//!   flag `A` for a resting order, `R` for the order that took it, with the engine's match
//!   number. Self-match prevention answers with an AIQ Canceled message.

use std::collections::HashMap;

use kestrel_core::{InstrumentId, InstrumentTable, Qty, Timestamp};
use kestrel_gateway::ouch::{
    Accepted, AiqCanceled, BuySell, CancelOrder, Canceled, ClientMessage, EnterOrder, Executed,
    Firm, IsoEligibility, ModifyOrder, OrderModified, OrderState, Price4, Rejected, ReplaceOrder,
    Replaced, ServerMessage, Stock, Token, bbo_weight, cancel_reason, display, liquidity,
    reject_reason, tif,
};

use crate::matching::{
    CancelReason, MatchEvent, MatchSink, MatchingEngine, NewOrder, OrderHandle, Owner,
    RejectReason, TimeInForce,
};

/// Largest order OUCH allows (shares are below 1,000,000).
pub const MAX_SHARES: u32 = 999_999;

/// What the venue remembers about one participant order (indexed by its engine tag).
#[derive(Clone, Copy, Debug)]
struct OrderInfo {
    participant: u32,
    token: Token,
    stock: Stock,
    side: BuySell,
    time_in_force: u32,
    firm: Firm,
    display: u8,
    capacity: u8,
    iso: IsoEligibility,
    min_qty: u32,
    cross_type: u8,
    handle: OrderHandle,
    live: bool,
}

/// A participant's token book.
#[derive(Debug, Default)]
struct TokenBook {
    /// Every token used today -> the tag of its order (`None`: the token was consumed by an
    /// order that never became live, e.g. a rejected one).
    tokens: HashMap<Token, Option<u64>>,
}

/// A participant fill, for reports (P&L, fill ratio, queue position at fill).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillRecord {
    /// Participant.
    pub participant: u32,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side of the participant's order.
    pub side: kestrel_core::Side,
    /// Price.
    pub price: kestrel_core::Price,
    /// Shares.
    pub qty: Qty,
    /// Whether the participant's order was resting (added liquidity).
    pub maker: bool,
    /// For a resting order: visible quantity ahead of it when it joined its level.
    pub queue_ahead: Qty,
    /// Whether the fill came from replayed flow (the queue model) rather than another
    /// participant's order or our own aggressive order.
    pub from_replayed_flow: bool,
    /// Match number.
    pub match_no: u64,
    /// Venue time.
    pub ts: Timestamp,
}

/// Counters of the order-entry layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderEntryStats {
    /// Client messages handled.
    pub messages: u64,
    /// Enter Orders ignored because their token was used before.
    pub duplicate_tokens: u64,
    /// Cancels, replaces and modifies naming no live order (ignored).
    pub unknown_tokens: u64,
    /// Orders rejected.
    pub rejected: u64,
    /// OUCH messages produced.
    pub outbound: u64,
    /// Shares of the orders accepted (entered and replaced-to).
    pub shares_accepted: u64,
}

/// Tokens, order details and the translation of engine events into OUCH messages.
#[derive(Debug)]
pub struct OrderEntry {
    symbols: HashMap<[u8; 8], InstrumentId>,
    stocks: Vec<Stock>,
    books: Vec<TokenBook>,
    orders: Vec<OrderInfo>,
    free: Vec<u64>,
    /// OUCH messages produced, in order, with the participant they go to.
    outbox: Vec<(u32, ServerMessage)>,
    fills: Vec<FillRecord>,
    /// The last self-match prevention (quantity, price) per participant, for the AIQ message.
    smp: HashMap<u32, (Qty, kestrel_core::Price)>,
    modifying: Option<u64>,
    stats: OrderEntryStats,
}

fn stock_of(symbol: &str) -> Stock {
    Stock::new(symbol).unwrap_or(Stock::BLANK)
}

impl OrderEntry {
    /// Order entry for `instruments` and `participants` logins.
    pub fn new(instruments: &InstrumentTable, participants: usize) -> Self {
        let stocks: Vec<Stock> = instruments.iter().map(|i| stock_of(&i.symbol)).collect();
        Self {
            symbols: instruments
                .iter()
                .map(|i| (stock_of(&i.symbol).0, i.id))
                .collect(),
            stocks,
            books: (0..participants).map(|_| TokenBook::default()).collect(),
            orders: Vec::with_capacity(4096),
            free: Vec::new(),
            outbox: Vec::with_capacity(256),
            fills: Vec::with_capacity(4096),
            smp: HashMap::new(),
            modifying: None,
            stats: OrderEntryStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> OrderEntryStats {
        self.stats
    }

    /// Every participant fill so far.
    pub fn fills(&self) -> &[FillRecord] {
        &self.fills
    }

    /// Takes the OUCH messages produced since the last call.
    pub fn drain_outbox(&mut self) -> std::vec::Drain<'_, (u32, ServerMessage)> {
        self.outbox.drain(..)
    }

    fn alloc(&mut self, info: OrderInfo) -> u64 {
        if let Some(tag) = self.free.pop() {
            self.orders[tag as usize] = info;
            return tag;
        }
        self.orders.push(info);
        (self.orders.len() - 1) as u64
    }

    fn release(&mut self, tag: u64) {
        if let Some(o) = self.orders.get_mut(tag as usize)
            && o.live
        {
            o.live = false;
            self.free.push(tag);
        }
    }

    fn live_tag(&self, participant: u32, token: &Token) -> Option<u64> {
        let tag = (*self.books.get(participant as usize)?.tokens.get(token)?)?;
        self.orders
            .get(tag as usize)
            .filter(|o| o.live && o.participant == participant)
            .map(|_| tag)
    }

    fn reject(&mut self, participant: u32, token: Token, reason: u8, ts: Timestamp) {
        self.stats.rejected += 1;
        self.push(
            participant,
            ServerMessage::Rejected(Rejected {
                timestamp: ts.nanos(),
                token,
                reason,
            }),
        );
    }

    fn push(&mut self, participant: u32, msg: ServerMessage) {
        self.stats.outbound += 1;
        self.outbox.push((participant, msg));
    }

    /// One client message from `participant`, applied to `engine` now.
    pub fn on_client<S: MatchSink + ?Sized>(
        &mut self,
        participant: u32,
        msg: &ClientMessage,
        ts: Timestamp,
        engine: &mut MatchingEngine,
        also: &mut S,
    ) {
        self.stats.messages += 1;
        if participant as usize >= self.books.len() {
            self.books
                .resize_with(participant as usize + 1, TokenBook::default);
        }
        match msg {
            ClientMessage::EnterOrder(m) => self.enter(participant, m, ts, engine, also),
            ClientMessage::CancelOrder(m) => self.cancel(participant, m, ts, engine, also),
            ClientMessage::ReplaceOrder(m) => self.replace(participant, m, ts, engine, also),
            ClientMessage::ModifyOrder(m) => self.modify(participant, m, ts, engine, also),
        }
    }

    fn enter<S: MatchSink + ?Sized>(
        &mut self,
        participant: u32,
        m: &EnterOrder,
        ts: Timestamp,
        engine: &mut MatchingEngine,
        also: &mut S,
    ) {
        let book = &mut self.books[participant as usize];
        if book.tokens.contains_key(&m.token) {
            self.stats.duplicate_tokens += 1;
            return;
        }
        book.tokens.insert(m.token, None);
        let instrument = self.symbols.get(&m.stock.0).copied();
        let reason = if instrument.is_none() {
            Some(reject_reason::INVALID_STOCK)
        } else if m.shares == 0 || m.shares > MAX_SHARES {
            Some(reject_reason::SHARES_EXCEED_THRESHOLD)
        } else if m.price.0 == 0 || m.price.0 > Price4::MAX_LIMIT.0 {
            Some(reject_reason::INVALID_PRICE)
        } else if !matches!(m.display, display::ANONYMOUS | display::ATTRIBUTABLE) {
            Some(reject_reason::INVALID_DISPLAY)
        } else if m.min_qty != 0 {
            Some(reject_reason::INVALID_MIN_QTY)
        } else {
            None
        };
        let (Some(instrument), None) = (instrument, reason) else {
            self.reject(
                participant,
                m.token,
                reason.unwrap_or(reject_reason::OTHER),
                ts,
            );
            return;
        };
        let tag = self.alloc(OrderInfo {
            participant,
            token: m.token,
            stock: m.stock,
            side: m.side,
            time_in_force: m.time_in_force,
            firm: m.firm,
            display: m.display,
            capacity: m.capacity,
            iso: m.iso,
            min_qty: m.min_qty,
            cross_type: m.cross_type,
            handle: OrderHandle::default(),
            live: true,
        });
        self.books[participant as usize]
            .tokens
            .insert(m.token, Some(tag));
        let order = NewOrder {
            instrument,
            side: m.side.side(),
            price: m.price.to_price(),
            qty: Qty::from_units(i64::from(m.shares)).unwrap_or(Qty::ZERO),
            tif: if m.time_in_force == tif::IOC {
                TimeInForce::Ioc
            } else {
                TimeInForce::Day
            },
            owner: Owner::Participant {
                id: participant,
                firm: participant,
            },
            tag,
        };
        engine.enter(&order, ts, &mut Router { entry: self, also });
    }

    fn cancel<S: MatchSink + ?Sized>(
        &mut self,
        participant: u32,
        m: &CancelOrder,
        ts: Timestamp,
        engine: &mut MatchingEngine,
        also: &mut S,
    ) {
        let Some(tag) = self.live_tag(participant, &m.token) else {
            self.stats.unknown_tokens += 1;
            return;
        };
        let handle = self.orders[tag as usize].handle;
        let to = Qty::from_units(i64::from(m.shares)).unwrap_or(Qty::ZERO);
        engine.cancel(
            handle,
            to,
            CancelReason::User,
            ts,
            &mut Router { entry: self, also },
        );
    }

    fn modify<S: MatchSink + ?Sized>(
        &mut self,
        participant: u32,
        m: &ModifyOrder,
        ts: Timestamp,
        engine: &mut MatchingEngine,
        also: &mut S,
    ) {
        let Some(tag) = self.live_tag(participant, &m.token) else {
            self.stats.unknown_tokens += 1;
            return;
        };
        let info = self.orders[tag as usize];
        // Only sell <-> sell short <-> sell short exempt changes are allowed; a buy stays a buy.
        let side_ok = (info.side == BuySell::Buy) == (m.side == BuySell::Buy);
        if !side_ok {
            self.stats.unknown_tokens += 1;
            return;
        }
        self.orders[tag as usize].side = m.side;
        let to = Qty::from_units(i64::from(m.shares)).unwrap_or(Qty::ZERO);
        self.modifying = Some(tag);
        let cut = engine.cancel(
            info.handle,
            to,
            CancelReason::User,
            ts,
            &mut Router { entry: self, also },
        );
        self.modifying = None;
        if !cut {
            let open = engine
                .order(info.handle)
                .map_or(0, |o| o.1.raw() / Qty::ONE.raw());
            self.push(
                participant,
                ServerMessage::OrderModified(OrderModified {
                    timestamp: ts.nanos(),
                    token: m.token,
                    side: m.side,
                    shares: u32::try_from(open).unwrap_or(0),
                }),
            );
        }
    }

    fn replace<S: MatchSink + ?Sized>(
        &mut self,
        participant: u32,
        m: &ReplaceOrder,
        ts: Timestamp,
        engine: &mut MatchingEngine,
        also: &mut S,
    ) {
        let Some(tag) = self.live_tag(participant, &m.existing_token) else {
            self.stats.unknown_tokens += 1;
            return;
        };
        if self.books[participant as usize]
            .tokens
            .contains_key(&m.replacement_token)
        {
            self.stats.duplicate_tokens += 1;
            return;
        }
        let info = self.orders[tag as usize];
        if m.shares > MAX_SHARES || m.price.0 == 0 || m.price.0 > Price4::MAX_LIMIT.0 {
            // Invalid replace details: the existing order is cancelled (OUCH 4.2, 3.2).
            engine.cancel(
                info.handle,
                Qty::ZERO,
                CancelReason::User,
                ts,
                &mut Router { entry: self, also },
            );
            return;
        }
        let new_tag = self.alloc(OrderInfo {
            token: m.replacement_token,
            time_in_force: m.time_in_force,
            display: m.display,
            iso: m.iso,
            min_qty: m.min_qty,
            ..info
        });
        self.books[participant as usize]
            .tokens
            .insert(m.replacement_token, Some(new_tag));
        let qty = Qty::from_units(i64::from(m.shares)).unwrap_or(Qty::ZERO);
        engine.replace(
            info.handle,
            new_tag,
            m.price.to_price(),
            qty,
            ts,
            &mut Router { entry: self, also },
        );
    }

    /// A replayed market event: it may fill participant orders (the queue model), whose
    /// Executed messages go on their streams.
    pub fn on_background<S: MatchSink + ?Sized>(
        &mut self,
        ev: &kestrel_core::MarketEvent,
        engine: &mut MatchingEngine,
        also: &mut S,
    ) {
        engine.apply_background(ev, &mut Router { entry: self, also });
    }

    /// Cancels every order of `participant` (cancel on disconnect): the Canceled messages go
    /// on its stream, to be read when it logs in again.
    pub fn cancel_all<S: MatchSink + ?Sized>(
        &mut self,
        participant: u32,
        reason: CancelReason,
        ts: Timestamp,
        engine: &mut MatchingEngine,
        also: &mut S,
    ) -> usize {
        engine.cancel_all(participant, reason, ts, &mut Router { entry: self, also })
    }

    /// The engine's events that are not about participant orders (background flow) still
    /// go to `also`; this translates those that are.
    fn translate(&mut self, ev: &MatchEvent) {
        let shares = |q: Qty| u32::try_from(q.raw() / Qty::ONE.raw()).unwrap_or(u32::MAX);
        match *ev {
            MatchEvent::Accepted {
                order,
                side,
                price,
                qty,
                ts,
                ..
            } => {
                let Owner::Participant { id, .. } = order.owner else {
                    return;
                };
                let Some(info) = self.orders.get_mut(order.tag as usize) else {
                    return;
                };
                info.handle = order.handle;
                let info = *info;
                self.stats.shares_accepted += u64::from(shares(qty));
                self.push(
                    id,
                    ServerMessage::Accepted(Accepted {
                        timestamp: ts.nanos(),
                        token: info.token,
                        side: BuySell::from_side(side).max_sell(info.side),
                        shares: shares(qty),
                        stock: info.stock,
                        price: Price4::from_price(price).unwrap_or(Price4(0)),
                        time_in_force: info.time_in_force,
                        firm: info.firm,
                        display: info.display,
                        order_ref: order.order_ref,
                        capacity: info.capacity,
                        iso: info.iso,
                        min_qty: info.min_qty,
                        cross_type: info.cross_type,
                        order_state: OrderState::Live,
                        bbo_weight: bbo_weight::UNSPECIFIED,
                    }),
                );
            }
            MatchEvent::Rejected {
                owner,
                tag,
                reason,
                ts,
            } => {
                let Owner::Participant { id, .. } = owner else {
                    return;
                };
                let token = self
                    .orders
                    .get(tag as usize)
                    .map_or(Token::BLANK, |o| o.token);
                let code = match reason {
                    RejectReason::Halted => reject_reason::HALTED,
                    RejectReason::UnknownInstrument => reject_reason::INVALID_STOCK,
                    RejectReason::InvalidQty => reject_reason::SHARES_EXCEED_THRESHOLD,
                    RejectReason::InvalidPrice => reject_reason::INVALID_PRICE,
                    RejectReason::Capacity => reject_reason::OTHER,
                };
                self.reject(id, token, code, ts);
                self.release(tag);
            }
            MatchEvent::Executed {
                instrument,
                resting,
                resting_side,
                aggressor,
                price,
                qty,
                resting_left,
                match_no,
                queue_ahead,
                ts,
                ..
            } => {
                if let Owner::Participant { id, .. } = resting.owner {
                    self.fills.push(FillRecord {
                        participant: id,
                        instrument,
                        side: resting_side,
                        price,
                        qty,
                        maker: true,
                        queue_ahead,
                        from_replayed_flow: aggressor.is_none_or(|a| !a.owner.is_participant()),
                        match_no,
                        ts,
                    });
                    self.executed(id, resting.tag, price, qty, liquidity::ADDED, match_no, ts);
                    if resting_left.raw() == 0 {
                        self.release(resting.tag);
                    }
                }
            }
            MatchEvent::Took {
                instrument,
                order,
                side,
                price,
                qty,
                left,
                match_no,
                ts,
            } => {
                if let Owner::Participant { id, .. } = order.owner {
                    self.fills.push(FillRecord {
                        participant: id,
                        instrument,
                        side,
                        price,
                        qty,
                        maker: false,
                        queue_ahead: Qty::ZERO,
                        from_replayed_flow: false,
                        match_no,
                        ts,
                    });
                    self.executed(id, order.tag, price, qty, liquidity::REMOVED, match_no, ts);
                    if left.raw() == 0 {
                        self.release(order.tag);
                    }
                }
            }
            MatchEvent::SelfMatchPrevented {
                order, qty, price, ..
            } => {
                if let Owner::Participant { id, .. } = order.owner {
                    self.smp.insert(id, (qty, price));
                }
            }
            MatchEvent::Reduced {
                order,
                cancelled,
                left,
                reason,
                ts,
                ..
            } => {
                let Owner::Participant { id, .. } = order.owner else {
                    return;
                };
                let Some(info) = self.orders.get(order.tag as usize).copied() else {
                    return;
                };
                if self.modifying == Some(order.tag) {
                    self.push(
                        id,
                        ServerMessage::OrderModified(OrderModified {
                            timestamp: ts.nanos(),
                            token: info.token,
                            side: info.side,
                            shares: shares(left),
                        }),
                    );
                } else if reason == CancelReason::SelfMatch {
                    let (prevented, price) = self.smp.get(&id).copied().unwrap_or_default();
                    self.push(
                        id,
                        ServerMessage::AiqCanceled(AiqCanceled {
                            timestamp: ts.nanos(),
                            token: info.token,
                            decrement_shares: shares(cancelled),
                            reason: cancel_reason::SELF_MATCH_PREVENTION,
                            quantity_prevented: shares(prevented),
                            execution_price: Price4::from_price(price).unwrap_or(Price4(0)),
                            liquidity_flag: liquidity::REMOVED,
                        }),
                    );
                } else {
                    let code = match reason {
                        CancelReason::User => cancel_reason::USER_REQUESTED,
                        CancelReason::Ioc => cancel_reason::IMMEDIATE_OR_CANCEL,
                        CancelReason::Expired => cancel_reason::TIMEOUT,
                        CancelReason::Disconnect | CancelReason::Supervisory => {
                            cancel_reason::SUPERVISORY
                        }
                        CancelReason::SelfMatch => cancel_reason::SELF_MATCH_PREVENTION,
                        CancelReason::Market => cancel_reason::SYSTEM,
                    };
                    self.push(
                        id,
                        ServerMessage::Canceled(Canceled {
                            timestamp: ts.nanos(),
                            token: info.token,
                            decrement_shares: shares(cancelled),
                            reason: code,
                        }),
                    );
                }
                if left.raw() == 0 {
                    self.release(order.tag);
                }
            }
            MatchEvent::Replaced {
                old,
                new,
                side,
                price,
                qty,
                ts,
                ..
            } => {
                let Owner::Participant { id, .. } = new.owner else {
                    return;
                };
                let (Some(prev), Some(info)) = (
                    self.orders.get(old.tag as usize).copied(),
                    self.orders.get_mut(new.tag as usize),
                ) else {
                    return;
                };
                info.handle = new.handle;
                let info = *info;
                self.push(
                    id,
                    ServerMessage::Replaced(Replaced {
                        timestamp: ts.nanos(),
                        token: info.token,
                        side: BuySell::from_side(side).max_sell(info.side),
                        shares: shares(qty),
                        stock: info.stock,
                        price: Price4::from_price(price).unwrap_or(Price4(0)),
                        time_in_force: info.time_in_force,
                        firm: info.firm,
                        display: info.display,
                        order_ref: new.order_ref,
                        capacity: info.capacity,
                        iso: info.iso,
                        min_qty: info.min_qty,
                        cross_type: info.cross_type,
                        order_state: OrderState::Live,
                        previous_token: prev.token,
                        bbo_weight: bbo_weight::UNSPECIFIED,
                    }),
                );
                if old.tag != new.tag {
                    self.release(old.tag);
                }
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn executed(
        &mut self,
        participant: u32,
        tag: u64,
        price: kestrel_core::Price,
        qty: Qty,
        flag: u8,
        match_no: u64,
        ts: Timestamp,
    ) {
        let Some(info) = self.orders.get(tag as usize).copied() else {
            return;
        };
        self.push(
            participant,
            ServerMessage::Executed(Executed {
                timestamp: ts.nanos(),
                token: info.token,
                executed_shares: u32::try_from(qty.raw() / Qty::ONE.raw()).unwrap_or(0),
                execution_price: Price4::from_price(price).unwrap_or(Price4(0)),
                liquidity_flag: flag,
                match_number: match_no,
            }),
        );
    }

    /// The stock of an instrument.
    pub fn stock(&self, instrument: InstrumentId) -> Option<Stock> {
        self.stocks.get(instrument.index()).copied()
    }
}

/// Sends each engine event to the OUCH translation and to `also` (the ITCH publisher, stats).
struct Router<'a, S: ?Sized> {
    entry: &'a mut OrderEntry,
    also: &'a mut S,
}

impl<S: MatchSink + ?Sized> MatchSink for Router<'_, S> {
    fn on_event(&mut self, event: &MatchEvent) {
        self.entry.translate(event);
        self.also.on_event(event);
    }
}

/// The side to report: a sell order keeps its own sell code (short, exempt).
trait SellCode {
    fn max_sell(self, entered: BuySell) -> BuySell;
}

impl SellCode for BuySell {
    fn max_sell(self, entered: BuySell) -> BuySell {
        if self == BuySell::Buy { self } else { entered }
    }
}
