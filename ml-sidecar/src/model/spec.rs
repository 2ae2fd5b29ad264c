//! A trained model on disk: `M/model.json` (this spec: kind, window, the feature schema it was
//! trained on, the normalisation, the label definition, hyper-parameters, how training went)
//! beside `M/weights.safetensors`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use kestrel_core::shm::FeatureSchema;
use serde::{Deserialize, Serialize};

use super::ModelKind;

/// `model.json` format name.
pub const FORMAT: &str = "kestrel-ml-model";
/// `model.json` version.
pub const VERSION: u32 = 1;
/// Weights file name.
pub const WEIGHTS: &str = "weights.safetensors";
/// Spec file name.
pub const SPEC: &str = "model.json";

/// Hyper-parameters (each model uses the ones it needs).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// LSTM hidden size (LSTM, DeepLOB).
    pub hidden: i64,
    /// Layers (LSTM, Transformer).
    pub layers: i64,
    /// Convolution channels (DeepLOB).
    pub channels: i64,
    /// Channels per inception branch (DeepLOB).
    pub inception: i64,
    /// Model width (Transformer).
    pub d_model: i64,
    /// Attention heads (Transformer).
    pub heads: i64,
    /// Dropout.
    pub dropout: f64,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Batch size.
    pub batch: usize,
}

impl Default for Hyper {
    fn default() -> Self {
        Self {
            hidden: 64,
            layers: 1,
            channels: 16,
            inception: 32,
            d_model: 64,
            heads: 4,
            dropout: 0.1,
            learning_rate: 1e-3,
            batch: 256,
        }
    }
}

impl Hyper {
    /// The defaults for `kind` (the Transformer gets two layers).
    pub fn for_kind(kind: ModelKind) -> Self {
        match kind {
            ModelKind::Transformer => Self {
                layers: 2,
                ..Self::default()
            },
            ModelKind::Lstm | ModelKind::Deeplob => Self::default(),
        }
    }
}

/// Per-feature z-score from the training part, clipped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Mean per feature (whole vector).
    pub mean: Vec<f32>,
    /// Standard deviation per feature (at least a tiny positive value).
    pub std: Vec<f32>,
    /// |z| cap.
    pub clip: f32,
}

impl Normalisation {
    /// `(x - mean) / std`, clipped; for feature `i`.
    #[inline]
    pub fn apply(&self, i: usize, x: f32) -> f32 {
        let z = (x - self.mean[i]) / self.std[i];
        if z.is_finite() {
            z.clamp(-self.clip, self.clip)
        } else {
            0.0
        }
    }
}

/// How training went.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    /// Device used.
    pub device: String,
    /// Torch threads.
    pub threads: i32,
    /// Seed.
    pub seed: u64,
    /// Optimiser steps taken.
    pub steps: u64,
    /// Passes over the training windows (fractional).
    pub epochs: f64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Why training stopped.
    pub stopped: String,
    /// Step of the kept weights (best validation loss).
    pub best_step: u64,
    /// Validation loss of the kept weights.
    pub valid_loss: f64,
    /// Validation accuracy of the kept weights.
    pub valid_accuracy: f64,
    /// Training windows.
    pub train_windows: usize,
    /// Validation windows.
    pub valid_windows: usize,
}

/// `model.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// Which model.
    pub kind: ModelKind,
    /// Id written into every edge (hash of kind, schema and window).
    pub model_id: u32,
    /// Version written into every edge (this training run: seconds since the epoch, low 32
    /// bits).
    pub model_version: u32,
    /// Feature vectors per window.
    pub window: usize,
    /// The full feature schema (the segment's must be equal).
    pub schema: Vec<String>,
    /// Indices of the features the network reads.
    pub inputs: Vec<usize>,
    /// Normalisation of the whole vector.
    pub normalisation: Normalisation,
    /// Label horizon (usable updates).
    pub horizon: usize,
    /// Label dead band, bps.
    pub dead_band_bps: f32,
    /// Edge scale: `edge_bps = (p_up - p_down) * move_scale_bps`.
    pub move_scale_bps: f32,
    /// Class counts (down, flat, up) of the training part (the majority baseline).
    pub train_class_counts: [u64; 3],
    /// Hyper-parameters.
    pub hyper: Hyper,
    /// The dataset trained on.
    pub dataset: String,
    /// Training.
    pub training: TrainingReport,
}

impl ModelSpec {
    /// The schema as the segment checks it.
    pub fn feature_schema(&self) -> anyhow::Result<FeatureSchema> {
        FeatureSchema::new(&self.schema).context("the model's feature schema")
    }

    /// The majority class of the training part (-1, 0, 1).
    pub fn majority_class(&self) -> i8 {
        let c = self.train_class_counts;
        let best = (0..3).max_by_key(|&i| (c[i], i == 1)).unwrap_or(1);
        crate::dataset::index_class(best)
    }

    /// Writes `dir/model.json`.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let p = dir.join(SPEC);
        std::fs::write(&p, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", p.display()))
    }

    /// Reads `dir/model.json`, checked.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let p = dir.join(SPEC);
        let text = std::fs::read_to_string(&p)
            .with_context(|| format!("reading {} (is {} a model?)", p.display(), dir.display()))?;
        let s: Self =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
        if s.format != FORMAT || s.version != VERSION {
            bail!(
                "{}: format {} version {}, this build reads {FORMAT} version {VERSION}",
                p.display(),
                s.format,
                s.version
            );
        }
        let n = s.schema.len();
        if s.normalisation.mean.len() != n
            || s.normalisation.std.len() != n
            || s.inputs.iter().any(|&i| i >= n)
            || s.window == 0
        {
            bail!(
                "{}: inconsistent sizes (schema {n}, window {})",
                p.display(),
                s.window
            );
        }
        Ok(s)
    }

    /// `dir/weights.safetensors`.
    pub fn weights_path(dir: &Path) -> PathBuf {
        dir.join(WEIGHTS)
    }
}

/// The model id: FNV-1a of the kind, window and schema names, folded to 32 bits.
pub fn model_id(kind: ModelKind, window: usize, schema: &[String]) -> u32 {
    let mut h = kestrel_core::book::StableHasher::new();
    h.write(kind.name().as_bytes());
    h.write(&(window as u64).to_le_bytes());
    for n in schema {
        h.write(n.as_bytes());
        h.write(&[0]);
    }
    let x = h.finish();
    (x ^ (x >> 32)) as u32
}
