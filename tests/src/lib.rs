//! Cross-crate integration and fault tests live in `tests/tests/`; this library holds their
//! shared helpers and the decoders' fuzz targets.
#![deny(unsafe_code)]

pub mod fuzz;
pub mod replay;

/// The one counting allocator (and the rest of the dev-only helpers every crate's tests share).
pub use kestrel_test_support as support;

/// Fuzz targets of the Binance and DBN decoders.
pub mod venue_fuzz;
