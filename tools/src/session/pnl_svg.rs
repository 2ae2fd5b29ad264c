//! The P&L and inventory plot of a backtest or session (`pnl.csv`), as a standalone SVG: net
//! P&L in dollars on top, net position in shares below, both against event time.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

/// `(time_ns, pnl, position)` rows of a `pnl.csv`.
pub fn read_pnl_csv(path: &Path) -> anyhow::Result<Vec<(u64, f64, i64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let mut f = line.split(',');
        let parse = || {
            anyhow::anyhow!(
                "{} line {}: expected time_ns,pnl,position",
                path.display(),
                i + 1
            )
        };
        let t = f.next().and_then(|x| x.parse().ok()).ok_or_else(parse)?;
        let p = f.next().and_then(|x| x.parse().ok()).ok_or_else(parse)?;
        let q = f.next().and_then(|x| x.parse().ok()).ok_or_else(parse)?;
        rows.push((t, p, q));
    }
    Ok(rows)
}

const W: f64 = 900.0;
const PANEL_H: f64 = 220.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 50.0;

fn panel(out: &mut String, y0: f64, title: &str, xs: &[f64], ys: &[f64], color: &str, step: bool) {
    let (xmin, xmax) = (
        xs.first().copied().unwrap_or(0.0),
        xs.last().copied().unwrap_or(1.0),
    );
    let ymin = ys.iter().copied().fold(f64::INFINITY, f64::min).min(0.0);
    let ymax = ys
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .max(0.0);
    let (ymin, ymax) = if (ymax - ymin).abs() < 1e-12 {
        (ymin - 1.0, ymax + 1.0)
    } else {
        (ymin, ymax)
    };
    let px = |x: f64| LEFT + (x - xmin) / (xmax - xmin).max(1e-12) * (W - LEFT - RIGHT);
    let py = |y: f64| y0 + PANEL_H - (y - ymin) / (ymax - ymin) * PANEL_H;
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{y0}" width="{}" height="{PANEL_H}" fill="none" stroke="#999"/>"##,
        W - LEFT - RIGHT
    );
    let _ = writeln!(
        out,
        r##"<text x="{LEFT}" y="{}" font-size="14">{title}</text>"##,
        y0 - 8.0
    );
    for (v, label) in [
        (ymax, format!("{ymax:.2}")),
        (ymin, format!("{ymin:.2}")),
        (0.0, "0".to_owned()),
    ] {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{:.1}" font-size="11" text-anchor="end">{label}</text>"##,
            LEFT - 6.0,
            py(v) + 4.0
        );
    }
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#ccc" stroke-dasharray="4 3"/>"##,
        W - RIGHT,
        py(0.0),
        py(0.0)
    );
    let mut d = String::new();
    for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
        if i == 0 {
            let _ = write!(d, "M{:.1},{:.1}", px(*x), py(*y));
        } else {
            if step {
                let _ = write!(d, " H{:.1}", px(*x));
            }
            let _ = write!(d, " L{:.1},{:.1}", px(*x), py(*y));
        }
    }
    let _ = writeln!(
        out,
        r#"<path d="{d}" fill="none" stroke="{color}" stroke-width="1.5"/>"#
    );
    let _ = writeln!(
        out,
        r##"<text x="{LEFT}" y="{}" font-size="11">0 s</text><text x="{}" y="{}" font-size="11" text-anchor="end">{:.1} s</text>"##,
        y0 + PANEL_H + 14.0,
        W - RIGHT,
        y0 + PANEL_H + 14.0,
        xmax - xmin
    );
}

/// The SVG of one session's P&L and inventory.
pub fn render_pnl(title: &str, rows: &[(u64, f64, i64)]) -> String {
    let t0 = rows.first().map_or(0, |r| r.0);
    let xs: Vec<f64> = rows.iter().map(|r| (r.0 - t0) as f64 / 1e9).collect();
    let pnl: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let pos: Vec<f64> = rows.iter().map(|r| r.2 as f64).collect();
    let h = TOP + 2.0 * PANEL_H + GAP + 30.0;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" viewBox="0 0 {W} {h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="{LEFT}" y="20" font-size="16">{title}</text>
"##
    );
    panel(
        &mut out,
        TOP + 10.0,
        "net P&L ($)",
        &xs,
        &pnl,
        "#1f77b4",
        false,
    );
    panel(
        &mut out,
        TOP + PANEL_H + GAP,
        "net position (shares)",
        &xs,
        &pos,
        "#d62728",
        true,
    );
    out.push_str("</svg>\n");
    out
}

/// For every session in `dirs` with a `pnl.csv` (backtests and sessions with a gateway), writes
/// its P&L and inventory plot beside `out` as `<out stem>-pnl[-<n>].svg`; returns the files.
pub fn plot_pnl(
    dirs: &[std::path::PathBuf],
    out: &Path,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("plot");
    for (i, d) in dirs.iter().enumerate() {
        let csv = d.join("pnl.csv");
        if !csv.exists() {
            continue;
        }
        let rows = read_pnl_csv(&csv)?;
        let name = if dirs.len() == 1 {
            format!("{stem}-pnl.svg")
        } else {
            format!("{stem}-pnl-{}.svg", i + 1)
        };
        let path = out.with_file_name(name);
        let title = format!("{}: P&L and inventory", d.display());
        std::fs::write(&path, render_pnl(&title, &rows))
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_panels_from_a_csv() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pnl.csv");
        std::fs::write(
            &f,
            "time_ns,pnl,position\n0,0,0\n1000000000,-2.5,100\n2000000000,1.25,-50\n",
        )
        .unwrap();
        let rows = read_pnl_csv(&f).unwrap();
        assert_eq!(
            rows,
            vec![
                (0, 0.0, 0),
                (1_000_000_000, -2.5, 100),
                (2_000_000_000, 1.25, -50)
            ]
        );
        let svg = render_pnl("s", &rows);
        assert!(svg.contains("net P&L") && svg.contains("net position"));
        assert_eq!(svg.matches("<path").count(), 2);
        std::fs::write(&f, "time_ns,pnl,position\nx,1,2\n").unwrap();
        assert!(read_pnl_csv(&f).unwrap_err().to_string().contains("line 2"));
    }
}
