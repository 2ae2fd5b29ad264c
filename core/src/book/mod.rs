//! Order books.
//!
//! - [`L3Books`]: market-wide order-by-order books (ITCH, LOBSTER, MBO), one per dense
//!   [`InstrumentId`](crate::InstrumentId), sharing one order store.
//! - [`L2Books`]: price-level books for venues that publish levels only (Binance depth, MBP).
//! - [`ReferenceBook`]: a deliberately naive L3 book (`BTreeMap` + `HashMap` + `VecDeque`) with the
//!   same semantics, used by the property tests and as the benchmark baseline.
//!
//! Every book applies [`MarketEvent`](crate::MarketEvent)s through `apply`, which returns what
//! changed ([`Applied`]) or a typed [`BookError`]. Bad input (unknown or duplicate order ids,
//! excess quantities, crossed books) is counted in [`BookStats`] and never panics; the book stays
//! usable. Order feeds can skip the event round trip: [`L3Books`]' direct entry points
//! (`add_order`, `execute_order`, `cancel_order`, `delete_order`, `replace_order`, ...) apply
//! a decoded message's fields and return a small [`Touched`] (see `direct`). A handler with a
//! batch of order messages in hand can prefetch what they will read first
//! ([`L3Books::prefetch_batch`], see `prefetch`); the big arrays ask for huge pages (`huge`).

mod config;
mod direct;
mod error;
mod hash;
mod huge;
mod l2;
mod l3;
mod ladder;
mod levels;
mod order_map;
mod orders;
mod outcome;
mod prefetch;
pub mod reference;
mod stats;
mod status;

pub use config::BookConfig;
pub use direct::{LateError, Touched};
pub use error::{BookError, BookKind};
pub use hash::StableHasher;
pub use huge::disable_process_huge_pages;
pub use l2::L2Books;
pub use l3::{FifoIter, L3Books};
pub use outcome::{Applied, OrderView};
pub use prefetch::OrderLookup;
pub use reference::ReferenceBook;
pub use stats::BookStats;
pub use status::InstrumentStatus;
