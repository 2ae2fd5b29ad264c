//! Order round trip on loopback, without coordinated omission: orders go out at a fixed rate
//! and each one's latency runs from the time it was *meant* to be sent to the moment its
//! Accepted came back, so a stalled client or venue shows up in the tail instead of slowing
//! the schedule. Two clients against the same minimal venue, in the same run:
//!
//! - **kestrel**: the gateway's SoupBinTCP session (`SoupClient`, non-blocking mio socket,
//!   busy-polled), OUCH encode/decode from the crate;
//! - **baseline**: a plain blocking `std::net::TcpStream`, one write then a blocking read of
//!   the answer per order, the same bytes.
//!
//! `cargo bench -p kestrel-bench --bench order_roundtrip -- [orders] [rate_per_s] [client_core] [venue_core]`
//! (defaults 50000 orders at 10000/s, cores 0 and 1).

use kestrel_bench::args::positional as arg;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use kestrel_bench::latency_table::{print_header, print_row};
use kestrel_bench::order_venue::{Answer, BenchVenue};
use kestrel_core::Timestamp;
use kestrel_core::latency::{Histogram, new_histogram};
use kestrel_gateway::ouch::{
    BuySell, ClientMessage, EnterOrder, Firm, IsoEligibility, Price4, ServerMessage,
    ServerMessageView, Stock, Token,
};
use kestrel_gateway::session::{Credentials, SessionConfig, SoupClient};
use kestrel_gateway::soupbin::{ClientPacket, LoginRequest, RecvBuffer, ServerPacket, SessionId};
use kestrel_gateway::venue::{Venue, VenueHandler, VenueStatus};

fn order(i: u64) -> EnterOrder {
    let mut t = *b"RT000000000000";
    let digits = format!("{i:012}");
    t[2..].copy_from_slice(digits.as_bytes());
    EnterOrder {
        token: Token(t),
        side: BuySell::Buy,
        shares: 100,
        stock: Stock::new("AAPL").unwrap_or_default(),
        price: Price4(1_502_500),
        time_in_force: 0,
        firm: Firm::BLANK,
        display: b'Y',
        capacity: b'P',
        iso: IsoEligibility::NotEligible,
        min_qty: 0,
        cross_type: b'N',
        customer_type: b' ',
    }
}

fn token_index(t: &Token) -> Option<usize> {
    std::str::from_utf8(&t.0[2..]).ok()?.parse().ok()
}

struct Acks<'a> {
    intended: &'a [u64],
    start: Instant,
    hist: &'a mut Histogram<u64>,
    got: u64,
}

impl VenueHandler for Acks<'_> {
    fn on_message(&mut self, _seq: u64, msg: &ServerMessage, _now: Timestamp) {
        if let ServerMessage::Accepted(a) = msg
            && let Some(i) = token_index(&a.token)
        {
            let now = self.start.elapsed().as_nanos() as u64;
            self.hist
                .saturating_record(now.saturating_sub(self.intended[i]).max(1));
            self.got += 1;
        }
    }
}

fn kestrel_client(orders: u64, period_ns: u64, core: Option<usize>) -> Histogram<u64> {
    let venue = BenchVenue::start(Answer::Live, arg(3, 1).try_into().ok()).expect("venue");
    if let Some(c) = core {
        kestrel_core::cpu::pin_current_thread(c);
    }
    let creds = Credentials::new("BENCH", "pw").expect("credentials");
    let mut client = SoupClient::new(SessionConfig::new(venue.addr, creds));
    let start = Instant::now();
    let intended: Vec<u64> = (0..orders).map(|i| 1_000_000_000 + i * period_ns).collect();
    let mut hist = new_histogram();
    let mut acks = Acks {
        intended: &intended,
        start,
        hist: &mut hist,
        got: 0,
    };
    let now = |s: &Instant| Timestamp(s.elapsed().as_nanos() as u64);
    while client.status() != VenueStatus::Ready {
        client.poll(now(&start), &mut acks);
        assert!(start.elapsed().as_secs() < 5, "login");
    }
    let mut next = 0usize;
    while acks.got < orders {
        let t = start.elapsed().as_nanos() as u64;
        if next < intended.len() && t >= intended[next] {
            let m = ClientMessage::EnterOrder(order(next as u64));
            client.send(&m, Timestamp(t)).expect("send");
            next += 1;
        }
        client.poll(now(&start), &mut acks);
        assert!(start.elapsed().as_secs() < 600, "timed out");
    }
    let mut quiet = Acks {
        intended: &intended,
        start,
        hist: &mut new_histogram(),
        got: 0,
    };
    client.logout(now(&start), &mut quiet);
    venue.join();
    hist
}

