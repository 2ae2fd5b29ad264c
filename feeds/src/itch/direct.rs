//! ITCH straight into the books: the order messages (`A`, `F`, `E`, `C`, `X`, `D`, `U`) are
//! read from their bytes and applied through [`L3Books`]' direct entry points
//! (`add_order`, `execute_order`, ...), without building a [`Message`](super::Message), a
//! [`MarketEvent`] for the book to dispatch on again, or a full [`Applied`]. Every other
//! message goes the ordinary way (decode -> [`ItchNormalizer::normalize`] ->
//! [`L3Books::apply`]).
//!
//! The result is exactly what the ordinary path gives: the same books, the same book and
//! normaliser counters, and (through [`DirectApply::outcome`]) the same event and outcome for
//! every message, errors included. `feeds/tests/itch_direct_apply.rs` checks this over random
//! ITCH streams. The feed handler ([`FeedHandler`](crate::handler::FeedHandler)) uses this path.

use std::hint::select_unpredictable;

use kestrel_core::book::{Applied, BookError, L3Books, Touched};
use kestrel_core::{
    BookEventKind, InstrumentId, MARKET_WIDE, MarketEvent, OrderId, Side, Timestamp, TradePrint,
};

use super::decode;
use super::error::ItchError;
use super::messages::{
    AddOrder, AddOrderMpid, OrderCancel, OrderDelete, OrderExecuted, OrderExecutedWithPrice,
    OrderReplace, side_from_code, side_index,
};
use super::msg_type::MessageType;
use super::normalize::{ItchNormalizer, price4, qty32};

/// What [`ItchNormalizer::apply_direct`] did with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectApply<'a> {
    /// An order message, applied through the book's direct entry points. `message` is the
    /// message with its instrument (its event, [`OrderMessage::event`], is built only on
    /// demand); `result` what the book did.
    Order {
        /// The message applied.
        message: OrderMessage<'a>,
        /// What the book did.
        result: Result<Touched, BookError>,
    },
    /// Any other book message (trades, breaks, halts, statuses), normalised and applied
    /// through [`L3Books::apply`].
    Event {
        /// The normalised event.
        event: MarketEvent,
        /// What the book did.
        outcome: Result<Applied, BookError>,
    },
    /// No book event: a message that concerns no book (`S`, `R`, ...), one outside the
    /// symbol filter, or malformed content (counted in the normaliser's stats).
    Nothing,
    /// The bytes did not decode (not counted here: the caller counts its decode errors).
    DecodeError(ItchError),
}

impl DirectApply<'_> {
    /// The event and outcome, exactly as decode -> normalise -> [`L3Books::apply`] gives
    /// them; `None` when there was no book event.
    #[inline]
    pub fn outcome(self) -> Option<(MarketEvent, Result<Applied, BookError>)> {
        match self {
            Self::Order { message, result } => {
                let event = message.event();
                Some((
                    event,
                    result.map(|t| t.into_applied(event.instrument, &event.kind)),
                ))
            }
            Self::Event { event, outcome } => Some((event, outcome)),
            Self::Nothing | Self::DecodeError(_) => None,
        }
    }
}

