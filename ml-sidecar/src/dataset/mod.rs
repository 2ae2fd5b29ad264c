//! Datasets: feature vectors (the core's own feature code), labels in {-1, 0, 1} and a
//! walk-forward split by time, stored as a directory of little-endian arrays and a `meta.json`.
//!
//! ```text
//! D/meta.json       schema, horizon, dead band, split times, class counts, sources
//! D/features.f32    samples x features
//! D/moves.f32       realised move over the horizon, bps (NaN when the horizon runs past the data)
//! D/labels.i8       -1 / 0 / 1, or 127 when unlabelled
//! D/instrument.u32  dense instrument id
//! D/time.u64        event time (the updates' recv_ts clock), ns
//! D/split.u8        0 train, 1 validation, 2 test, 255 none (unlabelled or embargoed)
//! ```

pub mod build;
pub mod source;
pub mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `labels.i8` value of a sample without a label.
pub const UNLABELLED: i8 = 127;

/// Which part of the walk-forward split a sample belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// The earliest part: fit the weights and the normalisation.
    Train,
    /// The middle part: choose the epoch (early stopping).
    Valid,
    /// The latest part: held-out time, only for `eval`.
    Test,
}

impl Split {
    /// Stored code.
    pub fn code(self) -> u8 {
        match self {
            Self::Train => 0,
            Self::Valid => 1,
            Self::Test => 2,
        }
    }

    /// From a stored code.
    pub fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(Self::Train),
            1 => Some(Self::Valid),
            2 => Some(Self::Test),
            _ => None,
        }
    }
}

/// Label of a move (bps) under a dead band (bps): +1 above it, -1 below minus it, 0 inside.
#[inline]
pub fn label_of(move_bps: f32, dead_band_bps: f32) -> i8 {
    if move_bps > dead_band_bps {
        1
    } else if move_bps < -dead_band_bps {
        -1
    } else {
        0
    }
}

/// Index of a class (-1, 0, 1) in a 3-way output.
#[inline]
pub fn class_index(label: i8) -> usize {
    match label {
        -1 => 0,
        0 => 1,
        _ => 2,
    }
}

/// The class of an index.
#[inline]
pub fn index_class(i: usize) -> i8 {
    match i {
        0 => -1,
        1 => 0,
        _ => 1,
    }
}

/// `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// `"kestrel-ml-dataset"`.
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Feature names in order.
    pub schema: Vec<String>,
    /// Samples.
    pub samples: usize,
    /// Label horizon, in usable updates of the instrument.
    pub horizon: usize,
    /// Dead band of the labels, bps.
    pub dead_band_bps: f32,
    /// How the dead band was chosen.
    pub dead_band_rule: String,
    /// Fractions of the samples (in time order) in the training and validation parts.
    pub train_fraction: f64,
    /// Validation fraction.
    pub valid_fraction: f64,
    /// First event time of the validation part, ns.
    pub valid_from_ns: u64,
    /// First event time of the test part, ns.
    pub test_from_ns: u64,
    /// Class counts (down, flat, up) per split.
    pub class_counts: BTreeMap<Split, [u64; 3]>,
    /// Labelled samples left out because their horizon crosses into the next part.
    pub embargoed: u64,
    /// Samples without a label (the horizon runs past the data).
    pub unlabelled: u64,
    /// Mean |move| of the training samples labelled up or down, bps (the models' edge scale).
    pub move_scale_bps: f32,
    /// Instrument symbols by dense id.
    pub instruments: Vec<String>,
    /// Where the updates came from.
    pub sources: Vec<String>,
    /// Book updates read and how many were usable (normal book, trading).
    pub updates: u64,
    /// Feed anomalies met.
    pub anomalies: u64,
}

/// The format name in `meta.json`.
pub const FORMAT: &str = "kestrel-ml-dataset";
/// The format version written.
pub const VERSION: u32 = 1;

/// A dataset in memory.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The metadata.
    pub meta: Meta,
    /// `samples x features`.
    pub features: Vec<f32>,
    /// Realised moves, bps.
    pub moves: Vec<f32>,
    /// Labels (or [`UNLABELLED`]).
    pub labels: Vec<i8>,
    /// Instrument ids.
    pub instrument: Vec<u32>,
    /// Event times.
    pub time_ns: Vec<u64>,
    /// Split codes.
    pub split: Vec<u8>,
}

impl Dataset {
    /// Features per sample.
    pub fn width(&self) -> usize {
        self.meta.schema.len()
    }

    /// Samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features of sample `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        let w = self.width();
        &self.features[i * w..(i + 1) * w]
    }

    /// The split of sample `i`.
    pub fn split_of(&self, i: usize) -> Option<Split> {
        Split::from_code(self.split[i])
    }

    /// Per sample, the samples of its instrument up to and including it, as a position in
    /// `order` (sample ids grouped by instrument, in time order): `(order, position)`.
    pub fn instrument_order(&self) -> (Vec<u32>, Vec<u32>) {
        let mut by_inst: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (i, inst) in self.instrument.iter().enumerate() {
            by_inst.entry(*inst).or_default().push(i as u32);
        }
        let mut order = Vec::with_capacity(self.len());
        let mut position = vec![0u32; self.len()];
        for ids in by_inst.values() {
            for &i in ids {
                position[i as usize] = order.len() as u32;
                order.push(i);
            }
        }
        (order, position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_classes() {
        assert_eq!(label_of(0.6, 0.5), 1);
        assert_eq!(label_of(-0.6, 0.5), -1);
        assert_eq!(label_of(0.5, 0.5), 0);
        assert_eq!(label_of(f32::NAN, 0.5), 0);
        for l in [-1, 0, 1] {
            assert_eq!(index_class(class_index(l)), l);
        }
        for s in [Split::Train, Split::Valid, Split::Test] {
            assert_eq!(Split::from_code(s.code()), Some(s));
        }
        assert_eq!(Split::from_code(255), None);
    }
}
