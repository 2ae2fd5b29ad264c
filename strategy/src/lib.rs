//! Kestrel strategy: microstructure signals, alpha models and the risk harmonizer.
#![deny(unsafe_code)]
pub mod edge;
