//! A client written from the SoupBinTCP 3.00 and OUCH 4.2 specifications with plain sockets
//! and hand-laid bytes (none of Kestrel's codecs), shared by the tests that play a third-party
//! participant.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The bundled AAPL LOBSTER capture.
pub fn capture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv")
}

pub fn credentials(dir: &std::path::Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let f = dir.join("creds");
    std::fs::write(&f, "trader:s3cret\nother:pw2\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    f
}

/// `Alpha` field: left-justified, space padded.
pub fn alpha(s: &str, width: usize) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.resize(width, b' ');
    v
}

/// SoupBinTCP numeric field: ASCII digits, right-justified, space padded on the left.
pub fn numeric(n: u64, width: usize) -> Vec<u8> {
    format!("{n:>width$}").into_bytes()
}

pub fn packet(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = ((payload.len() + 1) as u16).to_be_bytes().to_vec();
    p.push(kind);
    p.extend_from_slice(payload);
    p
}

pub fn login(user: &str, pass: &str, session: &str, seq: u64) -> Vec<u8> {
    let mut body = alpha(user, 6);
    body.extend(alpha(pass, 10));
    body.extend(alpha(session, 10));
    body.extend(numeric(seq, 20));
    packet(b'L', &body)
}

/// OUCH 4.2 Enter Order (49 bytes).
pub fn enter_order(token: &str, side: u8, shares: u32, price_1e4: u32, tif: u32) -> Vec<u8> {
    let mut m = vec![b'O'];
    m.extend(alpha(token, 14));
    m.push(side);
    m.extend(shares.to_be_bytes());
    m.extend(alpha("AAPL", 8));
    m.extend(price_1e4.to_be_bytes());
    m.extend(tif.to_be_bytes());
    m.extend(alpha("", 4)); // firm: port default
    m.push(b'Y'); // display: anonymous
    m.push(b'P'); // capacity: principal
    m.push(b'N'); // ISO: not eligible
    m.extend(0u32.to_be_bytes()); // minimum quantity
    m.push(b'N'); // cross type: none
    m.push(b' '); // customer type: port default
    assert_eq!(m.len(), 49);
    packet(b'U', &m)
}

/// OUCH 4.2 Cancel Order (19 bytes).
pub fn cancel_order(token: &str, shares: u32) -> Vec<u8> {
    let mut m = vec![b'X'];
    m.extend(alpha(token, 14));
    m.extend(shares.to_be_bytes());
    packet(b'U', &m)
}

/// A connection to the venue.
#[derive(Debug)]
pub struct Client {
    /// The socket.
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        Self { s, buf: Vec::new() }
    }
    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }
    /// Next whole packet `(type, payload)`, waiting up to `wait`; `None` on timeout or close.
    pub fn next(&mut self, wait: Duration) -> Option<(u8, Vec<u8>)> {
        let until = Instant::now() + wait;
        loop {
            if self.buf.len() >= 2 {
                let len = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
                if self.buf.len() >= 2 + len {
                    let p: Vec<u8> = self.buf.drain(..2 + len).collect();
                    return Some((p[2], p[3..].to_vec()));
                }
            }
            if Instant::now() > until {
                return None;
            }
            let mut chunk = [0u8; 4096];
            match self.s.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    }
    /// Sequenced messages (OUCH payloads) until `pred` holds for one, skipping heartbeats.
    pub fn until(&mut self, wait: Duration, mut pred: impl FnMut(&[u8]) -> bool) -> Vec<Vec<u8>> {
        let until = Instant::now() + wait;
        let mut got = Vec::new();
        while Instant::now() < until {
            match self.next(Duration::from_millis(100)) {
                Some((b'S', m)) => {
                    let done = pred(&m);
                    got.push(m);
                    if done {
                        return got;
                    }
                }
                Some(_) => {}
                None => {}
            }
        }
        got
    }
}

pub fn token_of(m: &[u8]) -> String {
    String::from_utf8_lossy(&m[9..23]).trim_end().to_owned()
}
