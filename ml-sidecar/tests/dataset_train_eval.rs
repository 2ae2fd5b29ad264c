//! `dataset`, `train` and `eval` end to end through `scripts/ml.sh` on the bundled LOBSTER
//! sample: the dataset's features are the core's, its split is walk-forward with no label
//! crossing a boundary, training is seeded and reproducible on CPU, and `eval`'s `E.json` is
//! exactly the figures of its `P.csv` rows.

mod common;

use std::collections::HashMap;

use common::{ml, ml_ok, small_dataset, small_model};
use kestrel_ml::dataset::{Split, UNLABELLED, label_of, store};
use kestrel_ml::metrics::score;

#[test]
fn dataset_is_walk_forward_with_labels_from_the_moves() {
    let dir = tempfile::tempdir().unwrap();
    let ds = small_dataset(dir.path());
    let d = store::load(&ds).unwrap();
    let m = &d.meta;
    assert_eq!(m.schema, kestrel_strategy::sidecar::feature_names());
    assert!(m.samples > 900, "{}", m.samples);
    assert_eq!(m.horizon, 10);
    assert!(m.dead_band_bps > 0.0);
    // Labels are the dead-banded sign of the stored moves.
    for i in 0..d.len() {
        if d.labels[i] == UNLABELLED {
            assert!(d.moves[i].is_nan());
        } else {
            assert_eq!(d.labels[i], label_of(d.moves[i], m.dead_band_bps));
        }
    }
    // Walk-forward: every training sample is earlier than every validation sample, which are
    // earlier than every test sample; and no training label reaches into validation time.
    let times = |s: Split| -> Vec<u64> {
        (0..d.len())
            .filter(|&i| d.split_of(i) == Some(s))
            .map(|i| d.time_ns[i])
            .collect()
    };
    let (tr, va, te) = (times(Split::Train), times(Split::Valid), times(Split::Test));
    assert!(!tr.is_empty() && !va.is_empty() && !te.is_empty());
    assert!(tr.iter().max() < va.iter().min());
    assert!(va.iter().max() < te.iter().min());
    for i in 0..d.len() {
        if d.split_of(i) == Some(Split::Train) {
            // One instrument: the label ends at sample i + horizon.
            assert!(
                d.time_ns[i + m.horizon] < m.valid_from_ns,
                "sample {i} leaks"
            );
        }
    }
    assert_eq!(m.embargoed as usize, 2 * m.horizon);
    let counted: u64 = m.class_counts.values().flatten().sum();
    assert_eq!(counted as usize, tr.len() + va.len() + te.len());
}

#[test]
fn training_is_seeded_and_reproducible_on_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let ds = small_dataset(dir.path());
    for kind in ["lstm", "deeplob", "transformer"] {
        let a = small_model(&ds, dir.path(), kind, &format!("{kind}-a"), 7);
        let b = small_model(&ds, dir.path(), kind, &format!("{kind}-b"), 7);
        let c = small_model(&ds, dir.path(), kind, &format!("{kind}-c"), 8);
        let w = |p: &std::path::Path| std::fs::read(p.join("weights.safetensors")).unwrap();
        assert_eq!(w(&a), w(&b), "{kind}: same seed, different weights");
        assert_ne!(w(&a), w(&c), "{kind}: another seed gave the same weights");
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(a.join("model.json")).unwrap()).unwrap();
        assert_eq!(spec["kind"], kind);
        assert_eq!(spec["training"]["steps"], 4);
        assert_eq!(spec["training"]["device"], "cpu");
        assert_eq!(spec["schema"].as_array().unwrap().len(), 61);
    }
}

#[test]
fn eval_json_is_computed_from_exactly_the_csv_rows() {
    let dir = tempfile::tempdir().unwrap();
    let ds = small_dataset(dir.path());
    let model = small_model(&ds, dir.path(), "lstm", "m", 1);
    let p = dir.path().join("P.csv");
    let e = dir.path().join("E.json");
    let out = ml_ok(&[
        "eval",
        model.to_str().unwrap(),
        ds.to_str().unwrap(),
        "--predictions",
        p.to_str().unwrap(),
        "--json",
        e.to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    // The table names the model and every baseline, and gives a verdict.
    for word in ["lstm", "majority", "last_move", "imbalance", "verdict:"] {
        assert!(out.contains(word), "{out}");
    }
    let csv = std::fs::read_to_string(&p).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col: HashMap<&str, usize> = header.iter().enumerate().map(|(i, h)| (*h, i)).collect();
    for c in ["label", "model", "majority", "last_move", "imbalance"] {
        assert!(col.contains_key(c), "missing column {c}");
    }
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert!(!rows.is_empty());
    let get = |r: &Vec<String>, c: &str| -> f64 { r[col[c]].parse().unwrap() };
    let labels: Vec<i8> = rows.iter().map(|r| get(r, "label") as i8).collect();
    let moves: Vec<f64> = rows.iter().map(|r| get(r, "move_bps")).collect();
    for l in &labels {
        assert!([-1, 0, 1].contains(l));
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&e).unwrap()).unwrap();
    let close = |a: f64, b: &serde_json::Value, what: &str| {
        let b = b.as_f64().unwrap_or(f64::NAN);
        assert!((a - b).abs() < 1e-9, "{what}: csv {a} json {b}");
    };
    // Model: classes and edges from the csv.
    let pred: Vec<i8> = rows.iter().map(|r| get(r, "model") as i8).collect();
    let edges: Vec<f64> = rows.iter().map(|r| get(r, "edge_bps")).collect();
    let s = score(&labels, &pred, &edges, &moves);
    assert_eq!(json["model"]["n"], rows.len());
    close(s.accuracy, &json["model"]["accuracy"], "model accuracy");
    close(s.macro_f1, &json["model"]["macro_f1"], "model macro_f1");
    if let Some(ic) = s.ic {
        assert!((ic - json["model"]["ic"].as_f64().unwrap()).abs() < 1e-6);
    }
    for b in ["majority", "last_move", "imbalance"] {
        let pred: Vec<i8> = rows.iter().map(|r| get(r, b) as i8).collect();
        let edges: Vec<f64> = pred.iter().map(|&x| f64::from(x)).collect();
        let s = score(&labels, &pred, &edges, &moves);
        close(s.accuracy, &json["baselines"][b]["accuracy"], b);
        close(s.macro_f1, &json["baselines"][b]["macro_f1"], b);
        let conf: Vec<Vec<u64>> =
            serde_json::from_value(json["baselines"][b]["confusion"].clone()).unwrap();
        assert_eq!(
            conf,
            s.confusion.iter().map(|r| r.to_vec()).collect::<Vec<_>>()
        );
    }
    // The majority baseline always says the training part's majority class.
    let maj: Vec<i8> = rows.iter().map(|r| get(r, "majority") as i8).collect();
    assert!(maj.windows(2).all(|w| w[0] == w[1]));
    // The verdict agrees with the figures.
    let beats = json["beats_baselines"].as_bool().unwrap();
    let verdict = json["verdict"].as_str().unwrap();
    assert_eq!(beats, !verdict.contains("NOT"), "{verdict}");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = ml(&[
        "train",
        dir.path().to_str().unwrap(),
        "--model",
        "lstm",
        "--out",
        "x",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("meta.json"), "{err}");
    let o = ml(&["dataset", "--out", dir.path().join("d").to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains(".kcap"));
    let o = ml(&[
        "dataset",
        "--messages",
        "/nonexistent.csv",
        "--orderbook",
        "/nonexistent2.csv",
        "--out",
        dir.path().join("d").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent.csv"));
}