fn baseline_client(orders: u64, period_ns: u64, core: Option<usize>) -> Histogram<u64> {
    let venue = BenchVenue::start(Answer::Live, arg(3, 1).try_into().ok()).expect("venue");
    if let Some(c) = core {
        kestrel_core::cpu::pin_current_thread(c);
    }
    let mut s = TcpStream::connect(venue.addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut b = [0u8; 256];
    let login = ClientPacket::LoginRequest(LoginRequest {
        username: kestrel_gateway::soupbin::Username::new("BENCH").expect("user"),
        password: kestrel_gateway::soupbin::Password::new("pw").expect("pw"),
        session: SessionId::BLANK,
        sequence: 1,
    });
    let n = login.encode(&mut b).expect("login");
    s.write_all(&b[..n]).expect("login");
    let mut recv = RecvBuffer::new(0);
    let mut rbuf = [0u8; 4096];
    // Wait for Login Accepted.
    'login: loop {
        let n = s.read(&mut rbuf).expect("read");
        recv.extend_from_slice(&rbuf[..n]);
        while let Ok(Some(p)) = recv.next_packet() {
            if matches!(ServerPacket::decode(p), Ok(ServerPacket::LoginAccepted(_))) {
                break 'login;
            }
        }
    }
    let start = Instant::now();
    let mut hist = new_histogram();
    for i in 0..orders {
        let intended = 1_000_000_000 + i * period_ns;
        while (start.elapsed().as_nanos() as u64) < intended {
            std::hint::spin_loop();
        }
        let mut pkt = [0u8; 64];
        let m = ClientMessage::EnterOrder(order(i));
        let payload =
            kestrel_gateway::soupbin::encode_data(&mut pkt, b'U', m.encoded_len()).expect("header");
        m.encode(payload).expect("encode");
        s.write_all(&pkt[..3 + m.encoded_len()]).expect("write");
        'ack: loop {
            while let Ok(Some(p)) = recv.next_packet() {
                if let Ok(ServerPacket::SequencedData(d)) = ServerPacket::decode(p)
                    && let Ok(v) = ServerMessageView::decode(d)
                    && matches!(v.to_msg(), ServerMessage::Accepted(_))
                {
                    break 'ack;
                }
            }
            let n = s.read(&mut rbuf).expect("read");
            recv.extend_from_slice(&rbuf[..n]);
        }
        let now = start.elapsed().as_nanos() as u64;
        hist.saturating_record(now.saturating_sub(intended).max(1));
    }
    let n = ClientPacket::LogoutRequest.encode(&mut b).expect("logout");
    let _ = s.write_all(&b[..n]);
    drop(s);
    venue.join();
    hist
}

fn main() {
    let orders = arg(0, 50_000);
    let rate = arg(1, 10_000).max(1);
    let core = arg(2, 0).try_into().ok();
    let period = 1_000_000_000 / rate;
    println!(
        "order round trip on loopback (Enter Order out, Accepted back), {orders} orders at {rate}/s, latency from the intended send time (no coordinated omission), us"
    );
    print_header("client", "count");
    let k = kestrel_client(orders, period, core);
    print_row("kestrel", &k);
    let b = baseline_client(orders, period, core);
    print_row("baseline", &b);
}
