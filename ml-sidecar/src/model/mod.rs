//! The three models, all over the last `window` feature vectors of an instrument and all ending
//! in three logits (down, flat, up): an LSTM over every feature, a DeepLOB-style CNN-LSTM over
//! the raw top-10 levels only, and a small Transformer encoder over every feature.

pub mod deeplob;
pub mod lstm;
pub mod spec;
pub mod transformer;

use tch::{Tensor, nn};

use kestrel_strategy::sidecar::FEATURE_COUNT;
use kestrel_strategy::sidecar::features::{LEVEL_FEATURES, LEVELS_START};

pub use spec::{Hyper, ModelSpec, Normalisation};

/// Which model.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// LSTM over every feature.
    Lstm,
    /// DeepLOB-style CNN-LSTM over the raw top-10 levels.
    Deeplob,
    /// Transformer encoder over every feature.
    Transformer,
}

impl ModelKind {
    /// Name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lstm => "lstm",
            Self::Deeplob => "deeplob",
            Self::Transformer => "transformer",
        }
    }

    /// Indices of the features the model reads, in the feature vector.
    pub fn inputs(self) -> Vec<usize> {
        match self {
            Self::Deeplob => (LEVELS_START..LEVELS_START + LEVEL_FEATURES).collect(),
            Self::Lstm | Self::Transformer => (0..FEATURE_COUNT).collect(),
        }
    }

    /// A small numeric code (for the model id).
    pub fn code(self) -> u32 {
        match self {
            Self::Lstm => 1,
            Self::Deeplob => 2,
            Self::Transformer => 3,
        }
    }
}

/// A network: `[batch, window, inputs]` to `[batch, 3]` logits.
pub trait Net: std::fmt::Debug {
    /// Forward pass (`train` switches dropout on).
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor;
}

/// Builds the network of `kind` under `root` for `inputs` features and `window` steps.
pub fn build_net(
    kind: ModelKind,
    root: &nn::Path,
    inputs: i64,
    window: i64,
    h: &Hyper,
) -> Box<dyn Net> {
    match kind {
        ModelKind::Lstm => Box::new(lstm::LstmNet::new(root, inputs, h)),
        ModelKind::Deeplob => Box::new(deeplob::DeepLob::new(root, inputs, h)),
        ModelKind::Transformer => {
            Box::new(transformer::TransformerNet::new(root, inputs, window, h))
        }
    }
}
