//! The SoupBinTCP 3.00 server: non-blocking TCP, polled by the exchange loop.
//!
//! - A connection's first packet must be a Login Request. Unknown username or wrong password:
//!   Login Rejected `A` (not authorized). A requested session that is not blank and not the
//!   venue's: Login Rejected `S` (session not available). Either way the connection closes.
//! - Login Accepted names the session and the sequence number of the next message the client
//!   will receive: the one it asked for (1 = from the start of the day), or, for 0 or a number
//!   past the end, the next one the venue will generate. Every message of the participant's
//!   sequenced stream from there on is sent, so a client that logs in again at any sequence
//!   number receives the rest.
//! - Unsequenced Data carries OUCH messages to the venue; a payload that does not decode is
//!   counted and ignored. Heartbeats go out after a second of silence; a client silent for 15
//!   seconds is disconnected. Logout Request closes the connection. A participant logging in
//!   again replaces its older connection.
//! - When a logged-in connection goes away, the venue is told (cancel on disconnect).
//! - A slow reader is never cut off and never loses a message: once [`TX_HIGH_WATER`] bytes
//!   wait for its socket, the server stops copying its stream into the connection's queue
//!   (the messages stay on the venue's stream, counted in `stream_holds`) and carries on from
//!   the same sequence number when the socket drains.

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use kestrel_core::Timestamp;
use kestrel_gateway::ouch::{ClientMessageView, MAX_MESSAGE_LEN};
use kestrel_gateway::soupbin::{
    ClientPacket, HEARTBEAT_INTERVAL_NS, LoginAccepted, RecvBuffer, RejectReason,
    SILENCE_TIMEOUT_NS, ServerPacket, SessionId, encode_data, packet_type,
};

use super::credentials::Credentials;
use crate::venue::SimVenue;

/// Server counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Connections accepted.
    pub connections: u64,
    /// Logins accepted.
    pub logins: u64,
    /// Logins refused: bad credentials.
    pub rejected_not_authorized: u64,
    /// Logins refused: unknown session.
    pub rejected_session: u64,
    /// Unsequenced payloads that did not decode as OUCH.
    pub bad_messages: u64,
    /// Packets that broke the framing (connection dropped).
    pub protocol_errors: u64,
    /// OUCH messages received.
    pub messages_in: u64,
    /// Sequenced messages sent (retransmissions included).
    pub messages_out: u64,
    /// Connections dropped for silence.
    pub timeouts: u64,
    /// Logged-in connections that went away.
    pub disconnects: u64,
    /// Times a connection's stream had messages waiting while its queue was at the high-water
    /// mark (a slow reader: the messages wait on the venue's stream).
    pub stream_holds: u64,
    /// Most bytes ever queued for one connection.
    pub max_queued_bytes: u64,
}

#[derive(Debug)]
enum State {
    AwaitingLogin,
    LoggedIn { participant: u32, next_seq: u64 },
    Closing,
}

#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    rx: RecvBuffer,
    tx: Vec<u8>,
    state: State,
    last_rx: Instant,
    last_tx: Instant,
}

/// The SoupBinTCP server. See the module docs.
#[derive(Debug)]
pub struct SoupServer {
    listener: TcpListener,
    session: SessionId,
    credentials: Credentials,
    conns: Vec<Conn>,
    stats: ServerStats,
    silence: Duration,
    heartbeat: Duration,
}

/// Reads (each followed by the packets it completed) per connection per poll.
const READ_TURNS: usize = 16;

/// Bytes a connection may have queued before the stream stops feeding it (backpressure).
pub const TX_HIGH_WATER: usize = 256 * 1024;

