//! NASDAQ SoupBinTCP 3.00: the framing, login and heartbeat layer under OUCH.
//!
//! Every logical packet is a two-byte big-endian length (the bytes that follow it: the type
//! byte plus the payload), a one-byte packet type and a payload:
//!
//! | type | direction | payload |
//! |---|---|---|
//! | `+` Debug | both | free text |
//! | `A` Login Accepted | server | Session (10, alpha, right-justified), Sequence Number (20, numeric, right-justified): the next sequenced message the server will send |
//! | `J` Login Rejected | server | Reject Reason Code (1): `A` not authorized, `S` session not available |
//! | `S` Sequenced Data | server | one higher-level message (an OUCH outbound message) |
//! | `H` Server Heartbeat | server | none |
//! | `Z` End of Session | server | none |
//! | `L` Login Request | client | Username (6, alpha, left-justified), Password (10, alpha, left-justified), Requested Session (10, alpha, right-justified; blank = the current session), Requested Sequence Number (20, numeric, right-justified; 0 = from the most recent message) |
//! | `U` Unsequenced Data | client | one higher-level message (an OUCH inbound message) |
//! | `R` Client Heartbeat | client | none |
//! | `O` Logout Request | client | none |
//!
//! Heartbeats: each side sends a heartbeat after [`HEARTBEAT_INTERVAL_NS`] without sending
//! anything else, and treats [`SILENCE_TIMEOUT_NS`] without receiving anything as a lost link.
//!
//! - [`next_packet`] finds the first whole packet in a receive buffer (TCP splits and merges
//!   packets freely); [`RecvBuffer`] is the fixed-size buffer a session reads into.
//! - [`ServerPacket`] and [`ClientPacket`] decode (zero-copy: data payloads borrow the
//!   buffer) and encode into a caller's buffer without allocating. [`encode_data`] writes a data
//!   packet's header and hands back the payload slice so a message is encoded in place.

mod error;
mod framer;
mod packet;

pub use error::{EncodeError, SoupError};
pub use framer::{RecvBuffer, next_packet};
pub use packet::{
    ClientPacket, LoginAccepted, LoginRequest, Password, RejectReason, ServerPacket, SessionId,
    Username, encode_data,
};

/// Bytes before the payload: the two-byte length and the type byte.
pub const HEADER_LEN: usize = 3;
/// The largest payload a packet can carry (the length field counts the type byte too).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - 1;
/// The largest packet, length field included.
pub const MAX_PACKET: usize = 2 + u16::MAX as usize;

/// Packet type bytes.
pub mod packet_type {
    /// Debug text, either direction.
    pub const DEBUG: u8 = b'+';
    /// Server: login accepted.
    pub const LOGIN_ACCEPTED: u8 = b'A';
    /// Server: login rejected.
    pub const LOGIN_REJECTED: u8 = b'J';
    /// Server: sequenced data.
    pub const SEQUENCED_DATA: u8 = b'S';
    /// Server: heartbeat.
    pub const SERVER_HEARTBEAT: u8 = b'H';
    /// Server: end of session.
    pub const END_OF_SESSION: u8 = b'Z';
    /// Client: login request.
    pub const LOGIN_REQUEST: u8 = b'L';
    /// Client: unsequenced data.
    pub const UNSEQUENCED_DATA: u8 = b'U';
    /// Client: heartbeat.
    pub const CLIENT_HEARTBEAT: u8 = b'R';
    /// Client: logout request.
    pub const LOGOUT_REQUEST: u8 = b'O';
}

/// Payload length of a Login Request.
pub const LOGIN_REQUEST_LEN: usize = 46;
/// Payload length of a Login Accepted.
pub const LOGIN_ACCEPTED_LEN: usize = 30;

/// Send a heartbeat after this long without sending anything (SoupBinTCP: one second).
pub const HEARTBEAT_INTERVAL_NS: u64 = 1_000_000_000;
/// Consider the link lost after this long without receiving anything (SoupBinTCP: 15 seconds).
pub const SILENCE_TIMEOUT_NS: u64 = 15_000_000_000;
