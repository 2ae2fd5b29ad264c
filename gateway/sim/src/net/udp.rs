//! UDP for the market data feed (unicast, or multicast where the host allows it) and the
//! MoldUDP64 retransmission server.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};

use crate::publish::{MoldOut, PacketSink, Retransmitter};

/// The feed's socket: every packet goes to one destination (a unicast address or a multicast
/// group).
#[derive(Debug)]
pub struct UdpFeed {
    socket: UdpSocket,
    dest: SocketAddr,
    errors: u64,
}

impl UdpFeed {
    /// A socket bound to an ephemeral port that sends to `dest`. For a multicast group,
    /// `interface` is the address of the interface it goes out of (bound as the source
    /// address, which makes Linux route the group there: `127.0.0.1` keeps it on loopback);
    /// `None` leaves the choice to the routing table.
    pub fn new(dest: SocketAddr, interface: Option<Ipv4Addr>) -> std::io::Result<Self> {
        let bind: SocketAddr = match (dest, interface) {
            (SocketAddr::V4(v4), Some(iface)) if v4.ip().is_multicast() => {
                SocketAddr::V4(SocketAddrV4::new(iface, 0))
            }
            (SocketAddr::V4(_), _) => SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            (SocketAddr::V6(_), _) => "[::]:0".parse().map_err(std::io::Error::other)?,
        };
        let socket = UdpSocket::bind(bind)?;
        if let SocketAddr::V4(v4) = dest
            && v4.ip().is_multicast()
        {
            socket.set_multicast_loop_v4(true)?;
            socket.set_multicast_ttl_v4(1)?;
        }
        socket.set_nonblocking(true)?;
        Ok(Self {
            socket,
            dest,
            errors: 0,
        })
    }

    /// Send errors (a full socket buffer, no route): the receiver re-requests what it missed.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The destination.
    pub fn dest(&self) -> SocketAddr {
        self.dest
    }
}

impl PacketSink for UdpFeed {
    fn send_packet(&mut self, packet: &[u8]) {
        if self.socket.send_to(packet, self.dest).is_err() {
            self.errors += 1;
        }
    }
}

/// Replies go back to whoever asked.
struct ReplyTo<'a> {
    socket: &'a UdpSocket,
    peer: SocketAddr,
    errors: &'a mut u64,
}

impl PacketSink for ReplyTo<'_> {
    fn send_packet(&mut self, packet: &[u8]) {
        if self.socket.send_to(packet, self.peer).is_err() {
            *self.errors += 1;
        }
    }
}

/// The MoldUDP64 retransmission server: requests in, stored messages out to the requester.
#[derive(Debug)]
pub struct RetransServer {
    socket: UdpSocket,
    logic: Retransmitter,
    errors: u64,
}

impl RetransServer {
    /// Listens on `addr`, resending at most `max_messages` per request.
    pub fn bind(addr: SocketAddr, max_messages: u16) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            socket,
            logic: Retransmitter::new(max_messages),
            errors: 0,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Counters.
    pub fn stats(&self) -> crate::publish::RetransStats {
        self.logic.stats()
    }

    /// Answers every pending request from `feed`'s store. Returns the requests read.
    pub fn poll(&mut self, feed: &MoldOut) -> usize {
        let mut buf = [0u8; 64];
        let mut n = 0;
        loop {
            match self.socket.recv_from(&mut buf) {
                Ok((len, peer)) => {
                    n += 1;
                    let mut reply = ReplyTo {
                        socket: &self.socket,
                        peer,
                        errors: &mut self.errors,
                    };
                    self.logic
                        .answer(&buf[..len], feed.session(), feed.store(), &mut reply);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return n,
            }
        }
    }
}
