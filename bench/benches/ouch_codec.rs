//! OUCH 4.2 codecs: Enter Order encode and Executed decode (the per-order and per-fill costs on
//! the gateway thread), beside a plain baseline in the same run: the same layout written with
//! per-field `Vec` pushes, and read back with per-field slice conversions and an owned `String`
//! token. Also the whole SoupBinTCP packet (header + message) as the session writes it.
//!
//! `cargo bench -p kestrel-bench --bench ouch_codec`

use criterion::{Criterion, criterion_group, criterion_main};
use kestrel_gateway::ouch::{
    BuySell, EnterOrder, Executed, ExecutedView, Firm, IsoEligibility, Price4, ServerMessage,
    ServerMessageView, Stock, Token,
};
use kestrel_gateway::soupbin::{HEADER_LEN, encode_data, packet_type};
use std::hint::black_box;

fn enter() -> EnterOrder {
    EnterOrder {
        token: Token::new("KSB00000123456").unwrap(),
        side: BuySell::Buy,
        shares: 100,
        stock: Stock::new("AAPL").unwrap(),
        price: Price4(1_502_500),
        time_in_force: 99_999,
        firm: Firm::new("KSTR").unwrap(),
        display: b'Y',
        capacity: b'P',
        iso: IsoEligibility::NotEligible,
        min_qty: 0,
        cross_type: b'N',
        customer_type: b' ',
    }
}

/// The baseline encoder: a fresh `Vec`, one push per field.
fn naive_encode(m: &EnterOrder) -> Vec<u8> {
    let mut v = Vec::new();
    v.push(b'O');
    v.extend_from_slice(&m.token.0);
    v.push(m.side.code());
    v.extend_from_slice(&m.shares.to_be_bytes());
    v.extend_from_slice(&m.stock.0);
    v.extend_from_slice(&m.price.0.to_be_bytes());
    v.extend_from_slice(&m.time_in_force.to_be_bytes());
    v.extend_from_slice(&m.firm.0);
    v.push(m.display);
    v.push(m.capacity);
    v.push(m.iso.code());
    v.extend_from_slice(&m.min_qty.to_be_bytes());
    v.push(m.cross_type);
    v.push(m.customer_type);
    v
}

/// The baseline decoder: per-field slices and an owned token string (read through `Debug`
/// only: the benchmark keeps it alive with `black_box`).
#[derive(Debug)]
#[allow(dead_code)]
struct NaiveExecuted {
    timestamp: u64,
    token: String,
    shares: u32,
    price: u32,
    flag: u8,
    match_number: u64,
}

fn naive_decode(b: &[u8]) -> Option<NaiveExecuted> {
    if b.len() != 40 || b[0] != b'E' {
        return None;
    }
    Some(NaiveExecuted {
        timestamp: u64::from_be_bytes(b[1..9].try_into().ok()?),
        token: String::from_utf8_lossy(&b[9..23]).trim_end().to_owned(),
        shares: u32::from_be_bytes(b[23..27].try_into().ok()?),
        price: u32::from_be_bytes(b[27..31].try_into().ok()?),
        flag: b[31],
        match_number: u64::from_be_bytes(b[32..40].try_into().ok()?),
    })
}

fn codecs(c: &mut Criterion) {
    let m = enter();
    let mut g = c.benchmark_group("enter_order_encode");
    g.bench_function("kestrel_write", |b| {
        let mut out = [0u8; 49];
        b.iter(|| {
            black_box(&m).write(&mut out);
            black_box(&out);
        });
    });
    g.bench_function("kestrel_soupbin_packet", |b| {
        let mut out = [0u8; HEADER_LEN + 49];
        b.iter(|| {
            let payload = encode_data(&mut out, packet_type::UNSEQUENCED_DATA, 49).unwrap();
            black_box(&m).encode(payload).unwrap();
            black_box(&out);
        });
    });
    g.bench_function("baseline_vec_push", |b| {
        b.iter(|| black_box(naive_encode(black_box(&m))))
    });
    g.finish();

    let exec = ServerMessage::Executed(Executed {
        timestamp: 34_200_000_000_000,
        token: Token::new("KSB00000123456").unwrap(),
        executed_shares: 50,
        execution_price: Price4(1_502_500),
        liquidity_flag: b'A',
        match_number: 123_456_789,
    });
    let mut bytes = [0u8; 40];
    exec.encode(&mut bytes).unwrap();
    let mut g = c.benchmark_group("executed_decode");
    g.bench_function("kestrel_view_to_msg", |b| {
        b.iter(|| black_box(ServerMessageView::decode(black_box(&bytes)).map(|v| v.to_msg())));
    });
    g.bench_function("kestrel_view_fields", |b| {
        b.iter(|| {
            let v = ExecutedView::new(black_box(&bytes)).unwrap();
            black_box((v.executed_shares(), v.execution_price(), v.match_number()))
        });
    });
    g.bench_function("baseline_slices_string", |b| {
        b.iter(|| black_box(naive_decode(black_box(&bytes))))
    });
    g.finish();
}

criterion_group!(benches, codecs);
criterion_main!(benches);
