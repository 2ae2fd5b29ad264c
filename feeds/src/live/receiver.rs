//! [`LiveFeed`]: MoldUDP64 off the wire, in order, with gaps re-requested.

use std::net::SocketAddr;

use kestrel_core::Timestamp;
use kestrel_core::clock::Clock;

use super::socket::{FeedSocket, ListenAddr};
use crate::moldudp64::{
    HEADER_LEN, MAX_REORDER_PACKETS, MoldPacket, MoldRequest, MoldSequencer, MoldSession,
    PacketKind, PacketOutcome, SeqEvent, SeqRange, SequencerConfig, SequencerStats,
};

/// How gaps are recovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapPolicy {
    /// The retransmission server (`None`: gaps are only waited for, then declared lost).
    pub retrans: Option<SocketAddr>,
    /// Re-send a request when the gap is still open after this long, nanoseconds.
    pub retry_ns: u64,
    /// Declare the gap lost after this long, nanoseconds.
    pub timeout_ns: u64,
    /// Most messages asked for in one request.
    pub max_request: u16,
}

impl Default for GapPolicy {
    fn default() -> Self {
        Self {
            retrans: None,
            retry_ns: 20_000_000,
            timeout_ns: 2_000_000_000,
            max_request: 1000,
        }
    }
}

/// What the feed hands over, in sequence order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// The next message of the session.
    Message {
        /// The MoldUDP64 session.
        session: MoldSession,
        /// Receive time of the datagram that carried (or released) it.
        recv_ts: Timestamp,
        /// Its sequence number.
        seq: u64,
        /// Its bytes.
        payload: &'a [u8],
    },
    /// These messages will never come: the books are no longer valid.
    Lost(SeqRange),
}

/// Live feed counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Datagrams received on the feed socket.
    pub datagrams: u64,
    /// Datagrams received from the retransmission server.
    pub retrans_datagrams: u64,
    /// Bytes received (both sockets).
    pub bytes: u64,
    /// Re-requests sent.
    pub requests_sent: u64,
    /// Gaps seen.
    pub gaps_opened: u64,
    /// Gaps filled (by re-request or late packets).
    pub gaps_filled: u64,
    /// Gaps declared lost.
    pub gaps_lost: u64,
    /// Receive errors (other than "nothing waiting").
    pub recv_errors: u64,
    /// Sequencer counters.
    pub sequencer: SequencerStats,
}

#[derive(Clone, Copy, Debug)]
struct OpenGap {
    range: SeqRange,
    opened_ns: u64,
    last_request_ns: u64,
}

/// A MoldUDP64 session off a UDP socket. See the module docs of [`live`](super).
#[derive(Debug)]
pub struct LiveFeed<C> {
    feed: FeedSocket,
    retrans: Option<FeedSocket>,
    policy: GapPolicy,
    sequencer: MoldSequencer,
    clock: C,
    buf: Box<[u8]>,
    session: Option<MoldSession>,
    gap: Option<OpenGap>,
    lost_any: bool,
    ended: bool,
    /// An End of Session packet held back while messages before it are still missing.
    held_eos: Option<[u8; HEADER_LEN]>,
    stats: LiveStats,
}

/// Datagrams read per socket per poll before the gap check runs.
const BATCH: usize = 64;

impl<C: Clock> LiveFeed<C> {
    /// Listens on `listen`, stamping with `clock`, recovering gaps per `policy`. Sessions
    /// start at sequence 1: a receiver that starts late re-requests what it missed.
    pub fn bind(listen: ListenAddr, policy: GapPolicy, clock: C) -> std::io::Result<Self> {
        let feed = FeedSocket::bind(listen)?;
        let retrans = match policy.retrans {
            Some(_) => Some(FeedSocket::ephemeral()?),
            None => None,
        };
        Ok(Self {
            feed,
            retrans,
            policy,
            sequencer: MoldSequencer::new(SequencerConfig {
                reorder_packets: MAX_REORDER_PACKETS,
                slot_bytes: 1500,
                first_expected: Some(1),
                // Gaps are timed here, per `GapPolicy` (re-requests first).
                gap_timeout_ns: None,
            }),
            clock,
            buf: vec![0u8; 65_536].into_boxed_slice(),
            session: None,
            gap: None,
            lost_any: false,
            ended: false,
            held_eos: None,
            stats: LiveStats::default(),
        })
    }

