//! Kestrel ML sidecar (`kestrel-ml`): builds datasets with the core's own feature code, trains
//! and evaluates three models through libtorch (`tch`), and serves edges to a running core
//! through the shared-memory segment of `kestrel_core::shm`.
//!
//! - [`dataset`]: book updates (from a `.kcap` or a LOBSTER pair) to features, labels and a
//!   walk-forward split;
//! - [`model`]: LSTM, DeepLOB-style CNN-LSTM, Transformer encoder, and the saved spec;
//! - [`train`], [`eval`], [`serve`], [`bench`]: the subcommands' work;
//! - [`window`], [`runtime`], [`metrics`]: windows, a loaded model, figures.
#![deny(unsafe_code)]

pub mod bench;
pub mod dataset;
pub mod eval;
pub mod metrics;
pub mod model;
pub mod runtime;
pub mod serve;
pub mod train;
pub mod window;
