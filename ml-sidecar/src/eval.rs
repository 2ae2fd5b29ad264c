//! Evaluation on held-out time: the model and three naive baselines over exactly the same
//! rows (the test part's complete, labelled windows, or every labelled window with `all`):
//!
//! - `majority`: always the majority class of the model's training part;
//! - `last_move`: the sign of the instrument's last non-zero mid move (`last_mid_move_bps`);
//! - `imbalance`: the sign of the top-of-book imbalance (`top_imbalance`).
//!
//! Each is scored for accuracy, macro F1, the confusion matrix and the IC of its edge (the
//! model's `edge_bps`; a baseline's class as -1/0/+1) against the realised move. The rows go to
//! `P.csv` and the figures to `E.json`, computed from those rows only. The verdict says plainly
//! whether the model beats every baseline.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use kestrel_strategy::sidecar::features::{LAST_MID_MOVE, TOP_IMBALANCE};
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Split, UNLABELLED};
use crate::metrics::{Scores, score};
use crate::runtime::{Model, argmax_class};
use crate::window::DatasetWindows;

/// Which rows to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalSplit {
    /// The test part (held-out time).
    Test,
    /// The validation part.
    Valid,
    /// Every labelled sample (a dataset the model has never seen: another day or ticker).
    All,
}

/// One scored row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Sample index in the dataset.
    pub sample: usize,
    /// Event time, ns.
    pub time_ns: u64,
    /// Instrument.
    pub instrument: u32,
    /// True class.
    pub label: i8,
    /// Model's class.
    pub model: i8,
    /// Baselines' classes.
    pub majority: i8,
    /// Last-move baseline.
    pub last_move: i8,
    /// Imbalance baseline.
    pub imbalance: i8,
    /// Model edge, bps.
    pub edge_bps: f64,
    /// Realised move, bps.
    pub move_bps: f64,
    /// Probabilities down, flat, up.
    pub probs: [f32; 3],
}

/// `E.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The model's figures (with its name).
    pub model: NamedScores,
    /// The baselines' figures.
    pub baselines: std::collections::BTreeMap<String, Scores>,
    /// Which rows.
    pub split: EvalSplit,
    /// The dataset evaluated.
    pub dataset: String,
    /// The model directory.
    pub model_dir: String,
    /// Whether the model's macro F1 and IC beat every baseline's.
    pub beats_baselines: bool,
    /// The verdict in words.
    pub verdict: String,
}

/// Scores with the predictor's name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedScores {
    /// `lstm`, `deeplob` or `transformer`.
    pub name: String,
    /// Figures.
    #[serde(flatten)]
    pub scores: Scores,
}

fn sign(x: f32) -> i8 {
    if x > 0.0 {
        1
    } else if x < 0.0 {
        -1
    } else {
        0
    }
}

/// Predicts every eligible row of `d` with `m`, `batch` windows at a time.
pub fn predict_rows(m: &Model, d: &Dataset, split: EvalSplit, batch: usize) -> Vec<Row> {
    let w = DatasetWindows::new(d, &m.spec);
    let ids: Vec<usize> = (0..d.len())
        .filter(|&i| {
            d.labels[i] != UNLABELLED
                && w.complete(i)
                && match split {
                    EvalSplit::Test => d.split_of(i) == Some(Split::Test),
                    EvalSplit::Valid => d.split_of(i) == Some(Split::Valid),
                    EvalSplit::All => true,
                }
        })
        .collect();
    let majority = m.spec.majority_class();
    let size = w.size();
    let mut buf = vec![0f32; batch.max(1) * size];
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(batch.max(1)) {
        for (k, &i) in chunk.iter().enumerate() {
            w.fill(i, &mut buf[k * size..(k + 1) * size]);
        }
        let probs = m.predict(&buf[..chunk.len() * size], chunk.len());
        for (&i, p) in chunk.iter().zip(probs) {
            let row = d.row(i);
            rows.push(Row {
                sample: i,
                time_ns: d.time_ns[i],
                instrument: d.instrument[i],
                label: d.labels[i],
                model: argmax_class(&p),
                majority,
                last_move: sign(row[LAST_MID_MOVE]),
                imbalance: sign(row[TOP_IMBALANCE]),
                edge_bps: m.edge_of(&p).0,
                move_bps: f64::from(d.moves[i]),
                probs: p,
            });
        }
    }
    rows
}