    /// Points gap re-requests at `addr` (the retransmission server may only be known after
    /// the feed socket is bound).
    pub fn set_retrans(&mut self, addr: SocketAddr) -> std::io::Result<()> {
        if self.retrans.is_none() {
            self.retrans = Some(FeedSocket::ephemeral()?);
        }
        self.policy.retrans = Some(addr);
        Ok(())
    }

    /// The feed socket's address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.feed.local_addr()
    }

    /// Counters.
    pub fn stats(&self) -> LiveStats {
        LiveStats {
            sequencer: self.sequencer.stats(),
            ..self.stats
        }
    }

    /// Whether the books built from this feed are valid: no gap open and none lost.
    pub fn is_valid(&self) -> bool {
        self.gap.is_none() && !self.lost_any
    }

    /// Whether a gap is waiting to be filled.
    pub fn gap_open(&self) -> Option<SeqRange> {
        self.gap.map(|g| g.range)
    }

    /// Whether the session ended (End of Session received and nothing held).
    pub fn ended(&self) -> bool {
        self.ended && self.gap.is_none()
    }

    /// The MoldUDP64 session, once a packet was seen.
    pub fn session(&self) -> Option<MoldSession> {
        self.session
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Reads what is waiting on both sockets, delivers the messages now in order to `on`, and
    /// re-requests or gives up on an open gap. Never blocks. Returns the datagrams read.
    pub fn poll<F: FnMut(Delivery<'_>)>(&mut self, on: &mut F) -> usize {
        let mut read = 0;
        for from_retrans in [false, true] {
            for _ in 0..BATCH {
                let socket = if from_retrans {
                    match &self.retrans {
                        Some(s) => s,
                        None => break,
                    }
                } else {
                    &self.feed
                };
                let (n, ts) = match socket.recv(&mut self.buf, &self.clock) {
                    Ok(Some((n, ts, _))) => (n, ts),
                    Ok(None) => break,
                    Err(_) => {
                        self.stats.recv_errors += 1;
                        break;
                    }
                };
                read += 1;
                self.stats.bytes += n as u64;
                if from_retrans {
                    self.stats.retrans_datagrams += 1;
                } else {
                    self.stats.datagrams += 1;
                }
                let mut datagram = &self.buf[..n];
                let heartbeat;
                if let Ok(p) = MoldPacket::parse(datagram) {
                    if self.session.is_none() {
                        self.session = Some(p.session());
                    }
                    if p.kind() == PacketKind::EndOfSession {
                        // Hold End of Session back: messages before it may still be missing
                        // (the sequencer would declare them lost). A heartbeat with its
                        // sequence tells the sequencer how far the session went.
                        let mut eos = [0u8; HEADER_LEN];
                        eos.copy_from_slice(&datagram[..HEADER_LEN]);
                        self.held_eos = Some(eos);
                        let mut hb = eos;
                        hb[18] = 0;
                        hb[19] = 0;
                        heartbeat = hb;
                        datagram = &heartbeat;
                    }
                }
                let session = self.session.unwrap_or(MoldSession([b' '; 10]));
                let lost_any = &mut self.lost_any;
                let outcome = self.sequencer.on_packet(datagram, |ev| {
                    deliver(ev, session, ts, lost_any, on);
                });
                if let Ok(PacketOutcome::EndOfSession) = outcome {
                    self.ended = true;
                }
            }
        }
        self.check_gap(on);
        read
    }

    fn check_gap<F: FnMut(Delivery<'_>)>(&mut self, on: &mut F) {
        let now = self.clock.now().nanos();
        self.release_eos(on);
        match (self.sequencer.pending_gap(), self.gap) {
            (None, Some(_)) => {
                self.stats.gaps_filled += 1;
                self.gap = None;
            }
            (None, None) => {}
            (Some(range), open) => {
                let fresh = open.is_none_or(|g| g.range.first != range.first);
                if fresh {
                    if open.is_some() {
                        // The earlier gap closed and a new one opened between two polls.
                        self.stats.gaps_filled += 1;
                    }
                    self.stats.gaps_opened += 1;
                    self.gap = Some(OpenGap {
                        range,
                        opened_ns: now,
                        last_request_ns: 0,
                    });
                }
                let Some(mut g) = self.gap else { return };
                g.range = range;
                if now.saturating_sub(g.opened_ns) >= self.policy.timeout_ns {
                    // Give up: deliver what is held, the books are no longer valid.
                    self.stats.gaps_lost += 1;
                    let session = self.session.unwrap_or(MoldSession([b' '; 10]));
                    let lost_any = &mut self.lost_any;
                    self.sequencer
                        .flush(&mut |ev| deliver(ev, session, Timestamp(now), lost_any, on));
                    self.lost_any = true;
                    self.gap = None;
                    self.release_eos(on);
                    return;
                }
                if fresh || now.saturating_sub(g.last_request_ns) >= self.policy.retry_ns {
                    self.request(range);
                    g.last_request_ns = now;
                }
                self.gap = Some(g);
            }
        }
    }

    /// Passes a held End of Session to the sequencer once nothing before it is missing.
    fn release_eos<F: FnMut(Delivery<'_>)>(&mut self, on: &mut F) {
        let Some(eos) = self.held_eos else { return };
        if self.sequencer.pending_gap().is_some() {
            return;
        }
        self.held_eos = None;
        let now = self.clock.now();
        let session = self.session.unwrap_or(MoldSession([b' '; 10]));
        let lost_any = &mut self.lost_any;
        let outcome = self
            .sequencer
            .on_packet(&eos, |ev| deliver(ev, session, now, lost_any, on));
        if let Ok(PacketOutcome::EndOfSession) = outcome {
            self.ended = true;
        }
    }

    fn request(&mut self, range: SeqRange) {
        let (Some(socket), Some(to), Some(session)) =
            (&self.retrans, self.policy.retrans, self.session)
        else {
            return;
        };
        let count = range.len().min(u64::from(self.policy.max_request)).max(1) as u16;
        let req = MoldRequest {
            session,
            sequence: range.first,
            count,
        };
        if socket.send_to(&req.encode(), to).is_ok() {
            self.stats.requests_sent += 1;
        }
    }

    /// Ends the feed: an open gap is declared lost and held messages are delivered.
    pub fn finish<F: FnMut(Delivery<'_>)>(&mut self, on: &mut F) {
        let now = self.clock.now();
        self.held_eos = None;
        let session = self.session.unwrap_or(MoldSession([b' '; 10]));
        let lost_any = &mut self.lost_any;
        self.sequencer
            .flush(&mut |ev| deliver(ev, session, now, lost_any, on));
        if self.gap.take().is_some() {
            self.stats.gaps_lost += 1;
        }
    }
}

fn deliver<F: FnMut(Delivery<'_>)>(
    ev: SeqEvent<'_>,
    session: MoldSession,
    ts: Timestamp,
    lost_any: &mut bool,
    on: &mut F,
) {
    match ev {
        SeqEvent::Message { seq, payload } => on(Delivery::Message {
            session,
            recv_ts: ts,
            seq,
            payload,
        }),
        SeqEvent::Lost(range) => {
            *lost_any = true;
            on(Delivery::Lost(range));
        }
        SeqEvent::SessionChanged { .. } => {}
    }
}
