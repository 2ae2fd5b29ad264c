//! Cross-crate integration and fault tests live in `tests/tests/`; this library holds their
//! shared helpers.
#![deny(unsafe_code)]
