//! Kestrel core: fixed-point types, ids, market events, order books and the pieces every other
//! crate shares. `core` knows nothing of feeds, strategy or gateway.
#![deny(unsafe_code)]

pub mod book;
pub mod clock;
pub mod cpu;
pub mod event;
pub mod exec;
pub mod fixed;
pub mod ids;
pub mod instrument;
pub mod latency;
pub mod order;
pub mod pipeline;
pub mod shm;
pub mod side;
pub mod time;
pub mod top;
pub mod wire;

pub use book::{BookConfig, BookError, BookStats, L2Books, L3Books};
pub use event::{BookEventKind, MARKET_WIDE, MarketEvent, TradingStatus};
pub use exec::{ExecKind, ExecReport, GatewayInput, GatewayInputKind, MarketTop};
pub use fixed::{FIXED_DECIMALS, FIXED_SCALE, FIXED_TEXT_MAX, FixedError, Price, Qty};
pub use ids::{InstrumentId, OrderId};
pub use instrument::{Instrument, InstrumentError, InstrumentTable, TickRule};
pub use order::{IntentReason, OrderIntent, Urgency};
pub use side::Side;
pub use time::Timestamp;
pub use top::{BookTop, BookUpdate, LevelView, TOP_LEVELS, TradeKind, TradePrint};