impl ItchNormalizer {
    /// Decodes one message (`bytes`, exactly one ITCH message) and applies it to `books`,
    /// adding a book when the message names a new instrument (as the feed handler does: a
    /// market-wide circuit breaker gives every known instrument a book first). See the
    /// [module docs](self).
    #[inline(always)]
    pub fn apply_direct<'a>(&mut self, bytes: &'a [u8], books: &mut L3Books) -> DirectApply<'a> {
        self.apply_direct_with(bytes, books, |d, _| d)
    }

    /// [`apply_direct`](Self::apply_direct), handing what it did to `on` (with the books, for
    /// a sink that reads them) instead of returning it. `on` is called once, inside the arm
    /// for the message type, so once inlined it sees each outcome's variant and fields as
    /// plain values: what it does not read is never built, and nothing is written to memory
    /// to be matched on again (the feed handler's path: see `FeedHandler`).
    #[inline(always)]
    pub fn apply_direct_with<'a, R>(
        &mut self,
        bytes: &'a [u8],
        books: &mut L3Books,
        on: impl FnOnce(DirectApply<'a>, &L3Books) -> R,
    ) -> R {
        // The two commonest types (adds and deletes, about 90% of a stock's messages) are
        // tested with conditional branches before the jump table for the rest (`black_box`
        // keeps LLVM from folding the tests back into that table).
        let t = bytes.first().copied();
        if t == Some(AddOrder::TYPE)
            && let Ok(m) = AddOrder::new(bytes)
        {
            let head = Head::new(MessageType::AddOrder, m.stock_locate());
            let add = AddFields {
                order_ref: m.order_ref(),
                side: m.side_code(),
                shares: m.shares(),
                price: m.price(),
            };
            return self.direct_add(head, add, bytes, books, on);
        } else if t == Some(OrderDelete::TYPE)
            && let Ok(m) = OrderDelete::new(bytes)
        {
            let head = Head::new(MessageType::OrderDelete, m.stock_locate());
            let order_id = OrderId(m.order_ref());
            self.count_message(head.msg_type);
            let Some(i) = self.resolved(head.locate, books) else {
                return on(DirectApply::Nothing, books);
            };
            let result = books.delete_order(i, order_id);
            return on(
                DirectApply::order(i, OrderDelete::TYPE, bytes, result),
                books,
            );
        }
        match core::hint::black_box(t).as_ref() {
            Some(&AddOrderMpid::TYPE) => {
                if let Ok(m) = AddOrderMpid::new(bytes) {
                    let t = MessageType::AddOrderMpid;
                    let head = Head::new(t, m.stock_locate());
                    let add = AddFields {
                        order_ref: m.order_ref(),
                        side: m.side_code(),
                        shares: m.shares(),
                        price: m.price(),
                    };
                    return self.direct_add(head, add, bytes, books, on);
                }
            }
            Some(&OrderExecuted::TYPE) => {
                if let Ok(m) = OrderExecuted::new(bytes) {
                    let t = MessageType::OrderExecuted;
                    let head = Head::new(t, m.stock_locate());
                    let (order_id, qty) = (OrderId(m.order_ref()), qty32(m.executed_shares()));
                    self.count_message(head.msg_type);
                    let Some(i) = self.resolved(head.locate, books) else {
                        return on(DirectApply::Nothing, books);
                    };
                    let result = books.execute_order(i, order_id, qty);
                    return on(
                        DirectApply::order(i, OrderExecuted::TYPE, bytes, result),
                        books,
                    );
                }
            }
            Some(&OrderExecutedWithPrice::TYPE) => {
                if let Ok(m) = OrderExecutedWithPrice::new(bytes) {
                    let t = MessageType::OrderExecutedWithPrice;
                    let head = Head::new(t, m.stock_locate());
                    return self.execute_at_price(head, m, bytes, books, on);
                }
            }
            Some(&OrderCancel::TYPE) => {
                if let Ok(m) = OrderCancel::new(bytes) {
                    let t = MessageType::OrderCancel;
                    let head = Head::new(t, m.stock_locate());
                    let (order_id, qty) = (OrderId(m.order_ref()), qty32(m.cancelled_shares()));
                    self.count_message(head.msg_type);
                    let Some(i) = self.resolved(head.locate, books) else {
                        return on(DirectApply::Nothing, books);
                    };
                    let result = books.cancel_order(i, order_id, qty);
                    return on(
                        DirectApply::order(i, OrderCancel::TYPE, bytes, result),
                        books,
                    );
                }
            }
            Some(&OrderReplace::TYPE) => {
                if let Ok(m) = OrderReplace::new(bytes) {
                    let t = MessageType::OrderReplace;
                    let head = Head::new(t, m.stock_locate());
                    let (old, new) = (OrderId(m.original_order_ref()), OrderId(m.new_order_ref()));
                    let (price, qty) = (price4(m.price()), qty32(m.shares()));
                    self.count_message(head.msg_type);
                    let Some(i) = self.resolved(head.locate, books) else {
                        return on(DirectApply::Nothing, books);
                    };
                    let result = books.replace_order(i, old, new, price, qty);
                    return on(
                        DirectApply::order(i, OrderReplace::TYPE, bytes, result),
                        books,
                    );
                }
            }
            _ => {}
        }
        let d = self.apply_decoded(bytes, books);
        on(d, books)
    }

    /// Everything but the order messages (and short order messages, whose decode error this
    /// reports): the ordinary path.
    #[inline(never)]
    fn apply_decoded(&mut self, bytes: &[u8], books: &mut L3Books) -> DirectApply<'static> {
        let msg = match decode(bytes) {
            Ok(m) => m,
            Err(e) => return DirectApply::DecodeError(e),
        };
        let Some(event) = self.normalize(&msg) else {
            return DirectApply::Nothing;
        };
        if event.instrument == MARKET_WIDE {
            // Every instrument known so far gets a book, so that the circuit breaker reaches
            // each one (a rare event: allocation allowed).
            if let Some(last) = self.instruments().len().checked_sub(1) {
                books.ensure_instrument(InstrumentId(u32::try_from(last).unwrap_or(u32::MAX - 2)));
            }
        } else if event.instrument.index() >= books.instruments() {
            books.ensure_instrument(event.instrument);
        }
        let outcome = books.apply(&event);
        DirectApply::Event { event, outcome }
    }

    /// `A`/`F`: a bad side byte is counted and dropped before the locate is resolved, as
    /// [`normalize`](Self::normalize) does.
    #[inline(always)]
    fn direct_add<'a, R>(
        &mut self,
        head: Head,
        add: AddFields,
        bytes: &'a [u8],
        books: &mut L3Books,
        on: impl FnOnce(DirectApply<'a>, &L3Books) -> R,
    ) -> R {
        self.count_message(head.msg_type);
        // Branch-free on the side itself (buy or sell is a coin toss the predictor cannot
        // learn); the one branch left, a bad side byte, is almost never taken.
        // (`select_unpredictable`: LLVM would turn a plain select back into a branch.)
        let Some(index) = side_index(add.side) else {
            self.count_bad_side();
            return on(DirectApply::Nothing, books);
        };
        let side = select_unpredictable(index != 0, Side::Sell, Side::Buy);
        debug_assert_eq!(side_from_code(add.side), Some(side));
        let (order_id, price, qty) = (OrderId(add.order_ref), price4(add.price), qty32(add.shares));
        let Some(i) = self.resolved(head.locate, books) else {
            return on(DirectApply::Nothing, books);
        };
        let result = books.add_order(i, order_id, side, price, qty);
        on(DirectApply::order(i, head.tag, bytes, result), books)
    }

    /// `C`: printable (`Y`, or an unknown flag, counted) or not (`N`, counted).
    #[inline(always)]
    fn execute_at_price<'a, R>(
        &mut self,
        head: Head,
        m: OrderExecutedWithPrice<'_>,
        bytes: &'a [u8],
        books: &mut L3Books,
        on: impl FnOnce(DirectApply<'a>, &L3Books) -> R,
    ) -> R {
        self.count_message(head.msg_type);
        let (order_id, qty) = (OrderId(m.order_ref()), qty32(m.executed_shares()));
        let printable = self.count_printable(m.printable());
        let Some(i) = self.resolved(head.locate, books) else {
            return on(DirectApply::Nothing, books);
        };
        let result = if printable {
            books.execute_order(i, order_id, qty)
        } else {
            books.execute_order_non_printable(i, order_id, qty)
        };
        let t = OrderExecutedWithPrice::TYPE;
        on(DirectApply::order(i, t, bytes, result), books)
    }

    /// Resolves the locate (`None`: filtered, or no instrument could be made) and adds a
    /// book for a new instrument.
    #[inline(always)]
    fn resolved(&mut self, locate: u16, books: &mut L3Books) -> Option<InstrumentId> {
        let instrument = self.resolve_event(locate)?;
        if instrument.index() >= books.instruments() {
            books.ensure_instrument(instrument);
        }
        Some(instrument)
    }
}

