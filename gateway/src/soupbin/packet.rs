//! SoupBinTCP packets: the typed forms, their decoders (zero-copy) and encoders (into a caller's
//! buffer, no allocation).

use super::error::{EncodeError, SoupError};
use super::{HEADER_LEN, LOGIN_ACCEPTED_LEN, LOGIN_REQUEST_LEN, MAX_PAYLOAD, packet_type as pt};
use crate::wire::{
    NumericError, get_numeric, put_alpha_left, put_alpha_right, put_numeric, trim_spaces,
};
use core::fmt;

/// A session name: 10 bytes, right-justified and padded on the left with spaces. All spaces
/// (the [`SessionId::BLANK`] value) in a login request means "the currently active session".
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 10]);

impl SessionId {
    /// All spaces: log into the current session.
    pub const BLANK: Self = Self([b' '; 10]);

    /// A session name of up to 10 printable ASCII characters (surrounding spaces are dropped).
    pub fn new(name: &str) -> Option<Self> {
        put_alpha_right(trim_spaces(name.as_bytes())).map(Self)
    }

    /// From the wire field: normalised to the right-justified form, so that a left-justified
    /// name from a lenient peer compares equal.
    pub fn from_field(field: [u8; 10]) -> Result<Self, SoupError> {
        put_alpha_right(trim_spaces(&field))
            .map(Self)
            .ok_or(SoupError::BadAlpha { field: "session" })
    }

    /// The wire field.
    pub const fn field(&self) -> [u8; 10] {
        self.0
    }

    /// The name without padding.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(trim_spaces(&self.0)).unwrap_or("")
    }

    /// Whether this is the blank ("current session") name.
    pub fn is_blank(&self) -> bool {
        self.0 == [b' '; 10]
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({:?})", self.as_str())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A login username: 6 bytes, left-justified, padded on the right with spaces.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Username([u8; 6]);

impl Username {
    /// A username of up to 6 printable ASCII characters.
    pub fn new(name: &str) -> Option<Self> {
        put_alpha_left(name.as_bytes()).map(Self)
    }

    /// The wire field.
    pub const fn field(&self) -> [u8; 6] {
        self.0
    }

    /// The name without padding.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(trim_spaces(&self.0)).unwrap_or("")
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.as_str())
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A login password: 10 bytes, left-justified, padded on the right with spaces. It has no
/// `Display`, and its `Debug` prints `Password(<redacted>)`: it cannot end up in a log line by
/// accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password([u8; 10]);

impl Password {
    /// A password of up to 10 printable ASCII characters.
    pub fn new(secret: &str) -> Option<Self> {
        put_alpha_left(secret.as_bytes()).map(Self)
    }

    /// The wire field (for the encoder and a server's credential check only).
    pub const fn field(&self) -> [u8; 10] {
        self.0
    }

    /// Compares with `other` in time independent of where they differ.
    pub fn matches(&self, other: &Password) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// `L` Login Request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRequest {
    /// Username.
    pub username: Username,
    /// Password (redacted in `Debug`).
    pub password: Password,
    /// Requested session; blank for the current one.
    pub session: SessionId,
    /// The sequence number of the next sequenced message the client wants (1 for the first
    /// message of the session); 0 asks to start from the most recently generated message.
    pub sequence: u64,
}

/// `A` Login Accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginAccepted {
    /// The session now logged into.
    pub session: SessionId,
    /// The sequence number of the next sequenced message the server will send.
    pub sequence: u64,
}

/// `J` Login Rejected reason codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// `A`: the username and password are not valid.
    NotAuthorized,
    /// `S`: the requested session does not exist or is not available.
    SessionNotAvailable,
}

impl RejectReason {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            RejectReason::NotAuthorized => b'A',
            RejectReason::SessionNotAvailable => b'S',
        }
    }

    /// From the wire code.
    pub const fn from_code(code: u8) -> Result<Self, SoupError> {
        match code {
            b'A' => Ok(RejectReason::NotAuthorized),
            b'S' => Ok(RejectReason::SessionNotAvailable),
            other => Err(SoupError::BadRejectReason(other)),
        }
    }
}

