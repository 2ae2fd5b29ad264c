//! LSTM over the window of feature vectors; the last hidden state goes through dropout and a
//! linear layer to three logits.

use tch::Tensor;
use tch::nn::{self, Module, RNN};

use super::{Hyper, Net};

/// The LSTM classifier.
#[derive(Debug)]
pub struct LstmNet {
    lstm: nn::LSTM,
    head: nn::Linear,
    dropout: f64,
}

impl LstmNet {
    /// Variables under `root`.
    pub fn new(root: &nn::Path, inputs: i64, h: &Hyper) -> Self {
        let cfg = nn::RNNConfig {
            num_layers: h.layers,
            dropout: if h.layers > 1 { h.dropout } else { 0.0 },
            batch_first: true,
            ..Default::default()
        };
        Self {
            lstm: nn::lstm(root / "lstm", inputs, h.hidden, cfg),
            head: nn::linear(root / "head", h.hidden, 3, Default::default()),
            dropout: h.dropout,
        }
    }
}

impl Net for LstmNet {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let (out, _) = self.lstm.seq(xs);
        let last = out.select(1, -1);
        self.head.forward(&last.dropout(self.dropout, train))
    }
}
