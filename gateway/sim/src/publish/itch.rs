//! The engine's events as the NASDAQ TotalView-ITCH 5.0 feed shows them.
//!
//! Every order resting on the book is visible with the venue's order reference number
//! (participant orders included, anonymously, as the real feed shows them): a booking is an
//! `A`, an execution of a resting order an `E` (a `C` when the recording executed at another
//! price), a cancel an `X` or a `D`, a replace that rests whole a `U`, a trade against hidden
//! liquidity a `P`, a status change an `H`. An incoming order that trades at once never
//! appears itself, only the executions of the orders it hit. Match numbers are the engine's.
//!
//! Messages wait in a FIFO until the market-data latency has passed, then go to the
//! [`MoldOut`].

use std::collections::VecDeque;

use kestrel_core::{InstrumentTable, Qty, Timestamp, TradingStatus};
use kestrel_feeds::itch::{
    AddOrderMsg, EncodeError, OrderCancelMsg, OrderDeleteMsg, OrderExecutedMsg,
    OrderExecutedWithPriceMsg, OrderReplaceMsg, StockDirectoryMsg, StockTradingActionMsg,
    SystemEventMsg, TradeMsg, price4, shares, side_code, stock_field, trading_state_code,
};
use kestrel_feeds::itch::{CrossTradeMsg, encode::DEFAULT_CROSS_TYPE};

use super::mold::{MoldOut, PacketSink};
use crate::latency::{LatencyModel, Stream};
use crate::matching::MatchEvent;

/// Longest ITCH message written here (`R`, 39 bytes).
const MAX_MSG: usize = 48;

#[derive(Clone, Copy, Debug)]
struct Pending {
    due: u64,
    len: u8,
    bytes: [u8; MAX_MSG],
}

/// Encodes engine events as ITCH and publishes them after the market-data delay.
#[derive(Debug)]
pub struct ItchPublisher {
    stocks: Vec<[u8; 8]>,
    pending: VecDeque<Pending>,
    encode_errors: u64,
}

/// The stock locate code of an instrument: its dense id + 1 (0 is not a valid locate).
pub const fn locate_of(instrument: u32) -> u16 {
    (instrument as u16).wrapping_add(1)
}

impl ItchPublisher {
    /// A publisher for `instruments` (locate = dense id + 1).
    pub fn new(instruments: &InstrumentTable) -> Self {
        Self {
            stocks: instruments
                .iter()
                .map(|i| stock_field(&i.symbol).unwrap_or([b' '; 8]))
                .collect(),
            pending: VecDeque::with_capacity(4096),
            encode_errors: 0,
        }
    }

    /// Events that could not be encoded (a price or size ITCH cannot carry).
    pub fn encode_errors(&self) -> u64 {
        self.encode_errors
    }

