//! Alpha models: each turns signals (and its own state) into a [`ModelEdge`](crate::edge::ModelEdge).
//!
//! [`AlphaSet`] evaluates all of them per update into `[ModelEdge; MODEL_COUNT]`, indexed by the
//! stable constants in [`set`] ([`MODEL_NAMES`]), so the harmonizer can keep per-model track
//! records by index. The external slot carries the ML sidecar's edge under an age limit.

pub mod book_pressure;
pub mod external;
pub mod mean_reversion;
pub mod momentum;
pub mod ofi;
pub mod pairs;
pub mod set;

pub use book_pressure::ImbalanceSource;
pub use pairs::{Leg, PairConfig, PairsModel};
pub use set::{
    AlphaConfig, AlphaSet, BOOK_PRESSURE, EXTERNAL, MEAN_REVERSION, MODEL_COUNT, MODEL_NAMES,
    MOMENTUM, OFI, PAIRS,
};
