//! The journal: every record kind round-trips through the writer thread and the reader; a
//! torn tail is told apart from corruption and cut; a rebuild from the journal gives the same
//! open orders, positions and sequence cursor as the live engine.

mod common;

use common::*;
use kestrel_core::{InstrumentId, Side};
use kestrel_gateway::engine::{GatewayConfig, OrderGateway};
use kestrel_gateway::journal::{
    self, Entry, FsyncPolicy, JournalConfig, JournalSink, ParamName, cut_torn_tail, recover,
    scan_file,
};
use kestrel_gateway::oms::{Oms, OmsConfig};
use kestrel_gateway::soupbin::SessionId;
use kestrel_gateway::venue::{DownReason, LinkEvent};
use std::io::Write;

fn oms_config() -> OmsConfig {
    OmsConfig {
        symbols: symbols(),
        ..OmsConfig::default()
    }
}

/// A live engine session over the scripted venue, journaling into a Vec: orders, fills,
/// cancels, a partial, a replace, a kill switch.
fn live_session() -> (OrderGateway<ScriptVenue, Vec<Entry>, TestClock>, Vec<Entry>) {
    let cfg = GatewayConfig {
        oms: oms_config(),
        cancel_opposite: false,
        ..GatewayConfig::default()
    };
    let clock = TestClock::default();
    clock.set(5);
    let mut g = OrderGateway::fresh(cfg, ScriptVenue::default(), Vec::new(), clock).unwrap();
    let mut r = Vec::new();
    g.on_input(&intent(1, 0, Side::Buy, 300, "99.99", 1), &mut r);
    g.on_input(&intent(2, 1, Side::Sell, 200, "100.01", 1), &mut r);
    g.on_input(&intent(3, 0, Side::Buy, 50, "99.98", 1), &mut r);
    g.poll(&mut r);
    let (t0, t1) = (g.venue().enter_token(0), g.venue().enter_token(1));
    g.venue_mut().fill(t0, 120, "99.99", 1);
    g.venue_mut().fill(t1, 200, "100.01", 2);
    g.poll(&mut r);
    let slot = g
        .oms()
        .slot_of(g.oms().tokens().parse(&t0).unwrap().number)
        .unwrap();
    g.replace(slot, px("99.97"), 100).unwrap();
    g.poll(&mut r);
    g.set_limits(*g.risk().limits());
    let journal = g.journal().clone();
    (g, journal)
}

/// Positions (net, realised, fees), open orders (id, leaves, filled, price) and the cursor.
type Snapshot = (Vec<(i64, i128, i128)>, Vec<(u64, u32, u32, i64)>, u64);

fn snapshot(oms: &Oms) -> Snapshot {
    let pos = oms
        .positions()
        .map(|p| (p.net, p.realised, p.fees))
        .collect();
    let mut open: Vec<_> = oms
        .open_orders()
        .map(|o| (o.id, o.leaves, o.filled, o.price.raw()))
        .collect();
    open.sort();
    (pos, open, oms.last_seq())
}

#[test]
fn writer_thread_round_trips_every_record_kind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.journal");
    let (_, mut entries) = live_session();
    entries.push(Entry::Link {
        at: kestrel_core::Timestamp(9),
        event: LinkEvent::Up {
            session: SessionId::new("S1").unwrap(),
            next_seq: 3,
        },
    });
    entries.push(Entry::Link {
        at: kestrel_core::Timestamp(10),
        event: LinkEvent::Down {
            reason: DownReason::HeartbeatTimeout,
        },
    });
    entries.push(Entry::Param {
        at: kestrel_core::Timestamp(11),
        name: ParamName::new("kill_switch"),
        value: 1,
    });
    let mut cfg = JournalConfig::new(&path);
    cfg.fsync = FsyncPolicy::EveryRecords(4);
    cfg.ring_size = 8; // small: the sender waits on a full ring, nothing is dropped
    let (mut tx, handle) = journal::spawn(&cfg).unwrap();
    for e in &entries {
        tx.record(e);
    }
    assert_eq!(tx.published(), entries.len() as u64);
    drop(tx);
    let stats = handle.join().unwrap();
    assert_eq!(stats.records, entries.len() as u64);
    assert!(stats.syncs >= 1);
    let scan = scan_file(&path).unwrap();
    assert!(scan.verifies() && scan.torn_tail.is_none());
    let read: Vec<Entry> = scan.entries.into_iter().map(|(_, e)| e).collect();
    assert_eq!(read, entries);
    let kinds: std::collections::BTreeSet<u8> = read.iter().map(Entry::kind).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 6, 7, 8]);
}

