//! Offline research: how well each signal and alpha predicts future mid moves.
//!
//! A library over a stream of [`BookUpdate`](kestrel_core::BookUpdate)s, so it is testable without
//! files; the `kestrel research signals` command feeds it from captures.

pub mod correlation;
pub mod study;

pub use study::{Horizon, HorizonStats, PredictorReport, SignalStudy, StudyReport};
