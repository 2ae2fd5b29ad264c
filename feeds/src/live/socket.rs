//! The receive socket: non-blocking `mio` UDP, unicast or a joined IPv4 multicast group, with
//! the receive time taken on the feed thread's clock as soon as the receive call returns.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::str::FromStr;

use kestrel_core::Timestamp;
use kestrel_core::clock::Clock;
use mio::net::UdpSocket;

/// Where to listen: `ADDR:PORT` (unicast) or `GROUP:PORT` for a multicast group (joined on
/// the default interface), optionally `GROUP:PORT@IFACE_ADDR`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenAddr {
    /// The address (unicast bind address or multicast group) and port.
    pub addr: SocketAddr,
    /// Interface to join a multicast group on (unspecified: the default).
    pub interface: Ipv4Addr,
}

impl FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, iface) = match s.split_once('@') {
            Some((a, i)) => (a, Some(i)),
            None => (s, None),
        };
        let addr: SocketAddr = addr
            .parse()
            .map_err(|e| format!("listen address {addr:?}: {e}"))?;
        let interface = match iface {
            Some(i) => i
                .parse()
                .map_err(|e| format!("interface address {i:?}: {e}"))?,
            None => Ipv4Addr::UNSPECIFIED,
        };
        Ok(Self { addr, interface })
    }
}

impl ListenAddr {
    /// Whether the address is a multicast group.
    pub fn is_multicast(&self) -> bool {
        self.addr.ip().is_multicast()
    }
}

/// A non-blocking UDP receive socket.
#[derive(Debug)]
pub struct FeedSocket {
    socket: UdpSocket,
}

impl FeedSocket {
    /// Binds `listen` (a multicast group is joined, the socket bound to its port on all
    /// interfaces).
    pub fn bind(listen: ListenAddr) -> std::io::Result<Self> {
        let socket = match listen.addr {
            SocketAddr::V4(v4) if v4.ip().is_multicast() => {
                let s = UdpSocket::bind(SocketAddr::V4(SocketAddrV4::new(
                    Ipv4Addr::UNSPECIFIED,
                    v4.port(),
                )))?;
                s.join_multicast_v4(v4.ip(), &listen.interface)?;
                s
            }
            addr => UdpSocket::bind(addr)?,
        };
        Ok(Self { socket })
    }

    /// An unbound-port socket for sending requests (the retransmission client).
    pub fn ephemeral() -> std::io::Result<Self> {
        Ok(Self {
            socket: UdpSocket::bind(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)))?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// One datagram into `buf`, stamped by `clock` right after the call returned; `None` when
    /// nothing is waiting. Errors other than "would block" are returned.
    #[inline]
    pub fn recv<C: Clock>(
        &self,
        buf: &mut [u8],
        clock: &C,
    ) -> std::io::Result<Option<(usize, Timestamp, SocketAddr)>> {
        match self.socket.recv_from(buf) {
            Ok((n, from)) => Ok(Some((n, clock.now(), from))),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends one datagram (best effort).
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) -> std::io::Result<usize> {
        self.socket.send_to(bytes, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listen_addresses() {
        let a: ListenAddr = "127.0.0.1:5000".parse().unwrap();
        assert!(!a.is_multicast());
        let m: ListenAddr = "239.1.1.1:5000@127.0.0.1".parse().unwrap();
        assert!(m.is_multicast());
        assert_eq!(m.interface, Ipv4Addr::LOCALHOST);
        assert!("nonsense".parse::<ListenAddr>().is_err());
    }
}
