//! Kestrel gateway: OMS, pre-trade checks, OUCH 4.2 over SoupBinTCP, simulated exchange.
//!
//! Not built yet: this crate is a placeholder for the gateway issue. It exports nothing.
#![deny(unsafe_code)]
