//! The live venue: a SoupBinTCP 3.00 client session carrying OUCH 4.2 over non-blocking TCP.
//!
//! - [`Credentials`]: username and password from the environment or a mode-0600 file, never
//!   printed.
//! - [`SoupClient`]: the [`Venue`](crate::venue::Venue) implementation (login, heartbeats,
//!   timeouts, reconnect with [`Backoff`], re-login at the next expected sequence number).

mod backoff;
mod client;
mod credentials;

pub use backoff::Backoff;
pub use client::{SessionConfig, SessionStats, SoupClient};
pub use credentials::{Credentials, CredentialsError, ENV_PASSWORD, ENV_USERNAME};