impl SoupServer {
    /// Listens on `addr` for `session`.
    pub fn bind(
        addr: SocketAddr,
        session: SessionId,
        credentials: Credentials,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            session,
            credentials,
            conns: Vec::new(),
            stats: ServerStats::default(),
            silence: Duration::from_nanos(SILENCE_TIMEOUT_NS),
            heartbeat: Duration::from_nanos(HEARTBEAT_INTERVAL_NS),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// Logged-in connections.
    pub fn logged_in(&self) -> usize {
        self.conns
            .iter()
            .filter(|c| matches!(c.state, State::LoggedIn { .. }))
            .count()
    }

    /// Accepts, reads, hands OUCH messages to `venue` (stamped `sim_now`), writes the streams,
    /// heartbeats and times out. Returns whether anything happened.
    pub fn poll(&mut self, venue: &mut SimVenue, sim_now: Timestamp) -> bool {
        let mut busy = false;
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    busy = true;
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    self.stats.connections += 1;
                    let now = Instant::now();
                    self.conns.push(Conn {
                        stream,
                        peer,
                        rx: RecvBuffer::new(1 << 17),
                        tx: Vec::with_capacity(1 << 16),
                        state: State::AwaitingLogin,
                        last_rx: now,
                        last_tx: now,
                    });
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
        let now = Instant::now();
        for i in 0..self.conns.len() {
            busy |= self.service(i, venue, sim_now, now);
        }
        // Drop closed connections (telling the venue about logged-in ones).
        let mut i = 0;
        while i < self.conns.len() {
            if matches!(self.conns[i].state, State::Closing) && self.conns[i].tx.is_empty() {
                self.conns.swap_remove(i);
            } else {
                i += 1;
            }
        }
        busy
    }

    fn close(&mut self, i: usize, venue: &mut SimVenue, sim_now: Timestamp) {
        let conn = &mut self.conns[i];
        if let State::LoggedIn { participant, .. } = conn.state {
            self.stats.disconnects += 1;
            venue.disconnect(participant, sim_now);
        }
        conn.state = State::Closing;
        let _ = conn.stream.flush();
        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        conn.tx.clear();
    }

    fn service(
        &mut self,
        i: usize,
        venue: &mut SimVenue,
        sim_now: Timestamp,
        now: Instant,
    ) -> bool {
        if matches!(self.conns[i].state, State::Closing) {
            return false;
        }
        let mut busy = false;
        // Read and take packets in turns: the receive buffer never fills with unread packets
        // (a burst larger than it is read over several turns), and one connection cannot hold
        // the venue for long (at most READ_TURNS reads per poll).
        let mut closed = false;
        let mut stopped = false;
        for _ in 0..READ_TURNS {
            let conn = &mut self.conns[i];
            let more = match conn.rx.read_from(&mut conn.stream) {
                Ok(0) => {
                    closed = true;
                    false
                }
                Ok(_) => {
                    busy = true;
                    conn.last_rx = now;
                    true
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => false,
                Err(_) => {
                    closed = true;
                    false
                }
            };
            loop {
                let conn = &mut self.conns[i];
                let packet = match conn.rx.next_packet() {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(_) => {
                        self.stats.protocol_errors += 1;
                        closed = true;
                        break;
                    }
                };
                let mut copy = [0u8; 128];
                if packet.len() > copy.len() {
                    self.stats.protocol_errors += 1;
                    closed = true;
                    break;
                }
                let n = packet.len();
                copy[..n].copy_from_slice(packet);
                match ClientPacket::decode(&copy[..n]) {
                    Ok(p) => {
                        if !self.on_packet(i, &p, venue, sim_now) {
                            stopped = true;
                            break;
                        }
                    }
                    Err(_) => {
                        self.stats.protocol_errors += 1;
                        closed = true;
                        break;
                    }
                }
            }
            if closed || stopped || !more {
                break;
            }
        }
        if closed {
            self.close(i, venue, sim_now);
            return true;
        }
        // Stream out.
        let conn = &mut self.conns[i];
        if let State::LoggedIn {
            participant,
            next_seq,
        } = &mut conn.state
        {
            let stream = venue.stream(*participant);
            while (*next_seq as usize) <= stream.len() && conn.tx.len() < TX_HIGH_WATER {
                let msg = &stream[*next_seq as usize - 1];
                let mut body = [0u8; MAX_MESSAGE_LEN];
                let Ok(len) = msg.encode(&mut body) else {
                    break;
                };
                let at = conn.tx.len();
                conn.tx.resize(at + 3 + len, 0);
                if let Ok(payload) =
                    encode_data(&mut conn.tx[at..], packet_type::SEQUENCED_DATA, len)
                {
                    payload.copy_from_slice(&body[..len]);
                }
                *next_seq += 1;
                self.stats.messages_out += 1;
                busy = true;
            }
            if (*next_seq as usize) <= stream.len() {
                self.stats.stream_holds += 1;
            }
            self.stats.max_queued_bytes = self.stats.max_queued_bytes.max(conn.tx.len() as u64);
        }
        // Heartbeat, timeout.
        if matches!(conn.state, State::LoggedIn { .. })
            && conn.tx.is_empty()
            && now.duration_since(conn.last_tx) >= self.heartbeat
        {
            push_packet(&mut conn.tx, &ServerPacket::Heartbeat);
        }
        if now.duration_since(conn.last_rx) >= self.silence {
            self.stats.timeouts += 1;
            self.close(i, venue, sim_now);
            return true;
        }
        match self.flush(i) {
            Ok(wrote) => busy | wrote,
            Err(()) => {
                self.close(i, venue, sim_now);
                true
            }
        }
    }

    /// Writes what the socket takes; `Err` when the connection failed.
    fn flush(&mut self, i: usize) -> Result<bool, ()> {
        let conn = &mut self.conns[i];
        if conn.tx.is_empty() {
            return Ok(false);
        }
        match conn.stream.write(&conn.tx) {
            Ok(n) => {
                conn.tx.drain(..n);
                conn.last_tx = Instant::now();
                Ok(n > 0)
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
            Err(_) => Err(()),
        }
    }

    /// One client packet; returns false when the connection stops reading.
    fn on_packet(
        &mut self,
        i: usize,
        p: &ClientPacket<'_>,
        venue: &mut SimVenue,
        sim_now: Timestamp,
    ) -> bool {
        match (&self.conns[i].state, p) {
            (State::AwaitingLogin, ClientPacket::LoginRequest(req)) => {
                let Some(participant) = self.credentials.authenticate(&req.username, &req.password)
                else {
                    self.stats.rejected_not_authorized += 1;
                    self.refuse(i, RejectReason::NotAuthorized);
                    return false;
                };
                if !req.session.is_blank() && req.session != self.session {
                    self.stats.rejected_session += 1;
                    self.refuse(i, RejectReason::SessionNotAvailable);
                    return false;
                }
                // One connection per participant: an older one is replaced.
                for j in 0..self.conns.len() {
                    if j != i
                        && matches!(self.conns[j].state, State::LoggedIn { participant: p, .. } if p == participant)
                    {
                        self.conns[j].state = State::Closing;
                        let _ = self.conns[j].stream.shutdown(std::net::Shutdown::Both);
                        self.conns[j].tx.clear();
                    }
                }
                let next_generated = venue.stream(participant).len() as u64 + 1;
                let next_seq = match req.sequence {
                    0 => next_generated,
                    s => s.min(next_generated),
                };
                self.stats.logins += 1;
                let conn = &mut self.conns[i];
                push_packet(
                    &mut conn.tx,
                    &ServerPacket::LoginAccepted(LoginAccepted {
                        session: self.session,
                        sequence: next_seq,
                    }),
                );
                conn.state = State::LoggedIn {
                    participant,
                    next_seq,
                };
                true
            }
            (State::AwaitingLogin, _) => {
                // Anything but a login first: not authorized.
                self.stats.rejected_not_authorized += 1;
                self.refuse(i, RejectReason::NotAuthorized);
                false
            }
            (State::LoggedIn { participant, .. }, ClientPacket::UnsequencedData(payload)) => {
                let participant = *participant;
                match ClientMessageView::decode(payload) {
                    Ok(view) => {
                        self.stats.messages_in += 1;
                        venue.submit(participant, &view.to_msg(), sim_now);
                    }
                    Err(_) => self.stats.bad_messages += 1,
                }
                true
            }
            (State::LoggedIn { .. }, ClientPacket::LogoutRequest) => {
                self.close(i, venue, sim_now);
                false
            }
            (State::LoggedIn { .. }, ClientPacket::LoginRequest(_)) => {
                self.stats.protocol_errors += 1;
                true
            }
            _ => true,
        }
    }

    fn refuse(&mut self, i: usize, reason: RejectReason) {
        let conn = &mut self.conns[i];
        push_packet(&mut conn.tx, &ServerPacket::LoginRejected(reason));
        let _ = conn.stream.set_nonblocking(false);
        let _ = conn
            .stream
            .set_write_timeout(Some(Duration::from_millis(100)));
        let _ = conn.stream.write_all(&conn.tx);
        conn.tx.clear();
        let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        conn.state = State::Closing;
    }

    /// Sends End of Session to every logged-in client and closes.
    pub fn end_session(&mut self, venue: &mut SimVenue) {
        for i in 0..self.conns.len() {
            // Flush the rest of the stream first.
            self.service(i, venue, venue.now(), Instant::now());
            let conn = &mut self.conns[i];
            if matches!(conn.state, State::LoggedIn { .. }) {
                push_packet(&mut conn.tx, &ServerPacket::EndOfSession);
                let _ = conn.stream.set_nonblocking(false);
                let _ = conn
                    .stream
                    .set_write_timeout(Some(Duration::from_millis(500)));
                let _ = conn.stream.write_all(&conn.tx);
                conn.tx.clear();
                let _ = conn.stream.shutdown(std::net::Shutdown::Write);
                conn.state = State::Closing;
            }
        }
    }

    /// The peers of logged-in connections.
    pub fn peers(&self) -> Vec<SocketAddr> {
        self.conns.iter().map(|c| c.peer).collect()
    }
}

fn push_packet(tx: &mut Vec<u8>, p: &ServerPacket<'_>) {
    let mut buf = [0u8; 64];
    if let Ok(n) = p.encode(&mut buf) {
        tx.extend_from_slice(&buf[..n]);
    }
}