impl<'a> DirectApply<'a> {
    /// An order message (`bytes`, accepted by the view of type `tag`) applied to
    /// `instrument`. The header's timestamp is read here, inlined into the arm whose view
    /// checked the length (so the read carries no bounds check), not by the sink, which no
    /// longer knows that length.
    #[inline(always)]
    fn order(
        instrument: InstrumentId,
        tag: u8,
        bytes: &'a [u8],
        result: Result<Touched, BookError>,
    ) -> Self {
        debug_assert_eq!(bytes.first(), Some(&tag));
        Self::Order {
            message: OrderMessage {
                instrument,
                tag,
                exch_ts: header_ts(bytes),
                bytes,
            },
            result,
        }
    }
}

/// The header's timestamp (nanoseconds since midnight) of a message of at least a header's
/// length: type (1), locate (2), tracking (2), timestamp (6 bytes, big-endian): one 8-byte
/// load from the tracking number on, its low 48 bits.
#[inline(always)]
fn header_ts(bytes: &[u8]) -> Timestamp {
    let ts = bytes
        .first_chunk::<11>()
        .map_or(0, |&[_, _, _, ref from_tracking @ ..]| {
            u64::from_be_bytes(*from_tracking)
        });
    Timestamp(ts & ((1 << 48) - 1))
}