/// A packet the server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerPacket<'a> {
    /// `+` free text.
    Debug(&'a [u8]),
    /// `A`.
    LoginAccepted(LoginAccepted),
    /// `J`.
    LoginRejected(RejectReason),
    /// `S` one sequenced message (its sequence number is implicit: one more than the last).
    SequencedData(&'a [u8]),
    /// `H`.
    Heartbeat,
    /// `Z`: the server will send nothing more in this session.
    EndOfSession,
}

/// A packet the client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientPacket<'a> {
    /// `+` free text.
    Debug(&'a [u8]),
    /// `L`.
    LoginRequest(LoginRequest),
    /// `U` one unsequenced message.
    UnsequencedData(&'a [u8]),
    /// `R`.
    Heartbeat,
    /// `O`.
    LogoutRequest,
}

/// Splits a whole packet (length field included) into its type byte and payload, checking the
/// length field against the slice.
fn split(packet: &[u8]) -> Result<(u8, &[u8]), SoupError> {
    let (len, rest) = match packet {
        [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
        _ => {
            return Err(SoupError::Truncated {
                needed: 2,
                available: packet.len(),
            });
        }
    };
    if len == 0 {
        return Err(SoupError::ZeroLength { offset: 0 });
    }
    if rest.len() != len {
        return Err(SoupError::Truncated {
            needed: len + 2,
            available: packet.len(),
        });
    }
    match rest {
        [ty, payload @ ..] => Ok((*ty, payload)),
        [] => Err(SoupError::ZeroLength { offset: 0 }),
    }
}

fn expect_len(packet_type: u8, payload: &[u8], expected: usize) -> Result<(), SoupError> {
    if payload.len() == expected {
        Ok(())
    } else {
        Err(SoupError::BadLength {
            packet_type,
            expected,
            actual: payload.len(),
        })
    }
}

fn numeric(field: &[u8], name: &'static str) -> Result<u64, SoupError> {
    get_numeric(field).map_err(|e| SoupError::BadNumeric {
        field: name,
        index: match e {
            NumericError::NotDigit(i) => i,
            NumericError::Overflow => field.len(),
        },
    })
}

fn array<const W: usize>(bytes: &[u8]) -> [u8; W] {
    let mut out = [b' '; W];
    let n = bytes.len().min(W);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

fn printable(field: &[u8], name: &'static str) -> Result<(), SoupError> {
    if field.iter().all(|b| (0x20..=0x7E).contains(b)) {
        Ok(())
    } else {
        Err(SoupError::BadAlpha { field: name })
    }
}

impl<'a> ServerPacket<'a> {
    /// Decodes one whole packet (length field included), as [`next_packet`](super::next_packet)
    /// returns it.
    pub fn decode(packet: &'a [u8]) -> Result<Self, SoupError> {
        let (ty, payload) = split(packet)?;
        match ty {
            pt::DEBUG => Ok(ServerPacket::Debug(payload)),
            pt::LOGIN_ACCEPTED => {
                expect_len(ty, payload, LOGIN_ACCEPTED_LEN)?;
                let session = SessionId::from_field(array(&payload[..10]))?;
                let sequence = numeric(&payload[10..30], "sequence number")?;
                Ok(ServerPacket::LoginAccepted(LoginAccepted {
                    session,
                    sequence,
                }))
            }
            pt::LOGIN_REJECTED => {
                expect_len(ty, payload, 1)?;
                Ok(ServerPacket::LoginRejected(RejectReason::from_code(
                    payload[0],
                )?))
            }
            pt::SEQUENCED_DATA => Ok(ServerPacket::SequencedData(payload)),
            pt::SERVER_HEARTBEAT => {
                expect_len(ty, payload, 0)?;
                Ok(ServerPacket::Heartbeat)
            }
            pt::END_OF_SESSION => {
                expect_len(ty, payload, 0)?;
                Ok(ServerPacket::EndOfSession)
            }
            other => Err(SoupError::UnknownType {
                packet_type: other,
                direction: "server",
            }),
        }
    }

    /// The type byte.
    pub const fn packet_type(&self) -> u8 {
        match self {
            ServerPacket::Debug(_) => pt::DEBUG,
            ServerPacket::LoginAccepted(_) => pt::LOGIN_ACCEPTED,
            ServerPacket::LoginRejected(_) => pt::LOGIN_REJECTED,
            ServerPacket::SequencedData(_) => pt::SEQUENCED_DATA,
            ServerPacket::Heartbeat => pt::SERVER_HEARTBEAT,
            ServerPacket::EndOfSession => pt::END_OF_SESSION,
        }
    }

    /// Encodes the whole packet (length field included) at the start of `buf`; returns its
    /// length.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let ty = self.packet_type();
        match self {
            ServerPacket::Debug(p) | ServerPacket::SequencedData(p) => {
                let out = encode_data(buf, ty, p.len())?;
                out.copy_from_slice(p);
                Ok(HEADER_LEN + p.len())
            }
            ServerPacket::LoginAccepted(a) => {
                let seq = put_numeric::<20>(a.sequence).ok_or(EncodeError::FieldTooLong {
                    field: "sequence number",
                    width: 20,
                })?;
                let out = encode_data(buf, ty, LOGIN_ACCEPTED_LEN)?;
                out[..10].copy_from_slice(&a.session.field());
                out[10..].copy_from_slice(&seq);
                Ok(HEADER_LEN + LOGIN_ACCEPTED_LEN)
            }
            ServerPacket::LoginRejected(r) => {
                let out = encode_data(buf, ty, 1)?;
                out[0] = r.code();
                Ok(HEADER_LEN + 1)
            }
            ServerPacket::Heartbeat | ServerPacket::EndOfSession => {
                encode_data(buf, ty, 0)?;
                Ok(HEADER_LEN)
            }
        }
    }
}

impl<'a> ClientPacket<'a> {
    /// Decodes one whole packet (length field included).
    pub fn decode(packet: &'a [u8]) -> Result<Self, SoupError> {
        let (ty, payload) = split(packet)?;
        match ty {
            pt::DEBUG => Ok(ClientPacket::Debug(payload)),
            pt::LOGIN_REQUEST => {
                expect_len(ty, payload, LOGIN_REQUEST_LEN)?;
                printable(&payload[..6], "username")?;
                printable(&payload[6..16], "password")?;
                let username = Username(array(&payload[..6]));
                let password = Password(array(&payload[6..16]));
                let session = SessionId::from_field(array(&payload[16..26]))?;
                let sequence = numeric(&payload[26..46], "requested sequence number")?;
                Ok(ClientPacket::LoginRequest(LoginRequest {
                    username,
                    password,
                    session,
                    sequence,
                }))
            }
            pt::UNSEQUENCED_DATA => Ok(ClientPacket::UnsequencedData(payload)),
            pt::CLIENT_HEARTBEAT => {
                expect_len(ty, payload, 0)?;
                Ok(ClientPacket::Heartbeat)
            }
            pt::LOGOUT_REQUEST => {
                expect_len(ty, payload, 0)?;
                Ok(ClientPacket::LogoutRequest)
            }
            other => Err(SoupError::UnknownType {
                packet_type: other,
                direction: "client",
            }),
        }
    }

    /// The type byte.
    pub const fn packet_type(&self) -> u8 {
        match self {
            ClientPacket::Debug(_) => pt::DEBUG,
            ClientPacket::LoginRequest(_) => pt::LOGIN_REQUEST,
            ClientPacket::UnsequencedData(_) => pt::UNSEQUENCED_DATA,
            ClientPacket::Heartbeat => pt::CLIENT_HEARTBEAT,
            ClientPacket::LogoutRequest => pt::LOGOUT_REQUEST,
        }
    }

    /// Encodes the whole packet (length field included) at the start of `buf`; returns its
    /// length.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        let ty = self.packet_type();
        match self {
            ClientPacket::Debug(p) | ClientPacket::UnsequencedData(p) => {
                let out = encode_data(buf, ty, p.len())?;
                out.copy_from_slice(p);
                Ok(HEADER_LEN + p.len())
            }
            ClientPacket::LoginRequest(l) => {
                let seq = put_numeric::<20>(l.sequence).ok_or(EncodeError::FieldTooLong {
                    field: "requested sequence number",
                    width: 20,
                })?;
                let out = encode_data(buf, ty, LOGIN_REQUEST_LEN)?;
                out[..6].copy_from_slice(&l.username.field());
                out[6..16].copy_from_slice(&l.password.field());
                out[16..26].copy_from_slice(&l.session.field());
                out[26..46].copy_from_slice(&seq);
                Ok(HEADER_LEN + LOGIN_REQUEST_LEN)
            }
            ClientPacket::Heartbeat | ClientPacket::LogoutRequest => {
                encode_data(buf, ty, 0)?;
                Ok(HEADER_LEN)
            }
        }
    }
}

/// Writes the header of a packet of type `packet_type` with a `payload_len`-byte payload at the
/// start of `buf` and returns the payload's slice, to be filled in place (an OUCH message
/// encoded straight into the send buffer). The packet is `HEADER_LEN + payload_len` bytes.
#[inline]
pub fn encode_data(
    buf: &mut [u8],
    packet_type: u8,
    payload_len: usize,
) -> Result<&mut [u8], EncodeError> {
    if payload_len > MAX_PAYLOAD {
        return Err(EncodeError::PayloadTooLong(payload_len));
    }
    let needed = HEADER_LEN + payload_len;
    let available = buf.len();
    let Some(packet) = buf.get_mut(..needed) else {
        return Err(EncodeError::BufferTooSmall { needed, available });
    };
    let [hi, lo] = ((payload_len + 1) as u16).to_be_bytes();
    let (header, payload) = packet.split_at_mut(HEADER_LEN);
    header.copy_from_slice(&[hi, lo, packet_type]);
    Ok(payload)
}