/// The figures of the rows (the only input of `E.json`).
pub fn report_of(
    rows: &[Row],
    model_name: &str,
    split: EvalSplit,
    dataset: &str,
    model_dir: &str,
) -> EvalReport {
    let labels: Vec<i8> = rows.iter().map(|r| r.label).collect();
    let moves: Vec<f64> = rows.iter().map(|r| r.move_bps).collect();
    let of = |pred: &dyn Fn(&Row) -> i8, edge: &dyn Fn(&Row) -> f64| {
        let p: Vec<i8> = rows.iter().map(pred).collect();
        let e: Vec<f64> = rows.iter().map(edge).collect();
        score(&labels, &p, &e, &moves)
    };
    let model = of(&|r| r.model, &|r| r.edge_bps);
    let mut baselines = std::collections::BTreeMap::new();
    baselines.insert(
        "majority".to_owned(),
        of(&|r| r.majority, &|r| f64::from(r.majority)),
    );
    baselines.insert(
        "last_move".to_owned(),
        of(&|r| r.last_move, &|r| f64::from(r.last_move)),
    );
    baselines.insert(
        "imbalance".to_owned(),
        of(&|r| r.imbalance, &|r| f64::from(r.imbalance)),
    );
    let mut lost = Vec::new();
    for (name, b) in &baselines {
        if model.macro_f1 <= b.macro_f1 {
            lost.push(format!(
                "macro F1 {:.4} <= {name} {:.4}",
                model.macro_f1, b.macro_f1
            ));
        }
        if let Some(bic) = b.ic
            && model.ic.is_none_or(|mic| mic <= bic)
        {
            lost.push(format!(
                "IC {} <= {name} {bic:.4}",
                model
                    .ic
                    .map_or_else(|| "-".to_owned(), |x| format!("{x:.4}"))
            ));
        }
    }
    let beats = lost.is_empty() && !rows.is_empty();
    let verdict = if rows.is_empty() {
        "no rows to evaluate".to_owned()
    } else if beats {
        format!("{model_name} beats every baseline on macro F1 and IC")
    } else {
        format!(
            "{model_name} does NOT beat the baselines: {}",
            lost.join("; ")
        )
    };
    EvalReport {
        model: NamedScores {
            name: model_name.to_owned(),
            scores: model,
        },
        baselines,
        split,
        dataset: dataset.to_owned(),
        model_dir: model_dir.to_owned(),
        beats_baselines: beats,
        verdict,
    }
}

/// `P.csv` header.
pub const CSV_HEADER: &str = "sample,time_ns,instrument,label,model,majority,last_move,imbalance,edge_bps,move_bps,p_down,p_flat,p_up";

/// Writes the rows as `P.csv`.
pub fn write_predictions(rows: &[Row], path: &Path) -> anyhow::Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    writeln!(w, "{CSV_HEADER}")?;
    for r in rows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.sample,
            r.time_ns,
            r.instrument,
            r.label,
            r.model,
            r.majority,
            r.last_move,
            r.imbalance,
            r.edge_bps,
            r.move_bps,
            r.probs[0],
            r.probs[1],
            r.probs[2]
        )?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{v:+.4}"))
}

/// The model-vs-baseline table.
pub fn render(r: &EvalReport) -> String {
    let mut s = String::new();
    let n = r.model.scores.n;
    let _ = writeln!(
        s,
        "{} on {} ({:?} split, {n} windows)",
        r.model.name, r.dataset, r.split
    );
    let _ = writeln!(
        s,
        "{:<12} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "predictor", "accuracy", "macro_f1", "f1_down", "f1_flat", "f1_up", "ic"
    );
    let mut line = |name: &str, x: &Scores| {
        let _ = writeln!(
            s,
            "{:<12} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8}",
            name,
            x.accuracy,
            x.macro_f1,
            x.f1[0],
            x.f1[1],
            x.f1[2],
            opt(x.ic)
        );
    };
    line(&r.model.name, &r.model.scores);
    for (name, b) in &r.baselines {
        line(name, b);
    }
    let c = &r.model.scores.confusion;
    let _ = writeln!(
        s,
        "confusion of {} (rows true down/flat/up, columns predicted): {:?} {:?} {:?}",
        r.model.name, c[0], c[1], c[2]
    );
    let _ = writeln!(s, "verdict: {}", r.verdict);
    s
}
