//! Classification and ranking figures: accuracy, macro F1, the confusion matrix, and the
//! information coefficient (Pearson correlation of an edge with the realised move).

use serde::{Deserialize, Serialize};

use crate::dataset::class_index;

/// Figures of one predictor over the same rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Rows scored.
    pub n: u64,
    /// Fraction predicted right.
    pub accuracy: f64,
    /// Mean F1 over the classes present in the labels or the predictions (as scikit-learn's
    /// `f1_score(average="macro")`).
    pub macro_f1: f64,
    /// F1 of down, flat, up (0 when undefined).
    pub f1: [f64; 3],
    /// `confusion[true][predicted]`, classes down, flat, up.
    pub confusion: [[u64; 3]; 3],
    /// Pearson correlation of the edge with the realised move; `None` if either is constant.
    pub ic: Option<f64>,
}

/// Scores `predicted` classes (and `edges`) against `labels` and realised `moves`.
pub fn score(labels: &[i8], predicted: &[i8], edges: &[f64], moves: &[f64]) -> Scores {
    let mut confusion = [[0u64; 3]; 3];
    for (&l, &p) in labels.iter().zip(predicted) {
        confusion[class_index(l)][class_index(p)] += 1;
    }
    let n: u64 = confusion.iter().flatten().sum();
    let correct: u64 = (0..3).map(|c| confusion[c][c]).sum();
    let mut f1 = [0f64; 3];
    let mut present = 0;
    let mut f1_sum = 0.0;
    for c in 0..3 {
        let tp = confusion[c][c] as f64;
        let support: u64 = confusion[c].iter().sum();
        let predicted_c: u64 = (0..3).map(|t| confusion[t][c]).sum();
        if support == 0 && predicted_c == 0 {
            continue;
        }
        present += 1;
        let denom = support as f64 + predicted_c as f64;
        f1[c] = if denom > 0.0 { 2.0 * tp / denom } else { 0.0 };
        f1_sum += f1[c];
    }
    Scores {
        n,
        accuracy: if n > 0 {
            correct as f64 / n as f64
        } else {
            0.0
        },
        macro_f1: if present > 0 {
            f1_sum / present as f64
        } else {
            0.0
        },
        f1,
        confusion,
        ic: pearson(edges, moves),
    }
}

/// Pearson correlation; `None` with fewer than 3 pairs or a constant side.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 3 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (a, b) = (x[i] - mx, y[i] - my);
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    let d = (sxx * syy).sqrt();
    (d > 0.0 && d.is_finite()).then(|| sxy / d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_figures() {
        // scikit-learn: f1_score([1,1,0,-1,-1,0], [1,0,0,-1,1,1], average="macro") = 0.6111...
        let labels = [1, 1, 0, -1, -1, 0];
        let pred = [1, 0, 0, -1, 1, 1];
        let s = score(&labels, &pred, &[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]);
        assert_eq!(s.n, 6);
        assert!((s.accuracy - 0.5).abs() < 1e-12);
        // down: tp1 support2 pred1 -> 2/3; flat: tp1 s2 p2 -> 0.5; up: tp1 s2 p3 -> 0.4
        assert!((s.f1[0] - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.f1[1] - 0.5).abs() < 1e-12);
        assert!((s.f1[2] - 0.4).abs() < 1e-12);
        assert!((s.macro_f1 - (2.0 / 3.0 + 0.5 + 0.4) / 3.0).abs() < 1e-12);
        assert_eq!(s.confusion[2], [0, 1, 1]);
        assert_eq!(s.confusion[0], [1, 0, 1]);
        assert!((s.ic.unwrap() - 1.0).abs() < 1e-12);
        // Always "up" on labels with no flat class: macro over up and down only.
        let s = score(
            &[1, -1, 1, 1],
            &[1, 1, 1, 1],
            &[1.0; 4],
            &[1.0, -1.0, 2.0, 3.0],
        );
        assert!((s.f1[2] - 2.0 * 3.0 / 7.0).abs() < 1e-12);
        assert!((s.macro_f1 - (6.0 / 7.0) / 2.0).abs() < 1e-12);
        assert_eq!(s.ic, None, "a constant edge has no IC");
    }
}
