//! A small Transformer encoder: a linear projection of each feature vector to `d_model`, a
//! learned position embedding, `layers` pre-norm encoder layers (multi-head self-attention
//! over the window, then a GELU feed-forward), a final layer norm, and a linear layer on the
//! last position.

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::{Hyper, Net};

#[derive(Debug)]
struct Layer {
    norm1: nn::LayerNorm,
    qkv: nn::Linear,
    out: nn::Linear,
    norm2: nn::LayerNorm,
    ff1: nn::Linear,
    ff2: nn::Linear,
}

/// The encoder classifier.
#[derive(Debug)]
pub struct TransformerNet {
    proj: nn::Linear,
    pos: Tensor,
    layers: Vec<Layer>,
    norm: nn::LayerNorm,
    head: nn::Linear,
    heads: i64,
    d: i64,
    dropout: f64,
}

impl TransformerNet {
    /// Variables under `root`.
    pub fn new(root: &nn::Path, inputs: i64, window: i64, h: &Hyper) -> Self {
        let d = h.d_model;
        let ln = || nn::LayerNormConfig::default();
        let layers = (0..h.layers)
            .map(|l| {
                let p = root / format!("layer{l}");
                Layer {
                    norm1: nn::layer_norm(&p / "norm1", vec![d], ln()),
                    qkv: nn::linear(&p / "qkv", d, 3 * d, Default::default()),
                    out: nn::linear(&p / "out", d, d, Default::default()),
                    norm2: nn::layer_norm(&p / "norm2", vec![d], ln()),
                    ff1: nn::linear(&p / "ff1", d, 2 * d, Default::default()),
                    ff2: nn::linear(&p / "ff2", 2 * d, d, Default::default()),
                }
            })
            .collect();
        Self {
            proj: nn::linear(root / "proj", inputs, d, Default::default()),
            pos: root.var(
                "pos",
                &[window, d],
                nn::Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            ),
            layers,
            norm: nn::layer_norm(root / "norm", vec![d], ln()),
            head: nn::linear(root / "head", d, 3, Default::default()),
            heads: h.heads,
            d,
            dropout: h.dropout,
        }
    }

    fn attention(&self, l: &Layer, x: &Tensor, train: bool) -> Tensor {
        let (b, t, _) = x.size3().unwrap_or((1, 1, self.d));
        let dh = self.d / self.heads;
        // [B, T, 3D] -> 3 x [B, H, T, Dh]
        let qkv = l
            .qkv
            .forward(x)
            .view([b, t, 3, self.heads, dh])
            .permute([2, 0, 3, 1, 4]);
        let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
        let p = if train { self.dropout } else { 0.0 };
        let y =
            Tensor::scaled_dot_product_attention::<Tensor>(&q, &k, &v, None, p, false, None, false);
        let y = y.transpose(1, 2).contiguous().view([b, t, self.d]);
        l.out.forward(&y).dropout(self.dropout, train)
    }
}

impl Net for TransformerNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = self.proj.forward(xs) + &self.pos;
        for l in &self.layers {
            x = &x + self.attention(l, &l.norm1.forward(&x), train);
            let ff = l
                .ff2
                .forward(&l.ff1.forward(&l.norm2.forward(&x)).gelu("none"))
                .dropout(self.dropout, train);
            x = &x + ff;
        }
        let last = self.norm.forward(&x).select(1, -1);
        self.head.forward(&last).to_kind(Kind::Float)
    }
}