/// One order message (`A F E C X D U`) the books applied through their direct entry points,
/// with the instrument it resolved to: what a sink needs of it. The type byte and the time
/// are read when the message is applied (where its view has checked the length, so those reads
/// carry no bounds check); the rest is read from the bytes when asked. [`event`](Self::event) gives the whole [`MarketEvent`] (exactly the
/// normaliser's); a sink that reads only a few fields (the feed stage's: the time, whether
/// it is a replace, the print) reads those alone, and nothing else is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderMessage<'a> {
    instrument: InstrumentId,
    /// The type byte (`bytes[0]`).
    tag: u8,
    /// The header's timestamp, read when the message was applied.
    exch_ts: Timestamp,
    /// The message: one order message that its type's view accepted (`apply_direct`
    /// makes an `OrderMessage` for no other bytes).
    bytes: &'a [u8],
}

impl<'a> OrderMessage<'a> {
    /// The instrument the message's locate resolved to.
    #[inline(always)]
    pub fn instrument(&self) -> InstrumentId {
        self.instrument
    }

    /// The message's bytes (exactly one ITCH order message).
    #[inline(always)]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The exchange timestamp (the header's nanoseconds since midnight), as in the event.
    #[inline(always)]
    pub fn exch_ts(&self) -> Timestamp {
        self.exch_ts
    }

    /// Whether the message is an order replace (`U`): its event is a
    /// [`BookEventKind::Replace`].
    #[inline(always)]
    pub fn is_replace(&self) -> bool {
        self.tag == OrderReplace::TYPE
    }

    /// The trade print the book's outcome reports for this message ([`Touched::trade`] of
    /// its event's kind): a printable execution's (`E`, or `C` not marked `N`), `None` for
    /// every other message.
    #[inline(always)]
    pub fn trade(&self, touched: &Touched) -> Option<TradePrint> {
        match self.tag {
            OrderExecuted::TYPE | OrderExecutedWithPrice::TYPE => touched.trade(&self.kind()),
            _ => None,
        }
    }

    /// The event the normaliser makes of the message.
    #[inline]
    pub fn event(&self) -> MarketEvent {
        MarketEvent {
            instrument: self.instrument,
            exch_ts: self.exch_ts(),
            kind: self.kind(),
        }
    }

