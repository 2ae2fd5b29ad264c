//! A minimal SoupBinTCP 3.00 / OUCH 4.2 server built from the crate's own codecs, for session
//! tests until (and beside) the simulated exchange: it checks logins, keeps one sequenced
//! stream that a client can re-join at any sequence number, accepts and fills orders, and
//! injects faults on demand (raw bytes, dropped connections, silence, a rewound login).
#![allow(dead_code)]

use kestrel_gateway::ouch::{
    Accepted, Canceled, ClientMessage, ClientMessageView, Executed, OrderState, ServerMessage,
};
use kestrel_gateway::soupbin::{
    ClientPacket, LoginAccepted, RecvBuffer, RejectReason, ServerPacket, SessionId,
};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Control {
    pub username: String,
    pub password: String,
    pub session: String,
    /// Every sequenced message, as OUCH bytes (index 0 = sequence 1).
    pub stream: Vec<Vec<u8>>,
    /// Fill every accepted order at once, in full.
    pub auto_fill: bool,
    /// Raw bytes to write to the current connection (then cleared).
    pub inject: Option<Vec<u8>>,
    /// Close the current connection.
    pub drop_now: bool,
    /// Stop sending heartbeats.
    pub silent: bool,
    /// On the next login, answer with a sequence this much lower than requested.
    pub rewind_next_login: u64,
    pub logins: u64,
    pub login_rejects: u64,
    pub client_heartbeats: u64,
    pub orders: u64,
    pub duplicate_tokens: u64,
    pub stop: bool,
    tokens: HashSet<[u8; 14]>,
    match_number: u64,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub control: Arc<Mutex<Control>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start(username: &str, password: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let control = Arc::new(Mutex::new(Control {
            username: username.into(),
            password: password.into(),
            session: "TEST".into(),
            auto_fill: true,
            ..Control::default()
        }));
        let c = control.clone();
        let thread = std::thread::spawn(move || serve(listener, c));
        Self {
            addr,
            control,
            thread: Some(thread),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Control) -> R) -> R {
        f(&mut self.control.lock().unwrap())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.with(|c| c.stop = true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn packet(p: &ServerPacket<'_>) -> Vec<u8> {
    let mut b = vec![0u8; 512];
    let n = p.encode(&mut b).unwrap();
    b.truncate(n);
    b
}

fn serve(listener: TcpListener, control: Arc<Mutex<Control>>) {
    loop {
        if control.lock().unwrap().stop {
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => connection(stream, &control),
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

fn connection(mut stream: TcpStream, control: &Arc<Mutex<Control>>) {
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(2)))
        .unwrap();
    let mut recv = RecvBuffer::new(0);
    let mut logged_in = false;
    let mut sent_upto = 0usize; // stream index of the next message to send
    let mut last_hb = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        {
            let mut c = control.lock().unwrap();
            if c.stop || c.drop_now {
                c.drop_now = false;
                return;
            }
            if let Some(raw) = c.inject.take()
                && stream.write_all(&raw).is_err()
            {
                return;
            }
            if logged_in {
                while sent_upto < c.stream.len() {
                    let p = packet(&ServerPacket::SequencedData(&c.stream[sent_upto]));
                    if stream.write_all(&p).is_err() {
                        return;
                    }
                    sent_upto += 1;
                }
                if !c.silent && last_hb.elapsed() > Duration::from_millis(100) {
                    last_hb = Instant::now();
                    if stream.write_all(&packet(&ServerPacket::Heartbeat)).is_err() {
                        return;
                    }
                }
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                recv.extend_from_slice(&buf[..n]);
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
        while let Ok(Some(p)) = recv.next_packet() {
            let Ok(pkt) = ClientPacket::decode(p) else {
                return;
            };
            let mut c = control.lock().unwrap();
            match pkt {
                ClientPacket::LoginRequest(l) => {
                    if l.username.as_str() != c.username
                        || !l
                            .password
                            .matches(&kestrel_gateway::soupbin::Password::new(&c.password).unwrap())
                    {
                        c.login_rejects += 1;
                        let _ = stream.write_all(&packet(&ServerPacket::LoginRejected(
                            RejectReason::NotAuthorized,
                        )));
                        return;
                    }
                    if !l.session.is_blank() && l.session.as_str() != c.session {
                        c.login_rejects += 1;
                        let _ = stream.write_all(&packet(&ServerPacket::LoginRejected(
                            RejectReason::SessionNotAvailable,
                        )));
                        return;
                    }
                    let next = c.stream.len() as u64 + 1;
                    let mut seq = if l.sequence == 0 {
                        next
                    } else {
                        l.sequence.min(next)
                    };
                    seq = seq.saturating_sub(c.rewind_next_login).max(1);
                    c.rewind_next_login = 0;
                    c.logins += 1;
                    sent_upto = (seq - 1) as usize;
                    logged_in = true;
                    let acc = packet(&ServerPacket::LoginAccepted(LoginAccepted {
                        session: SessionId::new(&c.session).unwrap(),
                        sequence: seq,
                    }));
                    if stream.write_all(&acc).is_err() {
                        return;
                    }
                }
                ClientPacket::Heartbeat => c.client_heartbeats += 1,
                ClientPacket::LogoutRequest => return,
                ClientPacket::Debug(_) => {}
                ClientPacket::UnsequencedData(bytes) => {
                    let Ok(view) = ClientMessageView::decode(bytes) else {
                        return;
                    };
                    on_order(&mut c, view.to_msg());
                }
            }
        }
    }
}

fn push(c: &mut Control, m: ServerMessage) {
    let mut b = vec![0u8; 128];
    let n = m.encode(&mut b).unwrap();
    b.truncate(n);
    c.stream.push(b);
}

fn on_order(c: &mut Control, m: ClientMessage) {
    match m {
        ClientMessage::EnterOrder(e) => {
            if !c.tokens.insert(e.token.0) {
                c.duplicate_tokens += 1;
                return;
            }
            c.orders += 1;
            push(
                c,
                ServerMessage::Accepted(Accepted {
                    timestamp: 1,
                    token: e.token,
                    side: e.side,
                    shares: e.shares,
                    stock: e.stock,
                    price: e.price,
                    time_in_force: e.time_in_force,
                    firm: e.firm,
                    display: e.display,
                    order_ref: c.orders,
                    capacity: e.capacity,
                    iso: e.iso,
                    min_qty: e.min_qty,
                    cross_type: e.cross_type,
                    order_state: OrderState::Live,
                    bbo_weight: b' ',
                }),
            );
            if c.auto_fill {
                c.match_number += 1;
                let mn = c.match_number;
                push(
                    c,
                    ServerMessage::Executed(Executed {
                        timestamp: 2,
                        token: e.token,
                        executed_shares: e.shares,
                        execution_price: e.price,
                        liquidity_flag: b'R',
                        match_number: mn,
                    }),
                );
            }
        }
        ClientMessage::CancelOrder(x) => push(
            c,
            ServerMessage::Canceled(Canceled {
                timestamp: 3,
                token: x.token,
                decrement_shares: 0,
                reason: b'U',
            }),
        ),
        _ => {}
    }
}
