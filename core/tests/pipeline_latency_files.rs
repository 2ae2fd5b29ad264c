//! Latency recorded by a real run, streamed to `latency.hlog` as the run goes and written as
//! `.hgrm`, reads back as what was recorded.

use kestrel_core::clock::{Clock, TscClock};
use kestrel_core::latency::{
    HlogWriter, IntervalRecord, LatencyTag, new_histogram, read_interval_log,
    write_percentile_distribution,
};
use kestrel_core::pipeline::{
    Discard, HlogStream, Ops, PipelineConfig, StageCores, SyntheticSource, UpdateHasher,
    WaitStrategy, run_threaded,
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
        snapshot_slots: 4,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latency.hlog");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut stream =
        HlogStream::new(HlogWriter::new(file, clock.now().nanos(), "kestrel test").unwrap());
    let mut kept: Vec<IntervalRecord> = Vec::new();
    let mut both = (&mut stream, &mut kept);
    let out = run_threaded(
        SyntheticSource::new(3, 300_000, 4, clock.clone()),
        UpdateHasher::default(),
        Discard,
        &config,
        StageCores::default(),
        &clock,
        Ops::new().task(&mut both),
    )
    .unwrap();
    let written = stream.written();
    drop(stream.finish().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    let back = read_interval_log(&bytes).unwrap();
    assert_eq!(back.len() as u64, written);
    assert_eq!(written, out.latency.interval_count());
    assert_eq!(back.len(), kept.len());
    // 300k records at 20 ms intervals: several intervals per tag, streamed as they came.
    assert!(
        out.latency.intervals(LatencyTag::EndToEnd) >= 2,
        "{} e2e intervals",
        out.latency.intervals(LatencyTag::EndToEnd)
    );
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
