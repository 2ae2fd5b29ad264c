//! Windows: the last `window` feature vectors of one instrument, normalised and cut to the
//! model's inputs, laid out `[window, inputs]` row-major, the oldest first. The same layout is
//! built from a dataset (training, evaluation) and from the live ring (serving).

use crate::dataset::Dataset;
use crate::model::{ModelSpec, Normalisation};

/// Writes the normalised inputs of one feature vector into `out` (`inputs.len()` values).
#[inline]
pub fn normalise_into(row: &[f32], inputs: &[usize], norm: &Normalisation, out: &mut [f32]) {
    for (o, &i) in out.iter_mut().zip(inputs) {
        *o = norm.apply(i, row[i]);
    }
}

/// Windows over a dataset's samples.
#[derive(Debug)]
pub struct DatasetWindows<'a> {
    d: &'a Dataset,
    order: Vec<u32>,
    position: Vec<u32>,
    window: usize,
    inputs: &'a [usize],
    norm: &'a Normalisation,
}

impl<'a> DatasetWindows<'a> {
    /// Windows of `spec`'s length and inputs over `d`.
    pub fn new(d: &'a Dataset, spec: &'a ModelSpec) -> Self {
        let (order, position) = d.instrument_order();
        Self {
            d,
            order,
            position,
            window: spec.window,
            inputs: &spec.inputs,
            norm: &spec.normalisation,
        }
    }

    /// Values per window.
    pub fn size(&self) -> usize {
        self.window * self.inputs.len()
    }

    /// Whether sample `i` has `window - 1` earlier samples of its instrument.
    pub fn complete(&self, i: usize) -> bool {
        let p = self.position[i] as usize;
        p + 1 >= self.window
            && self.d.instrument[self.order[p + 1 - self.window] as usize] == self.d.instrument[i]
    }

    /// Writes the window ending at sample `i` (which must be complete) into `out`.
    pub fn fill(&self, i: usize, out: &mut [f32]) {
        let p = self.position[i] as usize;
        let n = self.inputs.len();
        for (k, chunk) in out.chunks_exact_mut(n).take(self.window).enumerate() {
            let j = self.order[p + 1 + k - self.window] as usize;
            normalise_into(self.d.row(j), self.inputs, self.norm, chunk);
        }
    }
}
