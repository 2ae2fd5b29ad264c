//! The SoupBinTCP 3.00 client session over non-blocking `mio` TCP, busy-polled by the gateway
//! thread: login, heartbeats both ways, silence timeout, reconnect with back-off, and a login
//! at the next expected sequence number after every reconnect so that no sequenced message is
//! missed or applied twice. It is the live [`Venue`].
//!
//! Nothing here blocks: `connect` is non-blocking, reads stop at `WouldBlock`, and a write the
//! socket does not take whole is queued and finished on later polls (bounded; a full queue is
//! backpressure the caller sees).

use super::backoff::Backoff;
use super::credentials::Credentials;
use crate::ouch::{ClientMessage, MAX_MESSAGE_LEN, ServerMessageView};
use crate::soupbin::{
    ClientPacket, HEADER_LEN, HEARTBEAT_INTERVAL_NS, LoginRequest, RecvBuffer, RejectReason,
    SILENCE_TIMEOUT_NS, ServerPacket, SessionId, SoupError, encode_data, packet_type,
};
use crate::venue::{DownReason, LinkEvent, Venue, VenueError, VenueHandler, VenueStatus};
use kestrel_core::Timestamp;
use mio::net::TcpStream;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// Session settings.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// The venue's order-entry address.
    pub addr: SocketAddr,
    /// Username and password (the password is redacted in `Debug`).
    pub credentials: Credentials,
    /// Session to log into (blank: the current one).
    pub session: SessionId,
    /// Sequence number of the next venue message to receive (1 for a fresh session; the
    /// journal's last applied + 1 after a restart).
    pub next_seq: u64,
    /// Send a heartbeat after this long without sending.
    pub heartbeat_interval_ns: u64,
    /// Drop the link after this long without receiving.
    pub silence_timeout_ns: u64,
    /// Give up a connection attempt after this long.
    pub connect_timeout_ns: u64,
    /// Give up waiting for Login Accepted after this long.
    pub login_timeout_ns: u64,
    /// First reconnect delay.
    pub backoff_initial_ns: u64,
    /// Largest reconnect delay.
    pub backoff_max_ns: u64,
    /// Bytes of outgoing data queued when the socket does not take them at once.
    pub send_queue: usize,
    /// Reads per poll at most (keeps one poll short under a flood).
    pub reads_per_poll: u32,
}

impl SessionConfig {
    /// Defaults: SoupBinTCP's 1 s heartbeat and 15 s timeout, 2 s connect and login timeouts,
    /// back-off from 100 ms to 5 s, 1 MiB send queue.
    pub fn new(addr: SocketAddr, credentials: Credentials) -> Self {
        Self {
            addr,
            credentials,
            session: SessionId::BLANK,
            next_seq: 1,
            heartbeat_interval_ns: HEARTBEAT_INTERVAL_NS,
            silence_timeout_ns: SILENCE_TIMEOUT_NS,
            connect_timeout_ns: 2_000_000_000,
            login_timeout_ns: 2_000_000_000,
            backoff_initial_ns: 100_000_000,
            backoff_max_ns: 5_000_000_000,
            send_queue: 1 << 20,
            reads_per_poll: 16,
        }
    }
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Connection attempts.
    pub connects: u64,
    /// Logins accepted.
    pub logins: u64,
    /// Logins rejected.
    pub login_rejects: u64,
    /// Links lost (any reason).
    pub disconnects: u64,
    /// Malformed packets or messages from the venue (each tears the link down).
    pub protocol_errors: u64,
    /// Silence timeouts.
    pub timeouts: u64,
    /// Heartbeats sent.
    pub heartbeats_sent: u64,
    /// Heartbeats received.
    pub heartbeats_received: u64,
    /// Sequenced messages delivered.
    pub messages: u64,
    /// Sequenced messages received again after a re-login and skipped.
    pub duplicates_skipped: u64,
    /// Messages the venue said it will not send (Login Accepted beyond our next sequence).
    pub sequence_gap: u64,
    /// Sends refused for a full queue.
    pub backpressure: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
}