    /// Messages waiting for their market-data delay.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The due time of the oldest waiting message.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.pending.front().map(|p| Timestamp(p.due))
    }

    fn queue(&mut self, due: u64, f: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>) {
        let mut p = Pending {
            due,
            len: 0,
            bytes: [0; MAX_MSG],
        };
        match f(&mut p.bytes) {
            Ok(n) => {
                p.len = n as u8;
                self.pending.push_back(p);
            }
            Err(_) => self.encode_errors += 1,
        }
    }

    /// The start of the day: system event `O` (start of messages), a stock directory `R` for
    /// every instrument, system events `S` and `Q` (system and market hours). Published now.
    pub fn start_of_day(&mut self, ts: Timestamp) {
        let t = ts.nanos();
        self.queue(t, |b| {
            SystemEventMsg {
                timestamp: t,
                event_code: b'O',
                ..SystemEventMsg::default()
            }
            .encode(b)
        });
        for (i, stock) in self.stocks.clone().into_iter().enumerate() {
            self.queue(t, |b| {
                StockDirectoryMsg {
                    stock_locate: locate_of(i as u32),
                    timestamp: t,
                    stock,
                    market_category: b'Q',
                    financial_status_indicator: b'N',
                    round_lot_size: 100,
                    round_lots_only: b'N',
                    issue_classification: b'C',
                    issue_sub_type: *b"Z ",
                    authenticity: b'P',
                    short_sale_threshold_indicator: b'N',
                    ipo_flag: b'N',
                    luld_reference_price_tier: b'1',
                    etp_flag: b'N',
                    inverse_indicator: b'N',
                    ..StockDirectoryMsg::default()
                }
                .encode(b)
            });
        }
        for code in [b'S', b'Q'] {
            self.queue(t, |b| {
                SystemEventMsg {
                    timestamp: t,
                    event_code: code,
                    ..SystemEventMsg::default()
                }
                .encode(b)
            });
        }
    }

    /// The end of the day: system events `M`, `E` and `C`.
    pub fn end_of_day(&mut self, ts: Timestamp) {
        let t = ts.nanos();
        for code in [b'M', b'E', b'C'] {
            self.queue(t, |b| {
                SystemEventMsg {
                    timestamp: t,
                    event_code: code,
                    ..SystemEventMsg::default()
                }
                .encode(b)
            });
        }
    }

    /// One engine event, published after the market-data delay drawn from `latency`.
    pub fn on_event(&mut self, ev: &MatchEvent, latency: &mut LatencyModel) {
        let q32 = |q: Qty| shares::<u32>(q);
        match *ev {
            MatchEvent::Booked {
                order,
                instrument,
                side,
                price,
                qty,
                ts,
                ..
            } => {
                let stock = self.stock(instrument.0);
                let due = latency.due(Stream::MarketData, ts).nanos();
                self.queue(due, |b| {
                    AddOrderMsg {
                        stock_locate: locate_of(instrument.0),
                        tracking_number: 0,
                        timestamp: ts.nanos(),
                        order_ref: order.order_ref,
                        side_code: side_code(side),
                        shares: q32(qty)?,
                        stock,
                        price: price4(price)?,
                    }
                    .encode(b)
                });
            }
            MatchEvent::Executed {
                instrument,
                resting,
                price,
                qty,
                match_no,
                ts,
                resting_price,
                ..
            } => {
                let due = latency.due(Stream::MarketData, ts).nanos();
                let locate = locate_of(instrument.0);
                if price == resting_price {
                    self.queue(due, |b| {
                        OrderExecutedMsg {
                            stock_locate: locate,
                            tracking_number: 0,
                            timestamp: ts.nanos(),
                            order_ref: resting.order_ref,
                            executed_shares: q32(qty)?,
                            match_number: match_no,
                        }
                        .encode(b)
                    });
                } else {
                    self.queue(due, |b| {
                        OrderExecutedWithPriceMsg {
                            stock_locate: locate,
                            tracking_number: 0,
                            timestamp: ts.nanos(),
                            order_ref: resting.order_ref,
                            executed_shares: q32(qty)?,
                            match_number: match_no,
                            printable: b'Y',
                            execution_price: price4(price)?,
                        }
                        .encode(b)
                    });
                }
            }
            MatchEvent::Reduced {
                instrument,
                order,
                cancelled,
                left,
                on_book: true,
                ts,
                ..
            } => {
                let due = latency.due(Stream::MarketData, ts).nanos();
                self.cancel(due, instrument.0, order.order_ref, cancelled, left, ts);
            }
            MatchEvent::Replaced {
                instrument,
                old,
                new,
                price,
                qty,
                old_qty,
                kept_priority,
                was_on_book,
                booked_whole,
                ts,
                ..
            } => {
                let due = latency.due(Stream::MarketData, ts).nanos();
                let locate = locate_of(instrument.0);
                if kept_priority {
                    if qty < old_qty {
                        let cut = Qty::from_raw(old_qty.raw() - qty.raw());
                        self.cancel(due, instrument.0, old.order_ref, cut, qty, ts);
                    }
                } else if was_on_book && booked_whole {
                    self.queue(due, |b| {
                        OrderReplaceMsg {
                            stock_locate: locate,
                            tracking_number: 0,
                            timestamp: ts.nanos(),
                            original_order_ref: old.order_ref,
                            new_order_ref: new.order_ref,
                            shares: q32(qty)?,
                            price: price4(price)?,
                        }
                        .encode(b)
                    });
                } else if was_on_book {
                    self.cancel(due, instrument.0, old.order_ref, old_qty, Qty::ZERO, ts);
                }
            }
            MatchEvent::MarketTrade {
                instrument,
                cross: true,
                price,
                qty,
                ts,
                ..
            } => {
                let stock = self.stock(instrument.0);
                let due = latency.due(Stream::MarketData, ts).nanos();
                self.queue(due, |b| {
                    CrossTradeMsg {
                        stock_locate: locate_of(instrument.0),
                        tracking_number: 0,
                        timestamp: ts.nanos(),
                        shares: shares(qty)?,
                        stock,
                        cross_price: price4(price)?,
                        match_number: 0,
                        cross_type: DEFAULT_CROSS_TYPE,
                    }
                    .encode(b)
                });
            }
            MatchEvent::MarketTrade {
                instrument,
                side,
                price,
                qty,
                ts,
                ..
            } => {
                let stock = self.stock(instrument.0);
                let due = latency.due(Stream::MarketData, ts).nanos();
                self.queue(due, |b| {
                    TradeMsg {
                        stock_locate: locate_of(instrument.0),
                        tracking_number: 0,
                        timestamp: ts.nanos(),
                        order_ref: 0,
                        // NASDAQ writes `B` on every `P` since 2014.
                        side_code: side.map_or(b'B', side_code),
                        shares: q32(qty)?,
                        stock,
                        price: price4(price)?,
                        match_number: 0,
                    }
                    .encode(b)
                });
            }
            MatchEvent::Status {
                instrument,
                status,
                ts,
            } => {
                let stock = self.stock(instrument.0);
                let due = latency.due(Stream::MarketData, ts).nanos();
                self.queue(due, |b| {
                    StockTradingActionMsg {
                        stock_locate: locate_of(instrument.0),
                        tracking_number: 0,
                        timestamp: ts.nanos(),
                        stock,
                        trading_state: trading_state_code(status),
                        reserved: b' ',
                        reason: if status == TradingStatus::Trading {
                            [b' '; 4]
                        } else {
                            *b"SIM "
                        },
                    }
                    .encode(b)
                });
            }
            _ => {}
        }
    }

    fn stock(&self, instrument: u32) -> [u8; 8] {
        self.stocks
            .get(instrument as usize)
            .copied()
            .unwrap_or([b' '; 8])
    }

    fn cancel(
        &mut self,
        due: u64,
        instrument: u32,
        order_ref: u64,
        cancelled: Qty,
        left: Qty,
        ts: Timestamp,
    ) {
        let locate = locate_of(instrument);
        if left.raw() == 0 {
            self.queue(due, |b| {
                OrderDeleteMsg {
                    stock_locate: locate,
                    tracking_number: 0,
                    timestamp: ts.nanos(),
                    order_ref,
                }
                .encode(b)
            });
        } else {
            self.queue(due, |b| {
                OrderCancelMsg {
                    stock_locate: locate,
                    tracking_number: 0,
                    timestamp: ts.nanos(),
                    order_ref,
                    cancelled_shares: shares::<u32>(cancelled)?,
                }
                .encode(b)
            });
        }
    }

    /// Publishes every message due by `now` into `out` (then flushes the open packet).
    /// Returns how many were published.
    pub fn release<S: PacketSink + ?Sized>(
        &mut self,
        now: Timestamp,
        out: &mut MoldOut,
        sink: &mut S,
    ) -> usize {
        let mut n = 0;
        while let Some(p) = self.pending.front() {
            if p.due > now.nanos() {
                break;
            }
            let p = *p;
            self.pending.pop_front();
            out.publish(&p.bytes[..usize::from(p.len)], now.nanos(), sink);
            n += 1;
        }
        if n > 0 {
            out.flush(now.nanos(), sink);
        }
        n
    }
}
