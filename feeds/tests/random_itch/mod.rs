//! Random ITCH 5.0 messages for the feed's property tests: one generated message's
//! ingredients ([`Op`]) and its bytes ([`encode`]), cut short or extended on request. Each test
//! keeps its own `Op` strategy (its own mix of message types and values).
#![allow(dead_code)]

use kestrel_feeds::itch::stock_field;

/// One generated message's ingredients.
#[derive(Clone, Debug)]
pub struct Op {
    pub kind: u8,
    pub locate: u16,
    pub order_ref: u64,
    pub new_ref: u64,
    pub side: u8,
    pub shares: u32,
    pub price: u32,
    pub flag: u8,
    pub match_number: u64,
    /// 0: cut short by one byte; 1: two bytes appended; else as specified.
    pub length: u8,
}

fn put(m: &mut [u8], at: usize, bytes: &[u8]) {
    m[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The message's bytes (ITCH 5.0 layouts; the stock is `symbols[locate % len]`), cut short or
/// extended as `op.length` says.
pub fn encode(op: &Op, ts: u64, symbols: &[&str]) -> Vec<u8> {
    let len = match op.kind {
        b'A' => 36,
        b'F' => 40,
        b'E' => 31,
        b'C' => 36,
        b'X' => 23,
        b'D' => 19,
        b'U' => 35,
        b'P' => 44,
        b'Q' => 40,
        b'B' => 19,
        b'H' => 25,
        b'h' => 21,
        b'W' => 12,
        b'R' => 39,
        _ => 12,
    };
    let mut m = vec![0u8; len];
    m[0] = op.kind;
    put(&mut m, 1, &op.locate.to_be_bytes());
    put(&mut m, 5, &ts.to_be_bytes()[2..]);
    let symbol = stock_field(symbols[usize::from(op.locate) % symbols.len()]).unwrap();
    match op.kind {
        b'A' | b'F' | b'P' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            m[19] = op.side;
            put(&mut m, 20, &op.shares.to_be_bytes());
            put(&mut m, 24, &symbol);
            put(&mut m, 32, &op.price.to_be_bytes());
            if op.kind == b'P' {
                put(&mut m, 36, &op.match_number.to_be_bytes());
            }
        }
        b'E' | b'C' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            put(&mut m, 19, &op.shares.to_be_bytes());
            put(&mut m, 23, &op.match_number.to_be_bytes());
            if op.kind == b'C' {
                m[31] = op.flag;
                put(&mut m, 32, &op.price.to_be_bytes());
            }
        }
        b'X' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            put(&mut m, 19, &op.shares.to_be_bytes());
        }
        b'D' => put(&mut m, 11, &op.order_ref.to_be_bytes()),
        b'U' => {
            put(&mut m, 11, &op.order_ref.to_be_bytes());
            put(&mut m, 19, &op.new_ref.to_be_bytes());
            put(&mut m, 27, &op.shares.to_be_bytes());
            put(&mut m, 31, &op.price.to_be_bytes());
        }
        b'Q' => {
            put(&mut m, 11, &u64::from(op.shares).to_be_bytes());
            put(&mut m, 19, &symbol);
            put(&mut m, 27, &op.price.to_be_bytes());
            put(&mut m, 31, &op.match_number.to_be_bytes());
            m[39] = b'O';
        }
        b'B' => put(&mut m, 11, &op.match_number.to_be_bytes()),
        b'H' => {
            put(&mut m, 11, &symbol);
            m[19] = op.flag;
        }
        b'h' => {
            put(&mut m, 11, &symbol);
            m[19] = b'Q';
            m[20] = op.flag;
        }
        b'W' => m[11] = op.flag,
        b'R' => put(&mut m, 11, &symbol),
        _ => m[11] = b'O',
    }
    match op.length {
        0 => {
            m.pop();
        }
        1 => m.extend_from_slice(&[0xAB, 0xCD]),
        _ => {}
    }
    m
}
