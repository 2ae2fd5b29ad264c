//! One ring hop: latency (ping-pong round trip / 2) and throughput of the Kestrel pipeline ring
//! against `crossbeam_channel` and `std::sync::mpsc`, all in the same run.
//!
//! `cargo bench -p kestrel-bench --bench ring_hop -- [iters] [stream] [main_core] [other_core]`
//! (defaults: 200000 round trips, 5000000 streamed messages, cores 0 and 1). The queues take
//! turns in 5 rounds; latency histograms are merged over the rounds, throughput is the median
//! round. Under `cargo test` (`--bench` absent from the arguments) it runs one short round:
//! 2000 round trips and 20000 messages per queue, a check that the harness works, not a figure.

use kestrel_bench::args::{measuring, positional as arg};
use kestrel_bench::hop::{Cores, Queue, ping_pong, throughput};
use kestrel_core::latency::new_histogram;

fn main() {
    let bench = measuring();
    let (iters, stream, rounds) = if bench {
        (arg(0, 200_000), arg(1, 5_000_000), 5)
    } else {
        (2_000, 20_000, 1)
    };
    let cores = Cores {
        main: Some(arg(2, 0) as usize),
        other: Some(arg(3, 1) as usize),
    };
    println!(
        "ring hop: {iters} ping-pongs (hop = round trip / 2), {stream} streamed 64-byte messages, cores {:?}/{:?}, busy-polling on both sides",
        cores.main, cores.other
    );
    println!(
        "{:<14} {:>10} {:>10} {:>10} {:>10} {:>12} {:>14}",
        "queue", "hop p50", "hop p99", "hop p99.9", "rtt max", "rtt count", "median msg/s"
    );
    // Interleave the queues in rounds so that a noisy neighbour or a hypervisor pause lands on
    // all of them alike rather than on whichever ran at that moment.
    let mut rtts: Vec<_> = Queue::ALL.iter().map(|_| new_histogram()).collect();
    let mut tputs: Vec<Vec<f64>> = Queue::ALL.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (i, q) in Queue::ALL.into_iter().enumerate() {
            let per_round = (iters / rounds).max(1);
            let rtt = ping_pong(q, per_round, per_round / 10, cores);
            if let Some(total) = rtts.get_mut(i) {
                let _ = total.add(&rtt);
            }
            if let Some(t) = tputs.get_mut(i) {
                t.push(throughput(q, (stream / rounds).max(1), 1024, cores));
            }
        }
    }
    let mut p50 = Vec::new();
    for ((q, rtt), tput) in Queue::ALL.into_iter().zip(&rtts).zip(&mut tputs) {
        tput.sort_by(f64::total_cmp);
        let median_tput = tput.get(tput.len() / 2).copied().unwrap_or(0.0);
        let hop = |p: f64| rtt.value_at_percentile(p) as f64 / 2.0;
        p50.push((q, hop(50.0)));
        println!(
            "{:<14} {:>8.0}ns {:>8.0}ns {:>8.0}ns {:>8.0}ns {:>12} {:>14.0}",
            q.name(),
            hop(50.0),
            hop(99.0),
            hop(99.9),
            rtt.max() as f64,
            rtt.len(),
            median_tput
        );
    }
    let ours = p50
        .iter()
        .find(|(q, _)| *q == Queue::KestrelRing)
        .map(|x| x.1);
    let cb = p50
        .iter()
        .find(|(q, _)| *q == Queue::Crossbeam)
        .map(|x| x.1);
    if let (Some(ours), Some(cb)) = (ours, cb) {
        println!(
            "crossbeam p50 / kestrel ring p50 = {:.2}x",
            cb / ours.max(1.0)
        );
    }
}
