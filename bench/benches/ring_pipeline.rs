//! The ring as the threaded pipeline configures it: `BookUpdate` payload, 16,384 slots, one
//! consumer (the consumer stage; the ops thread never reads the data ring), the pipeline's
//! default waits; beside a crossbeam channel doing the same job. Latency (ping-pong round trip
//! / 2) and throughput, queues interleaved in rounds.
//!
//! `cargo bench -p kestrel-bench --bench ring_pipeline -- [iters] [stream] [main_core] [other_core]`
//! (defaults: 100000 round trips, 2000000 streamed updates, cores 0 and 1). Under
//! `cargo test` (`--bench` absent from the arguments) it runs one short round.

use kestrel_bench::args::{measuring, positional as arg};
use kestrel_bench::hop::Cores;
use kestrel_bench::pipeline_hop::{PipeQueue, ping_pong, throughput};
use kestrel_core::BookUpdate;
use kestrel_core::latency::new_histogram;
use kestrel_core::pipeline::PipelineConfig;

fn main() {
    let bench = measuring();
    let (iters, stream, rounds) = if bench {
        (arg(0, 100_000), arg(1, 2_000_000), 5)
    } else {
        (2_000, 20_000, 1)
    };
    let cores = Cores {
        main: Some(arg(2, 0) as usize),
        other: Some(arg(3, 1) as usize),
    };
    let config = PipelineConfig::default();
    println!(
        "pipeline ring: {}-byte BookUpdate, {} slots, 1 consumer ({:?}), producer {:?}; {iters} ping-pongs, {stream} streamed updates, cores {:?}/{:?}",
        core::mem::size_of::<BookUpdate>(),
        config.ring_size,
        config.consumer_wait,
        config.producer_wait,
        cores.main,
        cores.other
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>10} {:>12} {:>16}",
        "queue", "hop p50", "hop p99", "hop p99.9", "rtt max", "rtt count", "median upd/s"
    );
    let mut rtts: Vec<_> = PipeQueue::ALL.iter().map(|_| new_histogram()).collect();
    let mut tputs: Vec<Vec<f64>> = PipeQueue::ALL.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (i, q) in PipeQueue::ALL.into_iter().enumerate() {
            let per_round = (iters / rounds).max(1);
            let rtt = ping_pong(q, per_round, per_round / 10, cores, &config);
            assert_eq!(rtt.len(), per_round, "{}: a ping went missing", q.name());
            if let Some(total) = rtts.get_mut(i) {
                let _ = total.add(&rtt);
            }
            if let Some(t) = tputs.get_mut(i) {
                t.push(throughput(q, (stream / rounds).max(1), cores, &config));
            }
        }
    }
    let mut p50 = Vec::new();
    for ((q, rtt), tput) in PipeQueue::ALL.into_iter().zip(&rtts).zip(&mut tputs) {
        tput.sort_by(f64::total_cmp);
        let median = tput.get(tput.len() / 2).copied().unwrap_or(0.0);
        assert!(median > 0.0, "{}: an update went missing", q.name());
        let hop = |p: f64| rtt.value_at_percentile(p) as f64 / 2.0;
        p50.push(hop(50.0));
        println!(
            "{:<14} {:>8.0}ns {:>8.0}ns {:>8.0}ns {:>8.0}ns {:>12} {:>16.0}",
            q.name(),
            hop(50.0),
            hop(99.0),
            hop(99.9),
            rtt.max() as f64,
            rtt.len(),
            median
        );
    }
    if let [ours, cb] = p50[..] {
        println!("crossbeam p50 / kestrel ring p50 = {:.2}x", cb / ours);
    }
}
