//! The percentile-distribution text, exactly as HdrHistogram's `outputPercentileDistribution`
//! prints it (the `.hgrm` format the HdrHistogram plotter reads).

use std::io::{self, Write};

use hdrhistogram::Histogram;

/// Writes `h` as a percentile distribution with `ticks_per_half_distance` percentile steps per
/// half distance to 100% (HdrHistogram uses 5) and values divided by `value_scale` (1000.0 turns
/// nanoseconds into microseconds). Decimal places follow the histogram's significant digits.
pub fn write_percentile_distribution<W: Write>(
    out: &mut W,
    h: &Histogram<u64>,
    ticks_per_half_distance: u32,
    value_scale: f64,
) -> io::Result<()> {
    let prec = usize::from(h.sigfig());
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total: u64 = 0;
    if !h.is_empty() {
        for v in h.iter_quantiles(ticks_per_half_distance) {
            total = total.saturating_add(v.count_since_last_iteration());
            let value = v.value_iterated_to() as f64 / value_scale;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                writeln!(
                    out,
                    "{value:>12.prec$} {q:>2.12} {total:>10} {:>14.2}",
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(out, "{value:>12.prec$} {q:>2.12} {total:>10}")?;
            }
        }
    }
    let (mean, stdev, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (
            h.mean() / value_scale,
            h.stdev() / value_scale,
            h.max() as f64 / value_scale,
        )
    };
    writeln!(
        out,
        "#[Mean    = {mean:>12.prec$}, StdDeviation   = {stdev:>12.prec$}]"
    )?;
    writeln!(
        out,
        "#[Max     = {max:>12.prec$}, Total count    = {:>12}]",
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_bucket_count(h.sigfig())
    )
}

/// HdrHistogram's sub-bucket count for `sigfig` significant digits: the smallest power of two
/// at least `2 * 10^sigfig`.
fn sub_bucket_count(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::new_histogram;

    #[test]
    fn prints_the_standard_layout() {
        let mut h = new_histogram();
        for v in 1..=1000u64 {
            h.saturating_record(v * 1000);
        }
        let mut buf = Vec::new();
        write_percentile_distribution(&mut buf, &h, 5, 1000.0).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("       Value     Percentile TotalCount 1/(1-Percentile)")
        );
        assert_eq!(lines.next(), Some(""));
        let first = lines.next().unwrap();
        assert_eq!(
            first,
            "       1.000 0.000000000000          1           1.00"
        );
        let rows: Vec<&str> = text
            .lines()
            .skip(2)
            .filter(|l| !l.starts_with('#'))
            .collect();
        let last = rows.last().unwrap();
        assert!(
            last.starts_with("    1000.447 1.000000000000       1000"),
            "{last}"
        );
        assert!(text.contains("#[Max     =     1000.447, Total count    =         1000]"));
        assert!(text.contains("SubBuckets     =         2048]"));
        // Cumulative counts never decrease and the percentile column is sorted.
        let mut prev = (0.0f64, 0u64);
        for r in rows {
            let cols: Vec<&str> = r.split_whitespace().collect();
            let p: f64 = cols[1].parse().unwrap();
            let c: u64 = cols[2].parse().unwrap();
            assert!(p >= prev.0 && c >= prev.1, "{r}");
            prev = (p, c);
        }
    }
}
