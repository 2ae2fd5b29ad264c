//! The percentile table the loopback latency benches print (`order_roundtrip`,
//! `tick_to_trade`): one header, then one row per histogram of nanoseconds, in microseconds.

use kestrel_core::latency::Histogram;

/// The header: `first` names the row column, `count` the count column.
pub fn print_header(first: &str, count: &str) {
    println!(
        "{first:<10} {count:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "p50", "p90", "p99", "p99.9", "p99.99", "max"
    );
}

/// One row: the count, p50, p90, p99, p99.9, p99.99 and the maximum of `h` (nanoseconds), in
/// microseconds.
pub fn print_row(name: &str, h: &Histogram<u64>) {
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
    println!(
        "{name:<10} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>10.2}",
        h.len(),
        us(0.5),
        us(0.9),
        us(0.99),
        us(0.999),
        us(0.9999),
        h.max() as f64 / 1e3
    );
}
