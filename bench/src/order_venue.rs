//! A minimal SoupBinTCP 3.00 / OUCH 4.2 venue for latency benchmarks: one blocking thread that
//! accepts a login and answers every Enter Order with an Accepted at once (no matching, so the
//! figures are the client's path and the loopback, not a matching engine's).

use kestrel_gateway::ouch::{
    Accepted, ClientMessage, ClientMessageView, OrderState, ServerMessage,
};
use kestrel_gateway::soupbin::{ClientPacket, LoginAccepted, RecvBuffer, ServerPacket, SessionId};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;

/// How the venue answers an Enter Order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Accepted, live (the order stays open).
    Live,
    /// Accepted, already dead (an IOC that did not execute: the order is done at once).
    Dead,
}

/// A running bench venue.
#[derive(Debug)]
pub struct BenchVenue {
    /// Where it listens.
    pub addr: SocketAddr,
    thread: Option<JoinHandle<u64>>,
}

impl BenchVenue {
    /// Starts the venue on a loopback port; it serves one connection (all its logins) and
    /// ends when the client closes it.
    pub fn start(answer: Answer, core: Option<usize>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let thread = std::thread::Builder::new()
            .name("bench-venue".into())
            .spawn(move || {
                if let Some(c) = core {
                    kestrel_core::cpu::pin_current_thread(c);
                }
                match listener.accept() {
                    Ok((s, _)) => serve(s, answer),
                    Err(_) => 0,
                }
            })?;
        Ok(Self {
            addr,
            thread: Some(thread),
        })
    }

    /// Waits for the connection to end; returns the orders answered.
    pub fn join(mut self) -> u64 {
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

fn serve(mut s: TcpStream, answer: Answer) -> u64 {
    let _ = s.set_nodelay(true);
    let mut recv = RecvBuffer::new(0);
    let mut buf = [0u8; 65_536];
    let mut out = Vec::with_capacity(1 << 16);
    let mut seq = 1u64;
    let mut answered = 0u64;
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return answered,
            Ok(n) => n,
        };
        recv.extend_from_slice(&buf[..n]);
        out.clear();
        while let Ok(Some(p)) = recv.next_packet() {
            let Ok(pkt) = ClientPacket::decode(p) else {
                return answered;
            };
            let mut b = [0u8; 128];
            match pkt {
                ClientPacket::LoginRequest(l) => {
                    if l.sequence > 0 {
                        seq = l.sequence;
                    }
                    let reply = ServerPacket::LoginAccepted(LoginAccepted {
                        session: SessionId::new("BENCH").unwrap_or(SessionId::BLANK),
                        sequence: seq,
                    });
                    if let Ok(n) = reply.encode(&mut b) {
                        out.extend_from_slice(&b[..n]);
                    }
                }
                ClientPacket::UnsequencedData(bytes) => {
                    if let Ok(ClientMessage::EnterOrder(e)) =
                        ClientMessageView::decode(bytes).map(|v| v.to_msg())
                    {
                        let msg = ServerMessage::Accepted(Accepted {
                            order_state: match answer {
                                Answer::Live => OrderState::Live,
                                Answer::Dead => OrderState::Dead,
                            },
                            ..Accepted::live(&e, 0, seq)
                        });
                        let mut m = [0u8; 80];
                        if let Ok(len) = msg.encode(&mut m)
                            && let Ok(n) = ServerPacket::SequencedData(&m[..len]).encode(&mut b)
                        {
                            out.extend_from_slice(&b[..n]);
                            seq += 1;
                            answered += 1;
                        }
                    }
                }
                ClientPacket::LogoutRequest => return answered,
                ClientPacket::Heartbeat | ClientPacket::Debug(_) => {}
            }
        }
        if !out.is_empty() && s.write_all(&out).is_err() {
            return answered;
        }
    }
}
