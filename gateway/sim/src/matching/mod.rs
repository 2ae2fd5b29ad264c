//! The matching engine and the L3 queue-position model.
//!
//! One [`MatchingEngine`] holds every instrument's book. Each book holds two kinds of orders in
//! the same price-time queues:
//!
//! - **participant** orders, entered through [`MatchingEngine::enter`] (OUCH sessions, the
//!   backtest): they match by price-time priority against everything on the other side;
//! - **background** orders: the replayed market ([`MatchingEngine::bg_add`] and friends, fed
//!   from a capture). They rest in the same FIFO queues, so a participant order joins the back of
//!   its level behind the real orders already there and moves up exactly as they trade or cancel.
//!
//! The queue model ([`background`](self) functions, hftbacktest's `L3FIFOQueueModel` is the
//! reference point): a recorded execution of background order `X` for `q` shares means an
//! aggressor took `q` shares at `X`'s level; every participant order with priority over `X`
//! (a better price, or the same price and ahead of `X` in the queue) would have been hit first,
//! so those orders fill, in priority order, out of a budget of `q` shares. `X` itself still
//! executes as recorded (the replay is not rewritten: participant fills out of background flow
//! are additional volume). Unlike hftbacktest, which fills a backtest order whole once a market
//! order behind it trades, fills here are partial and bounded by the executed quantity. A
//! recorded add that crosses a participant order trades with it first (the participant improved
//! the price), and a recorded hidden trade (ITCH `P`) fills participant orders priced at least as
//! well as the trade. Liquidity a participant takes from a background order is gone: later
//! recorded events on that order are clamped to what is left and counted.

mod background;
mod book;
mod engine;
mod event;
mod ladder;
mod stats;
mod types;

pub use engine::{EngineConfig, MatchingEngine};
pub use event::{MatchEvent, MatchSink, NoSink, Party};
pub use stats::MatchStats;
pub use types::{
    CancelReason, NewOrder, OrderHandle, Owner, PARTICIPANT_REF_BASE, RejectReason, ReplaceOutcome,
    SmpPolicy, TimeInForce,
};