enum Link {
    /// Waiting to (re)connect at this time.
    Idle { retry_at: u64 },
    /// Connecting since.
    Connecting { stream: TcpStream, since: u64 },
    /// Login sent since.
    LoggingIn { stream: TcpStream, since: u64 },
    /// Logged in.
    Ready { stream: TcpStream },
    /// Over for good.
    Ended,
}

/// The client session.
pub struct SoupClient {
    cfg: SessionConfig,
    link: Link,
    recv: RecvBuffer,
    queue: Vec<u8>,
    queued_from: usize,
    backoff: Backoff,
    /// Sequence number of the next message to deliver.
    expected: u64,
    /// Sequence number the next Sequenced Data packet carries.
    incoming: u64,
    session: SessionId,
    last_recv: u64,
    last_send: u64,
    stats: SessionStats,
    last_error: Option<SoupError>,
    /// The last login reject was "not authorized": do not retry.
    last_reject_final: bool,
    /// A forced disconnect to report on the next poll.
    pending_down: bool,
}

/// A handler that ignores everything (for events reported later).
struct Quiet;

impl VenueHandler for Quiet {
    fn on_message(&mut self, _seq: u64, _msg: &crate::ouch::ServerMessage, _now: Timestamp) {}
}

impl std::fmt::Debug for SoupClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoupClient")
            .field("addr", &self.cfg.addr)
            .field("user", &self.cfg.credentials.username)
            .field("status", &self.status())
            .field("expected", &self.expected)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted
}

impl SoupClient {
    /// A session that connects on its first poll.
    pub fn new(cfg: SessionConfig) -> Self {
        Self {
            backoff: Backoff::new(cfg.backoff_initial_ns, cfg.backoff_max_ns),
            expected: cfg.next_seq.max(1),
            incoming: cfg.next_seq.max(1),
            session: cfg.session,
            recv: RecvBuffer::new(1 << 17),
            queue: Vec::with_capacity(cfg.send_queue),
            queued_from: 0,
            link: Link::Idle { retry_at: 0 },
            last_recv: 0,
            last_send: 0,
            stats: SessionStats::default(),
            last_error: None,
            last_reject_final: false,
            pending_down: false,
            cfg,
        }
    }

    /// Counters.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Sequence number of the next venue message this session will deliver.
    pub fn next_seq(&self) -> u64 {
        self.expected
    }

    /// The session logged into (blank before the first login).
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// The last protocol error that tore the link down.
    pub fn last_error(&self) -> Option<SoupError> {
        self.last_error
    }

    /// Drops the connection as a network failure would (tests, operator): the link-down event
    /// is reported on the next poll, and the session reconnects after its back-off, logging in
    /// at the next expected sequence number.
    pub fn force_disconnect(&mut self, now: Timestamp) {
        if matches!(
            self.link,
            Link::Ready { .. } | Link::LoggingIn { .. } | Link::Connecting { .. }
        ) {
            self.pending_down = true;
            let mut quiet = Quiet;
            self.down(now.nanos(), DownReason::Disconnected, &mut quiet);
        }
    }

    /// Sends Logout Request and ends the session.
    pub fn logout<H: VenueHandler>(&mut self, now: Timestamp, handler: &mut H) {
        if let Link::Ready { .. } = self.link {
            let mut b = [0u8; HEADER_LEN];
            if ClientPacket::LogoutRequest.encode(&mut b).is_ok() {
                let _ = self.write_bytes(&b, now.nanos());
                let _ = self.flush(now.nanos());
            }
        }
        if !matches!(self.link, Link::Ended) {
            self.link = Link::Ended;
            handler.on_link(
                LinkEvent::Down {
                    reason: DownReason::LoggedOut,
                },
                now,
            );
        }
    }