fn write_journal(path: &std::path::Path, entries: &[Entry]) {
    let (mut tx, h) = journal::spawn(&JournalConfig::new(path)).unwrap();
    for e in entries {
        tx.record(e);
    }
    drop(tx);
    h.join().unwrap();
}

#[test]
fn recovery_rebuilds_orders_positions_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.journal");
    let (g, entries) = live_session();
    write_journal(&path, &entries);
    let rec = recover(&path, oms_config()).unwrap();
    assert_eq!(rec.anomalies, 0);
    assert_eq!(rec.records, entries.len());
    assert_eq!(snapshot(&rec.oms), snapshot(g.oms()));
    assert!(rec.oms.tokens().peek() >= g.oms().tokens().peek());
    assert!(
        !snapshot(g.oms()).1.is_empty(),
        "the session leaves open orders"
    );
    assert_eq!(rec.oms.position(InstrumentId(0)), 120);
    assert_eq!(rec.oms.position(InstrumentId(1)), -200);
}

#[test]
fn torn_tail_is_cut_and_corruption_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.journal");
    let (g, entries) = live_session();
    write_journal(&path, &entries);
    let full = std::fs::read(&path).unwrap();

    // A crash mid-write: half a record at the end.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(&full[full.len() - 30..full.len() - 10])
        .unwrap();
    drop(f);
    let scan = scan_file(&path).unwrap();
    assert!(scan.verifies(), "a torn tail is not corruption");
    assert_eq!(scan.torn_tail.as_ref().unwrap().offset, full.len() as u64);
    let rec = recover(&path, oms_config()).unwrap();
    assert_eq!(rec.torn_tail_cut, 20);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        full,
        "the tail is cut back to the last good record"
    );
    assert_eq!(snapshot(&rec.oms), snapshot(g.oms()));

    // The last record's CRC broken: also a torn tail (nothing good follows).
    let mut bad = full.clone();
    let n = bad.len();
    bad[n - 2] ^= 0xFF;
    std::fs::write(&path, &bad).unwrap();
    let scan = scan_file(&path).unwrap();
    assert!(scan.verifies() && scan.torn_tail.is_some());
    assert_eq!(
        cut_torn_tail(&path, &scan).unwrap(),
        scan.len - scan.good_end
    );

    // A flipped byte in the middle with good records after it: corruption, refused.
    let mut bad = full.clone();
    bad[40] ^= 0x55;
    std::fs::write(&path, &bad).unwrap();
    let scan = scan_file(&path).unwrap();
    assert!(!scan.verifies());
    assert_eq!(scan.corrupt.len(), 1);
    assert!(
        scan.entries.len() >= entries.len() - 1,
        "the rest is still read"
    );
    let err = recover(&path, oms_config()).unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");

    // Not a journal at all.
    std::fs::write(&path, b"hello").unwrap();
    assert!(scan_file(&path).is_err());
}

#[test]
fn a_restarted_engine_continues_the_same_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.journal");
    let (g, entries) = live_session();
    write_journal(&path, &entries);
    // Restart: rebuild, continue appending with a new engine on the rebuilt OMS.
    let rec = recover(&path, oms_config()).unwrap();
    let next = rec.oms.tokens().peek();
    let (tx, h) = journal::spawn(&JournalConfig::new(&path)).unwrap();
    let cfg = GatewayConfig {
        oms: oms_config(),
        ..GatewayConfig::default()
    };
    let mut g2 = OrderGateway::new(
        cfg,
        rec.oms,
        ScriptVenue::default(),
        tx,
        TestClock::default(),
    );
    let mut r = Vec::new();
    g2.on_input(&intent(9, 1, Side::Buy, 10, "99.99", 1), &mut r);
    let t = g2.venue().enter_token(0);
    assert_eq!(
        g2.oms().tokens().parse(&t).unwrap().number,
        next,
        "numbers continue, never reused"
    );
    g2.poll(&mut r);
    let (oms2, _, tx) = g2.into_parts();
    drop(tx);
    h.join().unwrap();
    let rec2 = recover(&path, oms_config()).unwrap();
    assert_eq!(snapshot(&rec2.oms), snapshot(&oms2));
    assert!(snapshot(&oms2).1.len() > snapshot(g.oms()).1.len());
}
