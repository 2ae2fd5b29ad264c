//! Replays the committed fuzz corpus and every crash file through the fuzz targets
//! (`kestrel_tests::fuzz`): CI's bounded smoke of the coverage-guided campaign in `fuzz/`.
//! A crash file that still fails fails this test; a target without a corpus fails it too.

use std::path::{Path, PathBuf};

use kestrel_tests::fuzz::{TARGETS, Target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, sorted (none if it does not exist).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_none_or(|n| n != "README.txt"))
        .collect();
    files.sort();
    files
}

/// Runs every input of `files` through `t`; returns the ones that panicked.
fn failures(t: Target, files: &[PathBuf]) -> Vec<String> {
    let mut failed = Vec::new();
    for f in files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if std::panic::catch_unwind(|| (t.run)(&data)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    failed
}

#[test]
fn committed_corpus_and_crash_files_pass_every_target() {
    let root = fuzz_dir();
    let mut failed = Vec::new();
    for t in TARGETS {
        let corpus = inputs(&root.join("corpus").join(t.name));
        assert!(
            corpus.len() >= 2,
            "fuzz/corpus/{} has {} inputs; seed it (fuzz/README.md)",
            t.name,
            corpus.len()
        );
        failed.extend(failures(t, &corpus));
        failed.extend(failures(t, &inputs(&root.join("crashes").join(t.name))));
    }
    assert!(failed.is_empty(), "inputs that fail: {failed:#?}");
}

#[test]
fn a_panicking_target_is_reported() {
    // The harness itself can fail: a target that panics on an input is caught and named.
    fn boom(data: &[u8]) {
        assert!(data.is_empty(), "boom");
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x");
    std::fs::write(&f, b"1").unwrap();
    let t = Target {
        name: "boom",
        run: boom,
    };
    assert_eq!(failures(t, std::slice::from_ref(&f)).len(), 1);
}

/// Byte offsets of the first `n` frame boundaries of a raw ITCH file (frame starts).
fn frame_starts(raw: &[u8]) -> Vec<usize> {
    kestrel_feeds::itch::framer::ItchFramer::new(raw)
        .flatten()
        .map(|f| f.offset)
        .collect()
}

/// Each kcap record's MoldUDP64 datagram wrapped in Ethernet / IPv4 / UDP, as a classic pcap.
fn pcap_of(datagrams: &[&[u8]]) -> Vec<u8> {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let mut w = PcapWriter::with_header(Vec::new(), PcapHeader::default()).expect("pcap header");
    for (i, payload) in datagrams.iter().enumerate() {
        let frame = udp_frame(payload);
        let ts = std::time::Duration::from_micros(1_000 + i as u64);
        let len = u32::try_from(frame.len()).expect("frame length");
        w.write_packet(&PcapPacket::new(ts, len, &frame))
            .expect("pcap packet");
    }
    w.into_writer()
}

/// The same frames as a pcapng (section, Ethernet interface, enhanced packet blocks).
fn pcapng_of(datagrams: &[&[u8]]) -> Vec<u8> {
    use pcap_file::DataLink;
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    let mut w = PcapNgWriter::new(Vec::new()).expect("pcapng header");
    w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 65535))
        .expect("interface");
    for (i, payload) in datagrams.iter().enumerate() {
        let frame = udp_frame(payload);
        let len = u32::try_from(frame.len()).expect("frame length");
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: std::time::Duration::from_micros(1_000 + i as u64),
            original_len: len,
            data: frame.into(),
            options: Vec::new(),
        };
        w.write_pcapng_block(block).expect("packet");
    }
    w.into_inner()
}

fn udp_frame(payload: &[u8]) -> Vec<u8> {
    let mut udp = Vec::new();
    udp.extend_from_slice(&40000u16.to_be_bytes());
    udp.extend_from_slice(&26400u16.to_be_bytes());
    udp.extend_from_slice(&u16::try_from(8 + payload.len()).expect("udp").to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut frame = vec![1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0];
    frame.extend_from_slice(&u16::try_from(20 + udp.len()).expect("ip").to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 233, 54, 12, 1]);
    frame.extend_from_slice(&udp);
    frame
}

/// The first `lines` lines of `text`, newline-terminated.
fn head(text: &str, lines: usize) -> String {
    text.lines().take(lines).flat_map(|l| [l, "\n"]).collect()
}

/// Writes the seed corpus from the real files in `data/` (run by `scripts/fuzz.sh seed`;
/// the result is committed under `fuzz/corpus/`).
#[test]
#[ignore = "writes fuzz/corpus: run by scripts/fuzz.sh seed"]
fn write_seed_corpus() {
    use kestrel_core::Timestamp;
    use kestrel_feeds::handler::write_itch_capture;
    use kestrel_feeds::kcap::KcapReader;

    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let corpus = fuzz_dir().join("corpus");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        std::fs::write(dir.join(name), bytes).expect("seed");
    };

    // ITCH: the simulated NASDAQ test file, cut at frame boundaries (start of day with the
    // stock directory; a window of the middle; one past a frame end).
    let raw = std::fs::read(data.join("itch/ex20101224.TEST_ITCH_50")).expect("ITCH file");
    let starts = frame_starts(&raw);
    let cut = |a: usize, b: usize| &raw[starts[a]..starts[b]];
    let itch_seeds: [(&str, &[u8]); 4] = [
        ("head-64", cut(0, 64)),
        ("head-600", cut(0, 600)),
        ("mid-300", cut(6_000, 6_300)),
        ("tail-200", &raw[starts[starts.len() - 200]..]),
    ];
    for (name, bytes) in itch_seeds {
        put("itch", name, bytes);
    }

    // kcap, MoldUDP64 and pcap: the same ITCH stretches packed the way a capture holds them.
    for (name, bytes) in [("head-600", cut(0, 600)), ("head-64", cut(0, 64))] {
        let (kcap, _) = write_itch_capture(bytes, Timestamp(0), Vec::new()).expect("pack");
        put("kcap", name, &kcap);
        let reader = KcapReader::from_bytes(&kcap).expect("read back");
        let datagrams: Vec<&[u8]> = reader
            .records()
            .map(|r| r.expect("intact record").payload)
            .collect();
        let mut stream = Vec::new();
        for d in &datagrams {
            stream.extend_from_slice(&u16::try_from(d.len()).expect("datagram").to_be_bytes());
            stream.extend_from_slice(d);
        }
        put("moldudp64", name, &stream);
        put("pcap", &format!("{name}.pcap"), &pcap_of(&datagrams));
        put("pcap", &format!("{name}.pcapng"), &pcapng_of(&datagrams));
    }

    // LOBSTER: the AAPL excerpt's first rows (message file, NUL, order-book file), and the
    // capture an import of them writes (a kcap seed with LOBSTER's synthetic orders).
    let messages = std::fs::read_to_string(
        data.join("lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"),
    )
    .expect("LOBSTER messages");
    let orderbook = std::fs::read_to_string(
        data.join("lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"),
    )
    .expect("LOBSTER order book");
    for rows in [20, 120] {
        let (m, o) = (head(&messages, rows), head(&orderbook, rows));
        let mut seed = m.clone().into_bytes();
        seed.push(0);
        seed.extend_from_slice(o.as_bytes());
        put("lobster", &format!("aapl-{rows}"), &seed);
        let (_, kcap, _) =
            kestrel_feeds::lobster::verify_lobster(&m, &o, "AAPL").expect("LOBSTER import");
        put("kcap", &format!("lobster-aapl-{rows}"), &kcap);
    }
}
