//! The venue's sockets: SoupBinTCP order entry ([`soupbin`]), the UDP market data feed and the
//! MoldUDP64 retransmission server ([`udp`]), and the login table ([`credentials`]). All
//! non-blocking, polled by the exchange loop.

pub mod credentials;
pub mod soupbin;
pub mod udp;

pub use credentials::{Credentials, CredentialsError};
pub use soupbin::{ServerStats, SoupServer, TX_HIGH_WATER};
pub use udp::{RetransServer, UdpFeed};
