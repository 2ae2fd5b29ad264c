//! Latency recorded by a real run, written as `latency.hlog` and `.hgrm`, reads back as what
//! was recorded.

use kestrel_core::clock::TscClock;
use kestrel_core::latency::{
    LatencyTag, new_histogram, read_interval_log, write_interval_log, write_percentile_distribution,
};
use kestrel_core::pipeline::{
    Discard, PipelineConfig, StageCores, SyntheticSource, UpdateHasher, WaitStrategy, run_threaded,
};

#[test]
fn hlog_of_a_threaded_run_reads_back_to_the_recorded_totals() {
    let clock = TscClock::new();
    let config = PipelineConfig {
        ring_size: 256,
        consumer_wait: WaitStrategy::SpinYield { spins: 20 },
        producer_wait: WaitStrategy::SpinYield { spins: 20 },
        ops_wait: WaitStrategy::Sleep { micros: 100 },
        interval_ms: 20,
        snapshot_slots: 64,
    };
    let out = run_threaded(
        SyntheticSource::new(3, 300_000, 4, clock.clone()),
        UpdateHasher::default(),
        Discard,
        &config,
        StageCores::default(),
        &clock,
        None,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latency.hlog");
    let mut file = std::fs::File::create(&path).unwrap();
    write_interval_log(&mut file, &out.latency, "kestrel test").unwrap();
    drop(file);
    let bytes = std::fs::read(&path).unwrap();
    let back = read_interval_log(&bytes).unwrap();
    assert_eq!(back.len(), out.latency.intervals_sorted().len());
    assert!(
        back.iter()
            .filter(|r| r.tag == LatencyTag::EndToEnd)
            .count()
            >= 1,
        "no e2e intervals"
    );
    for tag in LatencyTag::ALL {
        let mut total = new_histogram();
        for r in back.iter().filter(|r| r.tag == tag) {
            total.add(&r.hist).unwrap();
        }
        assert_eq!(&total, out.latency.total(tag), "{tag}");
    }
    assert_eq!(
        out.latency.total(LatencyTag::EndToEnd).len(),
        out.stage.output().events
    );
    // Intervals start no earlier than the one before (per tag) and never run backwards.
    for r in &back {
        assert!(r.end_ns >= r.start_ns);
    }
    let mut hgrm = Vec::new();
    write_percentile_distribution(
        &mut hgrm,
        out.latency.total(LatencyTag::EndToEnd),
        5,
        1000.0,
    )
    .unwrap();
    let text = String::from_utf8(hgrm).unwrap();
    let count_line = text.lines().find(|l| l.contains("Total count")).unwrap();
    assert!(
        count_line.ends_with(&format!("{:>12}]", out.stage.output().events)),
        "{count_line}"
    );
}
