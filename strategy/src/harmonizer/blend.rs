//! Blending: each model's edge shrunk toward zero by its track record, then a mean weighted by
//! regime weight times confidence.

use crate::edge::ModelEdge;
use crate::params::MAX_MODELS;

/// The blend of one update.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Blend {
    /// Weighted mean of the shrunk edges, bps.
    pub edge_bps: f64,
    /// Mean confidence under the regime weights (0 when no model has an opinion).
    pub confidence: f64,
    /// Each model's edge after shrinkage, bps (zero for ignored models).
    pub shrunk_bps: [f64; MAX_MODELS],
}

/// Blends `edges` (at most [`MAX_MODELS`] used) with regime `weights` and shrinkage weights
/// `shrink` in `[0, 1]`. Edges with a confidence below `min_confidence`, non-finite edges and
/// zero weights are ignored. Returns the blend and the number of non-finite inputs ignored.
pub fn blend(
    edges: &[ModelEdge],
    weights: &[f64; MAX_MODELS],
    shrink: &[f64; MAX_MODELS],
    min_confidence: f64,
) -> (Blend, u32) {
    let mut out = Blend::default();
    let mut non_finite = 0;
    let mut num = 0.0;
    let mut den = 0.0;
    let mut weight_sum = 0.0;
    // One walk over four slices of one length (no per-model index or bound to check).
    let n = edges.len().min(MAX_MODELS);
    let models = edges[..n]
        .iter()
        .zip(&weights[..n])
        .zip(&shrink[..n])
        .zip(&mut out.shrunk_bps[..n]);
    for (((e, &w), &s), shrunk_out) in models {
        if !e.edge_bps.is_finite() || !e.confidence.is_finite() {
            non_finite += 1;
            continue;
        }
        weight_sum += w;
        let c = e.confidence.clamp(0.0, 1.0);
        if c < min_confidence || c == 0.0 || w <= 0.0 {
            continue;
        }
        let shrunk = s.clamp(0.0, 1.0) * e.edge_bps;
        *shrunk_out = shrunk;
        num += w * c * shrunk;
        den += w * c;
    }
    if den > 0.0 {
        out.edge_bps = num / den;
        out.confidence = if weight_sum > 0.0 {
            den / weight_sum
        } else {
            0.0
        };
    }
    if !out.edge_bps.is_finite() {
        non_finite += 1;
        out.edge_bps = 0.0;
    }
    (out, non_finite)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[f64]) -> [f64; MAX_MODELS] {
        let mut a = [0.0; MAX_MODELS];
        a[..v.len()].copy_from_slice(v);
        a
    }

    /// The blend as it was written before the slice walk (index per model).
    fn blend_reference(
        edges: &[ModelEdge],
        weights: &[f64; MAX_MODELS],
        shrink: &[f64; MAX_MODELS],
        min_confidence: f64,
    ) -> (Blend, u32) {
        let mut out = Blend::default();
        let mut non_finite = 0;
        let (mut num, mut den, mut weight_sum) = (0.0, 0.0, 0.0);
        for (m, e) in edges.iter().enumerate().take(MAX_MODELS) {
            if !e.edge_bps.is_finite() || !e.confidence.is_finite() {
                non_finite += 1;
                continue;
            }
            let w = weights[m];
            weight_sum += w;
            let c = e.confidence.clamp(0.0, 1.0);
            if c < min_confidence || c == 0.0 || w <= 0.0 {
                continue;
            }
            let shrunk = shrink[m].clamp(0.0, 1.0) * e.edge_bps;
            out.shrunk_bps[m] = shrunk;
            num += w * c * shrunk;
            den += w * c;
        }
        if den > 0.0 {
            out.edge_bps = num / den;
            out.confidence = if weight_sum > 0.0 {
                den / weight_sum
            } else {
                0.0
            };
        }
        if !out.edge_bps.is_finite() {
            non_finite += 1;
            out.edge_bps = 0.0;
        }
        (out, non_finite)
    }

    fn any_f64() -> impl proptest::strategy::Strategy<Value = f64> {
        proptest::prop_oneof![
            -2.0f64..2.0,
            -1e6f64..1e6,
            proptest::num::f64::ANY,
            proptest::sample::select(vec![0.0, -0.0, 1.0, f64::NAN, f64::INFINITY, f64::MAX]),
        ]
    }

    proptest::proptest! {
        /// The slice walk gives the indexed loop's blend bit for bit (compared as bits, so
        /// NaN and signed zeros count): up to ten edges (more than the models), non-finite
        /// edges, weights and shrinkage out of range.
        #[test]
        fn blend_equals_the_indexed_reference(
            edges in proptest::collection::vec((any_f64(), any_f64()), 0..10),
            weights in proptest::array::uniform8(any_f64()),
            shrink in proptest::array::uniform8(any_f64()),
            min_confidence in any_f64(),
        ) {
            let edges: Vec<ModelEdge> = edges
                .into_iter()
                .map(|(edge_bps, confidence)| ModelEdge { edge_bps, confidence })
                .collect();
            let (a, an) = blend(&edges, &weights, &shrink, min_confidence);
            let (b, bn) = blend_reference(&edges, &weights, &shrink, min_confidence);
            let bits = |x: &Blend| {
                let mut v = vec![x.edge_bps.to_bits(), x.confidence.to_bits()];
                v.extend(x.shrunk_bps.iter().map(|s| s.to_bits()));
                v
            };
            proptest::prop_assert_eq!(bits(&a), bits(&b));
            proptest::prop_assert_eq!(an, bn);
        }
    }

    #[test]
    fn hand_computed_blend() {
        let edges = [
            ModelEdge::new(10.0, 0.5),
            ModelEdge::new(-4.0, 1.0),
            ModelEdge::new(100.0, 0.0), // no opinion
        ];
        let (b, bad) = blend(&edges, &w(&[1.0, 2.0, 1.0]), &w(&[0.8, 0.5, 1.0]), 0.0);
        assert_eq!(bad, 0);
        // shrunk: 8, -2 ; weights*conf: 0.5, 2.0 -> (0.5*8 + 2*(-2)) / 2.5 = 0
        assert_eq!(b.shrunk_bps[0], 8.0);
        assert_eq!(b.shrunk_bps[1], -2.0);
        assert_eq!(b.shrunk_bps[2], 0.0);
        assert!(b.edge_bps.abs() < 1e-12);
        // confidence: 2.5 / (1 + 2 + 1)
        assert!((b.confidence - 0.625).abs() < 1e-12);

        let (b, _) = blend(&edges, &w(&[3.0, 1.0, 0.0]), &w(&[1.0, 1.0, 1.0]), 0.0);
        // (1.5*10 + 1*(-4)) / 2.5 = 4.4
        assert!((b.edge_bps - 4.4).abs() < 1e-12);
    }

    #[test]
    fn min_confidence_and_non_finite_are_ignored() {
        let edges = [
            ModelEdge {
                edge_bps: f64::NAN,
                confidence: 1.0,
            },
            ModelEdge::new(6.0, 0.2),
            ModelEdge::new(2.0, 0.9),
        ];
        let (b, bad) = blend(&edges, &w(&[1.0, 1.0, 1.0]), &w(&[1.0, 1.0, 1.0]), 0.5);
        assert_eq!(bad, 1);
        assert!((b.edge_bps - 2.0).abs() < 1e-12);
    }

    #[test]
    fn zero_shrink_gives_zero_edge() {
        let edges = [ModelEdge::new(50.0, 1.0)];
        let (b, _) = blend(&edges, &w(&[1.0]), &w(&[0.0]), 0.0);
        assert_eq!(b.edge_bps, 0.0);
    }
}
