//! MoldUDP64 retransmission request packets.

use super::packet::{MoldError, MoldSession, SESSION_LEN};

/// Length of a request packet.
pub const REQUEST_LEN: usize = 20;

/// A request to retransmit `count` messages of `session` starting at `sequence`
/// (layout as the downstream header: session, u64 BE sequence, u16 BE count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoldRequest {
    /// Session the messages belong to.
    pub session: MoldSession,
    /// First sequence requested.
    pub sequence: u64,
    /// Number of messages requested.
    pub count: u16,
}

impl MoldRequest {
    /// The 20 wire bytes.
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut out = [0u8; REQUEST_LEN];
        let _ = super::packet::write_header(&mut out, self.session, self.sequence, self.count);
        out
    }

    /// Decodes a request; the datagram must be exactly 20 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, MoldError> {
        let bad = MoldError::BadRequestLength { len: bytes.len() };
        let bytes: &[u8; REQUEST_LEN] = bytes.try_into().map_err(|_| bad)?;
        let mut session = [0u8; SESSION_LEN];
        session.copy_from_slice(&bytes[..SESSION_LEN]);
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&bytes[SESSION_LEN..SESSION_LEN + 8]);
        Ok(Self {
            session: MoldSession(session),
            sequence: u64::from_be_bytes(seq),
            count: u16::from_be_bytes([bytes[18], bytes[19]]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_length_check() {
        let r = MoldRequest {
            session: MoldSession::from_name("20261121A").unwrap(),
            sequence: 0x0102_0304_0506_0708,
            count: 513,
        };
        let bytes = r.encode();
        assert_eq!(&bytes[10..20], &[1, 2, 3, 4, 5, 6, 7, 8, 2, 1]);
        assert_eq!(MoldRequest::decode(&bytes), Ok(r));
        assert_eq!(
            MoldRequest::decode(&bytes[..19]),
            Err(MoldError::BadRequestLength { len: 19 })
        );
    }
}
