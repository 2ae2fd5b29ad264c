//! Cross-crate integration and fault tests live in `tests/tests/`; this library holds their
//! shared helpers.
#![deny(unsafe_code)]

/// The one counting allocator (and the rest of the dev-only helpers every crate's tests share).
pub use kestrel_test_support as support;
