//! Kestrel strategy: microstructure signals, alpha models and the risk harmonizer.
#![deny(unsafe_code)]
pub mod alpha;
pub mod edge;
pub mod engine;
pub mod harmonizer;
pub mod normal;
pub mod params;
pub mod research;
pub mod sidecar;
pub mod signals;
pub mod stage;
pub mod universe;