    /// The event's kind, from the bytes (the fields as the normaliser converts them).
    #[inline(always)]
    fn kind(&self) -> BookEventKind {
        let b = self.bytes;
        match self.tag {
            AddOrder::TYPE => {
                if let Ok(m) = AddOrder::new(b) {
                    return add_kind(m.order_ref(), m.side_code(), m.shares(), m.price());
                }
            }
            AddOrderMpid::TYPE => {
                if let Ok(m) = AddOrderMpid::new(b) {
                    return add_kind(m.order_ref(), m.side_code(), m.shares(), m.price());
                }
            }
            OrderExecuted::TYPE => {
                if let Ok(m) = OrderExecuted::new(b) {
                    return BookEventKind::Execute {
                        order_id: OrderId(m.order_ref()),
                        qty: qty32(m.executed_shares()),
                        match_number: m.match_number(),
                    };
                }
            }
            OrderExecutedWithPrice::TYPE => {
                if let Ok(m) = OrderExecutedWithPrice::new(b) {
                    let (order_id, qty) = (OrderId(m.order_ref()), qty32(m.executed_shares()));
                    let (price, match_number) = (price4(m.execution_price()), m.match_number());
                    // As `count_printable`: `N` is not printable, `Y` or any other flag is.
                    return if m.printable() == b'N' {
                        BookEventKind::ExecuteNonPrintable {
                            order_id,
                            qty,
                            price,
                            match_number,
                        }
                    } else {
                        BookEventKind::ExecuteAtPrice {
                            order_id,
                            qty,
                            price,
                            match_number,
                        }
                    };
                }
            }
            OrderCancel::TYPE => {
                if let Ok(m) = OrderCancel::new(b) {
                    return BookEventKind::Cancel {
                        order_id: OrderId(m.order_ref()),
                        qty: qty32(m.cancelled_shares()),
                    };
                }
            }
            OrderDelete::TYPE => {
                if let Ok(m) = OrderDelete::new(b) {
                    return BookEventKind::Delete {
                        order_id: OrderId(m.order_ref()),
                    };
                }
            }
            OrderReplace::TYPE => {
                if let Ok(m) = OrderReplace::new(b) {
                    return BookEventKind::Replace {
                        old_order_id: OrderId(m.original_order_ref()),
                        new_order_id: OrderId(m.new_order_ref()),
                        price: price4(m.price()),
                        qty: qty32(m.shares()),
                    };
                }
            }
            _ => {}
        }
        // Not reached: an `OrderMessage` holds only bytes its type's view accepted.
        debug_assert!(false, "OrderMessage over bytes that are no order message");
        BookEventKind::Delete {
            order_id: OrderId(0),
        }
    }
}

/// The kind of an `A`/`F` (whose side byte `apply_direct` checked before applying it).
#[inline(always)]
fn add_kind(order_ref: u64, side: u8, shares: u32, price: u32) -> BookEventKind {
    debug_assert!(side_from_code(side).is_some());
    BookEventKind::Add {
        order_id: OrderId(order_ref),
        side: if side == b'S' { Side::Sell } else { Side::Buy },
        price: price4(price),
        qty: qty32(shares),
    }
}

/// The book fields of an `A` or `F` message, as on the wire.
#[derive(Clone, Copy)]
struct AddFields {
    order_ref: u64,
    side: u8,
    shares: u32,
    price: u32,
}

/// The common header fields of one order message that `apply_direct` reads.
#[derive(Clone, Copy)]
struct Head {
    msg_type: MessageType,
    /// The type byte (`msg_type`'s).
    tag: u8,
    locate: u16,
}

impl Head {
    #[inline(always)]
    fn new(msg_type: MessageType, locate: u16) -> Self {
        Self {
            msg_type,
            tag: msg_type.as_byte(),
            locate,
        }
    }
}