    /// Writes what is queued; `Err` on a broken socket.
    fn flush(&mut self, now: u64) -> io::Result<()> {
        while self.queued_from < self.queue.len() {
            let (from, to) = (self.queued_from, self.queue.len());
            let Some(stream) = (match &mut self.link {
                Link::LoggingIn { stream, .. } | Link::Ready { stream } => Some(stream),
                _ => None,
            }) else {
                return Ok(());
            };
            match stream.write(&self.queue[from..to]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.queued_from += n;
                    self.stats.bytes_out += n as u64;
                    self.last_send = now;
                }
                Err(e) if would_block(&e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        self.queue.clear();
        self.queued_from = 0;
        Ok(())
    }

    /// Writes one packet now, queueing what the socket does not take. `Err(true)` when the
    /// queue is full (nothing written), `Err(false)` on a broken socket.
    fn write_bytes(&mut self, bytes: &[u8], now: u64) -> Result<(), bool> {
        if self.queued_from < self.queue.len() {
            if self.queue.len() + bytes.len() > self.queue.capacity() {
                if self.queued_from > 0 {
                    self.queue.drain(..self.queued_from);
                    self.queued_from = 0;
                }
                if self.queue.len() + bytes.len() > self.queue.capacity() {
                    return Err(true);
                }
            }
            self.queue.extend_from_slice(bytes);
            return self.flush(now).map_err(|_| false);
        }
        let Some(stream) = (match &mut self.link {
            Link::LoggingIn { stream, .. } | Link::Ready { stream } => Some(stream),
            _ => None,
        }) else {
            return Err(false);
        };
        match stream.write(bytes) {
            Ok(n) => {
                self.stats.bytes_out += n as u64;
                self.last_send = now;
                if n < bytes.len() {
                    self.queue.clear();
                    self.queued_from = 0;
                    self.queue.extend_from_slice(&bytes[n..]);
                }
                Ok(())
            }
            Err(e) if would_block(&e) => {
                self.queue.clear();
                self.queued_from = 0;
                self.queue.extend_from_slice(bytes);
                Ok(())
            }
            Err(_) => Err(false),
        }
    }

    fn down<H: VenueHandler>(&mut self, now: u64, reason: DownReason, handler: &mut H) {
        let was_up = matches!(self.link, Link::Ready { .. });
        let ended = matches!(reason, DownReason::EndOfSession | DownReason::LoggedOut)
            || (reason == DownReason::LoginRejected && self.last_reject_final);
        self.stats.disconnects += u64::from(!matches!(self.link, Link::Idle { .. } | Link::Ended));
        self.recv.clear();
        self.queue.clear();
        self.queued_from = 0;
        // Whatever arrives next starts from the first message not yet delivered.
        self.incoming = self.expected;
        self.link = if ended {
            Link::Ended
        } else {
            Link::Idle {
                retry_at: now.saturating_add(self.backoff.next_delay()),
            }
        };
        if was_up || ended || reason != DownReason::Disconnected {
            handler.on_link(LinkEvent::Down { reason }, Timestamp(now));
        }
    }

    fn start_connect(&mut self, now: u64) {
        self.stats.connects += 1;
        match TcpStream::connect(self.cfg.addr) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                self.link = Link::Connecting { stream, since: now };
            }
            Err(_) => {
                self.link = Link::Idle {
                    retry_at: now.saturating_add(self.backoff.next_delay()),
                };
            }
        }
    }

    fn send_login(&mut self, now: u64) -> bool {
        let login = ClientPacket::LoginRequest(LoginRequest {
            username: self.cfg.credentials.username,
            password: self.cfg.credentials.password.clone(),
            session: self.session,
            sequence: self.expected,
        });
        let mut b = [0u8; 64];
        let Ok(n) = login.encode(&mut b) else {
            return false;
        };
        self.write_bytes(&b[..n], now).is_ok()
    }

