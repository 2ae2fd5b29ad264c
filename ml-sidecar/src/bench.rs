//! `bench`: the sidecar's performance on this machine.
//!
//! - batched inference throughput: windows per second for several batch sizes;
//! - feature publish to edge visible: this process plays the core (creates a segment,
//!   publishes one feature at a time with `try_publish`, spins on the edge slot with the
//!   wait-free reader), a child process runs `serve` on it; the latency is the
//!   `CLOCK_MONOTONIC` time from just before the publish to the moment the answering edge is
//!   read, p50/p99/p99.9/max over many round trips.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use kestrel_core::shm::{
    CoreSegment, EdgeRead, FEATURE_CAPACITY, FeatureRecord, SegmentSpec, monotonic_ns,
};

use crate::runtime::Model;
use crate::train::SplitMix;

/// Throughput of one batch size.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Throughput {
    /// Windows per batch.
    pub batch: usize,
    /// Batches run.
    pub batches: u64,
    /// Windows per second.
    pub windows_per_s: f64,
    /// Mean time of one batch, microseconds.
    pub batch_us: f64,
}

/// Runs batches of each size for about `seconds` each.
pub fn throughput(model: &Model, sizes: &[usize], seconds: f64) -> Vec<Throughput> {
    let size = model.window_size();
    let mut rng = SplitMix::new(7);
    let max = sizes.iter().copied().max().unwrap_or(1);
    let data: Vec<f32> = (0..max * size)
        .map(|_| (rng.next_u64() % 2000) as f32 / 1000.0 - 1.0)
        .collect();
    let mut out = Vec::new();
    for &b in sizes {
        // Warm-up.
        let _ = model.predict(&data[..b * size], b);
        let started = Instant::now();
        let mut batches = 0u64;
        while started.elapsed().as_secs_f64() < seconds || batches < 3 {
            let p = model.predict(&data[..b * size], b);
            assert_eq!(p.len(), b);
            batches += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        out.push(Throughput {
            batch: b,
            batches,
            windows_per_s: (batches * b as u64) as f64 / secs,
            batch_us: secs * 1e6 / batches as f64,
        });
    }
    out
}

/// Publish-to-edge latency percentiles, nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct RoundTrip {
    /// Round trips measured.
    pub samples: u64,
    /// Round trips that timed out (no edge within a second).
    pub timeouts: u64,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest.
    pub max_ns: u64,
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Measures feature publish to edge visible against a `serve` child running `model_dir`.
pub fn round_trip(
    model: &Model,
    model_dir: &std::path::Path,
    samples: u64,
    serve_threads: i32,
) -> anyhow::Result<RoundTrip> {
    let schema = model.spec.feature_schema()?;
    let name = format!("kestrel-ml-bench-{}", std::process::id());
    let segment = CoreSegment::create(
        &name,
        &SegmentSpec {
            ring_capacity: 1024,
            instruments: 1,
            schema,
        },
    )
    .context("creating the benchmark segment")?;
    let mut producer = segment
        .take_producer()
        .context("the producer is already taken")?;
    let reader = segment.edge_reader();
    let exe = std::env::current_exe().context("locating kestrel-ml")?;
    let child = Command::new(exe)
        .args([
            "serve",
            model_dir.to_str().unwrap_or_default(),
            "--shm",
            &name,
            "--idle-us",
            "0",
            "--threads",
            &serve_threads.to_string(),
            "--device",
            crate::runtime::device_name(model.device())
                .split(':')
                .next()
                .unwrap_or("cpu"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the serve child")?;
    let _guard = ChildGuard(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while segment.status().sidecar_pid == 0 {
        if Instant::now() > deadline {
            bail!("the serve child never attached");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let count = model.spec.schema.len() as u32;
    let mut rng = SplitMix::new(11);
    let mut rec = FeatureRecord {
        instrument: 0,
        count,
        mid: 100.0,
        ..FeatureRecord::default()
    };
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3)?;
    let mut timeouts = 0;
    let warm = model.spec.window as u64 + 20;
    for seq in 1..=warm + samples {
        for f in rec.features.iter_mut().take(count as usize) {
            *f = (rng.next_u64() % 2000) as f32 / 1000.0 - 1.0;
        }
        debug_assert!(count as usize <= FEATURE_CAPACITY);
        rec.feature_seq = seq;
        rec.event_time_ns = seq * 1000;
        let t0 = monotonic_ns();
        rec.published_ns = t0;
        while !producer.try_publish(&rec) {
            std::hint::spin_loop();
        }
        if seq < model.spec.window as u64 {
            continue; // the window is not full yet: no edge will come
        }
        let limit = t0 + 1_000_000_000;
        loop {
            if let EdgeRead::Edge { record, .. } = reader.read(0)
                && record.feature_seq >= seq
            {
                let dt = monotonic_ns().saturating_sub(t0);
                if seq > warm {
                    hist.record(dt.max(1))?;
                }
                break;
            }
            if monotonic_ns() > limit {
                timeouts += 1;
                break;
            }
            std::hint::spin_loop();
        }
    }
    Ok(RoundTrip {
        samples: hist.len(),
        timeouts,
        p50_ns: hist.value_at_quantile(0.5),
        p99_ns: hist.value_at_quantile(0.99),
        p999_ns: hist.value_at_quantile(0.999),
        max_ns: hist.max(),
    })
}
