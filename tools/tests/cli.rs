//! The `kestrel` binary end to end on the bundled data.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use kestrel_feeds::kcap::KcapReader;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

mod common;

use common::{DATA, kestrel, last_line, lobster, stdout};

#[test]
fn verify_lobster_reports_the_expected_counts() {
    let o = kestrel(&[
        "verify",
        "lobster",
        "--messages",
        &lobster("message"),
        "--orderbook",
        &lobster("orderbook"),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        last_line(&o),
        "checks=1996 mismatched=0 learned=318 reanchored=0"
    );
}

#[test]
fn verify_fails_with_the_mismatches_when_a_row_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let book = std::fs::read_to_string(lobster("orderbook")).unwrap();
    let mut rows: Vec<String> = book.lines().map(str::to_owned).collect();
    // Row 10: best ask size 200 -> 201 (no message explains it).
    let mut fields: Vec<String> = rows[9].split(',').map(str::to_owned).collect();
    let size: u64 = fields[1].parse().unwrap();
    fields[1] = (size + 1).to_string();
    rows[9] = fields.join(",");
    let path = dir.path().join("AAPL_orderbook.csv");
    std::fs::write(&path, rows.join("\n")).unwrap();
    let o = kestrel(&[
        "verify",
        "lobster",
        "--messages",
        &lobster("message"),
        "--orderbook",
        path.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let out = stdout(&o);
    assert!(out.contains("mismatch row=10 side=Sell level=1"), "{out}");
    let last = last_line(&o);
    assert!(last.starts_with("checks=1996 mismatched="), "{last}");
    assert!(!last.contains("mismatched=0 "), "{last}");
}

/// `kestrel replay <path>`, its session directory in a fresh temporary directory (every replay
/// writes one; the default `sessions/` would land in the crate folder).
fn replay(path: &Path) -> Output {
    let sessions = tempfile::tempdir().unwrap();
    let dir = sessions.path().join("session");
    let o = kestrel(&[
        "replay",
        path.to_str().unwrap(),
        "--session-dir",
        dir.to_str().unwrap(),
    ]);
    if o.status.success() {
        assert!(dir.join("summary.json").is_file(), "no session written");
    }
    o
}

fn replay_line(path: &Path) -> String {
    let o = replay(path);
    assert!(o.status.success(), "{o:?}");
    last_line(&o)
}

#[test]
fn import_replay_and_info_on_lobster_and_itch() {
    let dir = tempfile::tempdir().unwrap();
    let aapl = dir.path().join("aapl.kcap");
    let o = kestrel(&[
        "import",
        "lobster",
        "--messages",
        &lobster("message"),
        "--orderbook",
        &lobster("orderbook"),
        "--symbol",
        "AAPL",
        "--out",
        aapl.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let line = replay_line(&aapl);
    assert!(
        line.starts_with("events=") && line.contains(" anomalies=0 book_hash="),
        "{line}"
    );
    assert_eq!(line, replay_line(&aapl), "replay is deterministic");

    let itch = dir.path().join("itch.kcap");
    let o = kestrel(&[
        "import",
        "itch",
        "--in",
        &format!("{DATA}/itch/ex20101224.TEST_ITCH_50"),
        "--out",
        itch.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("messages=12012 "), "{}", stdout(&o));
    let o = replay(&itch);
    let out = stdout(&o);
    assert!(
        out.contains("itch_messages=12012 decode_errors=0 "),
        "{out}"
    );
    let hash = |line: &str| line.rsplit("book_hash=").next().map(str::to_owned);
    assert_ne!(hash(&last_line(&o)), hash(&line));

    let o = kestrel(&["capture", "info", itch.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert!(
        stdout(&o).contains("MoldUDP64 / ITCH 5.0"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn bad_inputs_fail_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.kcap");
    for args in [
        vec!["replay", missing.to_str().unwrap()],
        vec!["capture", "info", missing.to_str().unwrap()],
    ] {
        let o = kestrel(&args);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("missing.kcap") && err.contains("No such file"),
            "{err}"
        );
    }
    let not_capture = dir.path().join("notes.txt");
    std::fs::write(&not_capture, "hello, world").unwrap();
    let o = kestrel(&["replay", not_capture.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a kcap or pcap"));
    let short = dir.path().join("short_orderbook.csv");
    let book = std::fs::read_to_string(lobster("orderbook")).unwrap();
    std::fs::write(
        &short,
        book.lines().take(100).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let o = kestrel(&[
        "verify",
        "lobster",
        "--messages",
        &lobster("message"),
        "--orderbook",
        short.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("has 100 rows"));
    let o = kestrel(&["import", "lobster", "--messages", "x.csv"]);
    assert!(!o.status.success());
    let o = kestrel(&[
        "import",
        "lobster",
        "--messages",
        &lobster("message"),
        "--orderbook",
        &lobster("orderbook"),
        "--symbol",
        "TOOLONGSYMBOL",
        "--out",
        dir.path().join("x.kcap").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("TOOLONGSYMBOL"));
}

/// The kcap's datagrams as Ethernet/IPv4/UDP frames in a classic pcap.
fn pcap_of(kcap: &Path) -> Vec<u8> {
    let reader = KcapReader::open(kcap).unwrap();
    let mut w = PcapWriter::with_header(Vec::new(), PcapHeader::default()).unwrap();
    for (i, r) in reader.records().enumerate() {
        let payload = r.unwrap().payload;
        let mut udp = Vec::new();
        udp.extend_from_slice(&40000u16.to_be_bytes());
        udp.extend_from_slice(&26400u16.to_be_bytes());
        udp.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(payload);
        let mut frame = vec![1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0];
        frame.extend_from_slice(&u16::try_from(20 + udp.len()).unwrap().to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 233, 54, 12, 1]);
        frame.extend_from_slice(&udp);
        let ts = Duration::from_micros(1_000 + i as u64);
        w.write_packet(&PcapPacket::new(
            ts,
            u32::try_from(frame.len()).unwrap(),
            &frame,
        ))
        .unwrap();
    }
    w.into_writer()
}

#[test]
fn replay_accepts_a_pcap_and_agrees_with_the_kcap() {
    let dir = tempfile::tempdir().unwrap();
    let kcap = dir.path().join("itch.kcap");
    let o = kestrel(&[
        "import",
        "itch",
        "--in",
        &format!("{DATA}/itch/ex20101224.TEST_ITCH_50"),
        "--out",
        kcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{o:?}");
    let pcap = dir.path().join("itch.pcap");
    std::fs::write(&pcap, pcap_of(&kcap)).unwrap();
    let from_pcap = replay_line(&pcap);
    assert!(
        from_pcap.starts_with("events=") && from_pcap.contains(" book_hash="),
        "{from_pcap}"
    );
    let o = replay(&pcap);
    assert!(stdout(&o).contains("itch_messages=12012 decode_errors=0 "));
    assert_eq!(from_pcap, replay_line(&kcap));
    // The strategy stage decides the same intents from either (the line before the last).
    let intents = |o: &Output| {
        let out = stdout(o);
        let lines: Vec<&str> = out.lines().collect();
        lines[lines.len() - 2].to_owned()
    };
    let from_kcap = replay(&kcap);
    assert!(intents(&o).starts_with("intents="), "{}", intents(&o));
    assert_eq!(intents(&o), intents(&from_kcap));
}