    /// Reads what is there and handles every whole packet. Returns messages delivered, or the
    /// reason to take the link down.
    fn read_and_dispatch<H: VenueHandler>(
        &mut self,
        now: u64,
        handler: &mut H,
    ) -> Result<usize, DownReason> {
        let mut delivered = 0;
        for _ in 0..self.cfg.reads_per_poll {
            let stream = match &mut self.link {
                Link::LoggingIn { stream, .. } | Link::Ready { stream } => stream,
                _ => return Ok(delivered),
            };
            let mut reader = ReadOnly(stream);
            let n = match self.recv.read_from(&mut reader) {
                Ok(0) => return Err(DownReason::Disconnected),
                Ok(n) => n,
                Err(e) if would_block(&e) => 0,
                Err(_) => return Err(DownReason::Disconnected),
            };
            if n > 0 {
                self.stats.bytes_in += n as u64;
                self.last_recv = now;
            }
            loop {
                let packet = match self.recv.next_packet() {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(e) => {
                        self.stats.protocol_errors += 1;
                        self.last_error = Some(e);
                        return Err(DownReason::ProtocolError);
                    }
                };
                let decoded = match ServerPacket::decode(packet) {
                    Ok(p) => p,
                    Err(e) => {
                        self.stats.protocol_errors += 1;
                        self.last_error = Some(e);
                        return Err(DownReason::ProtocolError);
                    }
                };
                match decoded {
                    ServerPacket::Debug(_) => {}
                    ServerPacket::Heartbeat => self.stats.heartbeats_received += 1,
                    ServerPacket::LoginAccepted(a) => {
                        if !matches!(self.link, Link::LoggingIn { .. }) {
                            self.stats.protocol_errors += 1;
                            return Err(DownReason::ProtocolError);
                        }
                        if a.sequence > self.expected {
                            // The venue will not send what we asked for: a gap we cannot fill.
                            self.stats.sequence_gap += a.sequence - self.expected;
                            self.expected = a.sequence;
                        }
                        self.incoming = a.sequence.max(1);
                        self.session = a.session;
                        self.stats.logins += 1;
                        self.backoff.reset();
                        self.last_recv = now;
                        let link = core::mem::replace(&mut self.link, Link::Ended);
                        if let Link::LoggingIn { stream, .. } = link {
                            self.link = Link::Ready { stream };
                        }
                        handler.on_link(
                            LinkEvent::Up {
                                session: a.session,
                                next_seq: self.expected,
                            },
                            Timestamp(now),
                        );
                    }
                    ServerPacket::LoginRejected(r) => {
                        self.stats.login_rejects += 1;
                        // Bad credentials will not get better by retrying.
                        self.last_reject_final = r == RejectReason::NotAuthorized;
                        return Err(DownReason::LoginRejected);
                    }
                    ServerPacket::EndOfSession => return Err(DownReason::EndOfSession),
                    ServerPacket::SequencedData(payload) => {
                        if !matches!(self.link, Link::Ready { .. }) {
                            self.stats.protocol_errors += 1;
                            return Err(DownReason::ProtocolError);
                        }
                        let seq = self.incoming;
                        match ServerMessageView::decode(payload) {
                            Ok(view) => {
                                self.incoming += 1;
                                if seq < self.expected {
                                    self.stats.duplicates_skipped += 1;
                                    continue;
                                }
                                let msg = view.to_msg();
                                self.expected = seq + 1;
                                self.stats.messages += 1;
                                delivered += 1;
                                handler.on_message(seq, &msg, Timestamp(now));
                            }
                            Err(_) => {
                                // Not applied: after the reconnect the venue sends it again.
                                self.stats.protocol_errors += 1;
                                self.last_error = Some(SoupError::BadLength {
                                    packet_type: packet_type::SEQUENCED_DATA,
                                    expected: 0,
                                    actual: payload.len(),
                                });
                                return Err(DownReason::ProtocolError);
                            }
                        }
                    }
                }
            }
            if n == 0 {
                break;
            }
        }
        Ok(delivered)
    }
}

/// `Read` over a borrowed `mio` stream.
struct ReadOnly<'a>(&'a mut TcpStream);

