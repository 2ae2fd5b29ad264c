//! Percentile-distribution plots as SVG: latency against percentile on a log-scaled "nines"
//! axis (50%, 90%, 99%, 99.9%, ...), one curve per session, overlaid. Written by hand: no
//! plotting dependency.

use std::fmt::Write;

use kestrel_core::latency::Histogram;

/// One curve: a label and its histogram (nanoseconds).
#[derive(Debug)]
pub struct Series<'a> {
    /// Legend text.
    pub label: String,
    /// The distribution.
    pub hist: &'a Histogram<u64>,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 540.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// x position of a quantile: `log10(1 / (1 - q))` (0 at 0%, 1 at 90%, 2 at 99%, ...).
pub fn nines(q: f64) -> f64 {
    let tail = (1.0 - q).max(1e-12);
    (1.0 / tail).log10()
}

/// A "nice" step (1, 2 or 5 times a power of ten) giving about `n` ticks up to `max`.
fn nice_step(max: f64, n: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / n;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn percent_label(n: u32) -> String {
    match n {
        0 => "0%".to_owned(),
        1 => "90%".to_owned(),
        2 => "99%".to_owned(),
        _ => format!("99.{}%", "9".repeat(n as usize - 2)),
    }
}

/// Renders the curves into an SVG document. Values are shown in microseconds.
pub fn render(title: &str, series: &[Series<'_>]) -> String {
    let mut points: Vec<Vec<(f64, f64)>> = Vec::with_capacity(series.len());
    let mut x_max: f64 = 2.0;
    let mut y_max: f64 = 0.0;
    for s in series {
        let mut pts = Vec::new();
        if !s.hist.is_empty() {
            for v in s.hist.iter_quantiles(5) {
                let q = v.quantile_iterated_to();
                if q >= 1.0 {
                    continue;
                }
                pts.push((nines(q), v.value_iterated_to() as f64 / 1_000.0));
            }
            // The maximum sits at the resolution limit of the sample: 1 - 1/count.
            let n = s.hist.len() as f64;
            pts.push((n.log10().max(0.0), s.hist.max() as f64 / 1_000.0));
        }
        for &(x, y) in &pts {
            x_max = x_max.max(x);
            y_max = y_max.max(y);
        }
        points.push(pts);
    }
    let x_max = x_max.ceil().min(12.0);
    let y_step = nice_step(y_max * 1.05, 6.0);
    let y_top = (y_max * 1.05 / y_step).ceil().max(1.0) * y_step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + x / x_max * plot_w;
    let py = |y: f64| TOP + plot_h - y / y_top * plot_h;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="16">{}</text>"#,
        WIDTH / 2.0,
        escape(title)
    );
    // Grid and x ticks at each nine, plus 50%.
    let mut x_ticks: Vec<(f64, String)> = (0..=x_max as u32)
        .map(|n| (f64::from(n), percent_label(n)))
        .collect();
    x_ticks.insert(1, (2f64.log10(), "50%".to_owned()));
    for (x, label) in &x_ticks {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#ddd"/><text x="{0:.1}" y="{3:.1}" text-anchor="middle">{4}</text>"##,
            px(*x),
            TOP,
            TOP + plot_h,
            TOP + plot_h + 18.0,
            label
        );
    }
    let mut y = 0.0;
    while y <= y_top + y_step / 2.0 {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{2:.1}" y2="{1:.1}" stroke="#ddd"/><text x="{3:.1}" y="{4:.1}" text-anchor="end">{5}</text>"##,
            LEFT,
            py(y),
            LEFT + plot_w,
            LEFT - 6.0,
            py(y) + 4.0,
            trim_float(y)
        );
        y += y_step;
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 15.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="20" y="{:.1}" text-anchor="middle" transform="rotate(-90 20 {:.1})">latency (us)</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    for (i, (s, pts)) in series.iter().zip(&points).enumerate() {
        let color = COLORS.get(i % COLORS.len()).copied().unwrap_or("#000");
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        let ly = TOP + 18.0 + i as f64 * 18.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            LEFT + 12.0,
            LEFT + 36.0,
            LEFT + 42.0,
            ly + 4.0,
            escape(&s.label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::latency::new_histogram;

    #[test]
    fn nines_axis() {
        assert!((nines(0.0) - 0.0).abs() < 1e-9);
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-6);
        assert_eq!(percent_label(3), "99.9%");
        assert_eq!(percent_label(2), "99%");
        assert_eq!(percent_label(1), "90%");
        assert_eq!(percent_label(5), "99.999%");
    }

    #[test]
    fn renders_one_polyline_per_session() {
        let mut a = new_histogram();
        let mut b = new_histogram();
        for v in 1..=10_000u64 {
            a.saturating_record(v * 10);
            b.saturating_record(v * 20);
        }
        let svg = render(
            "e2e <test>",
            &[
                Series {
                    label: "base".into(),
                    hist: &a,
                },
                Series {
                    label: "new".into(),
                    hist: &b,
                },
            ],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"series\"").count(), 2);
        assert!(svg.contains("e2e &lt;test&gt;"));
        for label in ["50%", "90%", "99%", "99.9%", "99.99%"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label}");
        }
    }
}
