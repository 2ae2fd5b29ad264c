//! A DeepLOB-style CNN-LSTM (Zhang, Zohren and Roberts, 2019) over the raw top-10 levels,
//! scaled down for a CPU: the input is `[batch, 1, window, 40]` with each level's ask price,
//! ask size, bid price and bid size side by side.
//!
//! - block 1: conv (1x2, stride 1x2) pairs each price with its size, then two (4x1) convs
//!   along time;
//! - block 2: conv (1x2, stride 1x2) pairs the ask with the bid of each level, two (4x1);
//! - block 3: conv (1x10) across the ten levels, two (4x1);
//! - an inception module (1x1 -> 3x1, 1x1 -> 5x1, 3x1 max-pool -> 1x1) along time;
//! - an LSTM over time and a linear layer on its last state.
//!
//! Leaky ReLU (0.01) after every convolution, as in the paper; time convolutions keep the
//! length ("same" padding, the extra row at the end for even kernels, as Keras pads).

use tch::Tensor;
use tch::nn::{self, Module, RNN};

use super::{Hyper, Net};

/// A 2-D convolution with explicit kernel and stride (and "same" padding along time).
#[derive(Debug)]
struct Conv {
    weight: Tensor,
    bias: Tensor,
    stride: [i64; 2],
    /// Rows of padding before and after along time.
    pad_time: (i64, i64),
}

impl Conv {
    fn new(p: &nn::Path, cin: i64, cout: i64, kernel: [i64; 2], stride: [i64; 2]) -> Self {
        let fan_in = (cin * kernel[0] * kernel[1]) as f64;
        let bound = 1.0 / fan_in.sqrt();
        let weight = p.var(
            "weight",
            &[cout, cin, kernel[0], kernel[1]],
            nn::Init::Kaiming {
                dist: nn::init::NormalOrUniform::Uniform,
                fan: nn::init::FanInOut::FanIn,
                non_linearity: nn::init::NonLinearity::ReLU,
            },
        );
        let bias = p.var(
            "bias",
            &[cout],
            nn::Init::Uniform {
                lo: -bound,
                up: bound,
            },
        );
        let total = kernel[0] - 1;
        Self {
            weight,
            bias,
            stride,
            pad_time: (total / 2, total - total / 2),
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        let xs = if self.pad_time == (0, 0) {
            xs.shallow_clone()
        } else {
            // (left, right) of the last dim, then (top, bottom) of time.
            xs.constant_pad_nd([0, 0, self.pad_time.0, self.pad_time.1])
        };
        xs.conv2d(
            &self.weight,
            Some(&self.bias),
            self.stride,
            [0, 0],
            [1, 1],
            1,
        )
        .leaky_relu()
    }
}

/// The CNN-LSTM.
#[derive(Debug)]
pub struct DeepLob {
    blocks: Vec<Conv>,
    inc1: (Conv, Conv),
    inc2: (Conv, Conv),
    inc3: Conv,
    lstm: nn::LSTM,
    head: nn::Linear,
    dropout: f64,
}

impl DeepLob {
    /// Variables under `root`; `inputs` must be 40 (10 levels x 4).
    pub fn new(root: &nn::Path, inputs: i64, h: &Hyper) -> Self {
        let c = h.channels;
        let i = h.inception;
        let levels_width = inputs / 4;
        let p = |n: &str| root / n;
        let blocks = vec![
            Conv::new(&p("b1c1"), 1, c, [1, 2], [1, 2]),
            Conv::new(&p("b1c2"), c, c, [4, 1], [1, 1]),
            Conv::new(&p("b1c3"), c, c, [4, 1], [1, 1]),
            Conv::new(&p("b2c1"), c, c, [1, 2], [1, 2]),
            Conv::new(&p("b2c2"), c, c, [4, 1], [1, 1]),
            Conv::new(&p("b2c3"), c, c, [4, 1], [1, 1]),
            Conv::new(&p("b3c1"), c, c, [1, levels_width], [1, 1]),
            Conv::new(&p("b3c2"), c, c, [4, 1], [1, 1]),
            Conv::new(&p("b3c3"), c, c, [4, 1], [1, 1]),
        ];
        let inc1 = (
            Conv::new(&p("inc1a"), c, i, [1, 1], [1, 1]),
            Conv::new(&p("inc1b"), i, i, [3, 1], [1, 1]),
        );
        let inc2 = (
            Conv::new(&p("inc2a"), c, i, [1, 1], [1, 1]),
            Conv::new(&p("inc2b"), i, i, [5, 1], [1, 1]),
        );
        let inc3 = Conv::new(&p("inc3"), c, i, [1, 1], [1, 1]);
        let cfg = nn::RNNConfig {
            batch_first: true,
            ..Default::default()
        };
        Self {
            blocks,
            inc1,
            inc2,
            inc3,
            lstm: nn::lstm(root / "lstm", 3 * i, h.hidden, cfg),
            head: nn::linear(root / "head", h.hidden, 3, Default::default()),
            dropout: h.dropout,
        }
    }
}

impl Net for DeepLob {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        // [B, T, 40] -> [B, 1, T, 40]
        let mut x = xs.unsqueeze(1);
        for b in &self.blocks {
            x = b.forward(&x);
        }
        // x: [B, C, T, 1]
        let a = self.inc1.1.forward(&self.inc1.0.forward(&x));
        let b = self.inc2.1.forward(&self.inc2.0.forward(&x));
        let pooled =
            x.constant_pad_nd([0, 0, 1, 1])
                .max_pool2d([3, 1], [1, 1], [0, 0], [1, 1], false);
        let c = self.inc3.forward(&pooled);
        // [B, 3I, T, 1] -> [B, T, 3I]
        let y = Tensor::cat(&[a, b, c], 1).squeeze_dim(3).transpose(1, 2);
        let (out, _) = self.lstm.seq(&y);
        let last = out.select(1, -1);
        self.head.forward(&last.dropout(self.dropout, train))
    }
}