impl Read for ReadOnly<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Venue for SoupClient {
    fn send(&mut self, msg: &ClientMessage, now: Timestamp) -> Result<(), VenueError> {
        if !matches!(self.link, Link::Ready { .. }) {
            return Err(VenueError::NotReady(self.status()));
        }
        let mut b = [0u8; HEADER_LEN + MAX_MESSAGE_LEN];
        let len = msg.encoded_len();
        let payload = encode_data(&mut b, packet_type::UNSEQUENCED_DATA, len)
            .map_err(|_| VenueError::Encode)?;
        msg.encode(payload).map_err(|_| VenueError::Encode)?;
        match self.write_bytes(&b[..HEADER_LEN + len], now.nanos()) {
            Ok(()) => Ok(()),
            Err(true) => {
                self.stats.backpressure += 1;
                Err(VenueError::Backpressure {
                    queued: self.queue.len() - self.queued_from,
                })
            }
            // The socket broke: the next poll notices and reconnects; the message did not go.
            Err(false) => Err(VenueError::NotReady(VenueStatus::Connecting)),
        }
    }

    fn poll<H: VenueHandler>(&mut self, now: Timestamp, handler: &mut H) -> usize {
        let t = now.nanos();
        if self.pending_down {
            self.pending_down = false;
            handler.on_link(
                LinkEvent::Down {
                    reason: DownReason::Disconnected,
                },
                now,
            );
        }
        match &mut self.link {
            Link::Ended => return 0,
            Link::Idle { retry_at } => {
                if t < *retry_at {
                    return 0;
                }
                self.start_connect(t);
                return 0;
            }
            Link::Connecting { stream, since } => {
                let since = *since;
                if let Ok(Some(_)) | Err(_) = stream.take_error() {
                    self.down(t, DownReason::Disconnected, handler);
                    return 0;
                }
                match stream.peer_addr() {
                    Ok(_) => {
                        let link = core::mem::replace(&mut self.link, Link::Ended);
                        if let Link::Connecting { stream, .. } = link {
                            self.link = Link::LoggingIn { stream, since: t };
                        }
                        self.last_recv = t;
                        if !self.send_login(t) {
                            self.down(t, DownReason::Disconnected, handler);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotConnected || would_block(&e) => {
                        if t.saturating_sub(since) > self.cfg.connect_timeout_ns {
                            self.down(t, DownReason::Disconnected, handler);
                        }
                    }
                    Err(_) => self.down(t, DownReason::Disconnected, handler),
                }
                return 0;
            }
            Link::LoggingIn { since, .. } => {
                if t.saturating_sub(*since) > self.cfg.login_timeout_ns {
                    self.down(t, DownReason::HeartbeatTimeout, handler);
                    return 0;
                }
            }
            Link::Ready { .. } => {}
        }
        if self.flush(t).is_err() {
            self.down(t, DownReason::Disconnected, handler);
            return 0;
        }
        let delivered = match self.read_and_dispatch(t, handler) {
            Ok(n) => n,
            Err(reason) => {
                self.down(t, reason, handler);
                return 0;
            }
        };
        if let Link::Ready { .. } = self.link {
            if t.saturating_sub(self.last_recv) > self.cfg.silence_timeout_ns {
                self.stats.timeouts += 1;
                self.down(t, DownReason::HeartbeatTimeout, handler);
                return delivered;
            }
            if t.saturating_sub(self.last_send) >= self.cfg.heartbeat_interval_ns {
                let mut b = [0u8; HEADER_LEN];
                if ClientPacket::Heartbeat.encode(&mut b).is_ok() {
                    match self.write_bytes(&b, t) {
                        Ok(()) => self.stats.heartbeats_sent += 1,
                        Err(false) => self.down(t, DownReason::Disconnected, handler),
                        Err(true) => {}
                    }
                }
            }
        }
        delivered
    }

    fn status(&self) -> VenueStatus {
        match self.link {
            Link::Ready { .. } => VenueStatus::Ready,
            Link::Ended => VenueStatus::Ended,
            _ => VenueStatus::Connecting,
        }
    }
}
