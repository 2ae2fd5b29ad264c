//! Training: seeded, on CUDA when present (CPU otherwise), bounded by steps, epochs and wall
//! time, keeping the weights of the best validation loss (early stopping on the validation
//! part, which lies after the training part in time).
//!
//! Reproducible on CPU for a fixed seed, thread count and step budget: the weights come from
//! `tch::manual_seed`, the batch order from this module's own seeded generator, and the
//! validation schedule counts steps. A run stopped by `--max-seconds` stops at a step that
//! depends on the machine's speed; the spec records how many steps were taken.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use tch::{Device, Kind, Tensor, nn, nn::OptimizerConfig};

use crate::dataset::{Dataset, Split, class_index};
use crate::model::spec::{FORMAT, TrainingReport, VERSION, model_id};
use crate::model::{Hyper, ModelKind, ModelSpec, Normalisation};
use crate::runtime::{Model, device_name};
use crate::window::DatasetWindows;

/// What to train and for how long.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// The model.
    pub kind: ModelKind,
    /// Feature vectors per window.
    pub window: usize,
    /// Seed of the weights and the batch order.
    pub seed: u64,
    /// Wall-time bound (seconds).
    pub max_seconds: Option<f64>,
    /// Step bound.
    pub max_steps: Option<u64>,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Validation checks without improvement before stopping.
    pub patience: usize,
    /// Steps between validation checks (also at each epoch's end).
    pub eval_every: u64,
    /// Most validation windows scored per check (evenly spaced through the part).
    pub valid_limit: usize,
    /// Torch intra-op threads.
    pub threads: i32,
    /// Device.
    pub device: Device,
    /// Hyper-parameters.
    pub hyper: Hyper,
}

/// A small seeded generator (SplitMix64) for the batch order.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Mean and standard deviation of every feature over the training part.
pub fn normalisation(d: &Dataset) -> Normalisation {
    let w = d.width();
    let mut sum = vec![0f64; w];
    let mut sq = vec![0f64; w];
    let mut n = 0f64;
    for i in 0..d.len() {
        if d.split_of(i) != Some(Split::Train) {
            continue;
        }
        n += 1.0;
        for (k, &x) in d.row(i).iter().enumerate() {
            let x = f64::from(x);
            sum[k] += x;
            sq[k] += x * x;
        }
    }
    let n = n.max(1.0);
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let std: Vec<f32> = sum
        .iter()
        .zip(&sq)
        .map(|(s, q)| {
            let m = s / n;
            let var = (q / n - m * m).max(0.0);
            (var.sqrt() as f32).max(1e-6)
        })
        .collect();
    Normalisation {
        mean,
        std,
        clip: 5.0,
    }
}

/// Windows of one split that are complete and labelled.
fn eligible(d: &Dataset, w: &DatasetWindows<'_>, split: Split) -> Vec<usize> {
    (0..d.len())
        .filter(|&i| d.split_of(i) == Some(split) && w.complete(i))
        .collect()
}

fn batch(
    d: &Dataset,
    w: &DatasetWindows<'_>,
    ids: &[usize],
    buf: &mut Vec<f32>,
) -> (usize, Vec<i64>) {
    let size = w.size();
    buf.resize(ids.len() * size, 0.0);
    let mut targets = Vec::with_capacity(ids.len());
    for (k, &i) in ids.iter().enumerate() {
        w.fill(i, &mut buf[k * size..(k + 1) * size]);
        targets.push(class_index(d.labels[i]) as i64);
    }
    (ids.len(), targets)
}

/// Validation loss and accuracy.
fn validate(
    m: &Model,
    d: &Dataset,
    w: &DatasetWindows<'_>,
    ids: &[usize],
    batch_size: usize,
) -> (f64, f64) {
    let mut buf = Vec::new();
    let (mut loss, mut correct, mut n) = (0f64, 0u64, 0u64);
    for chunk in ids.chunks(batch_size.max(1)) {
        let (b, targets) = batch(d, w, chunk, &mut buf);
        let (l, c) = tch::no_grad(|| {
            let xs = m.batch_tensor(&buf, b);
            let ys = Tensor::from_slice(&targets).to_device(m.device());
            let logits = m.logits(&xs, false);
            let l = logits.cross_entropy_for_logits(&ys).double_value(&[]);
            let c = logits
                .argmax(-1, false)
                .eq_tensor(&ys)
                .to_kind(Kind::Int64)
                .sum(Kind::Int64)
                .int64_value(&[]);
            (l, c)
        });
        loss += l * b as f64;
        correct += c as u64;
        n += b as u64;
    }
    let n = n.max(1) as f64;
    (loss / n, correct as f64 / n)
}

fn snapshot(vs: &nn::VarStore) -> HashMap<String, Tensor> {
    tch::no_grad(|| {
        vs.variables()
            .into_iter()
            .map(|(k, v)| (k, v.detach().copy()))
            .collect()
    })
}

fn restore(vs: &nn::VarStore, best: &HashMap<String, Tensor>) {
    tch::no_grad(|| {
        for (k, mut v) in vs.variables() {
            if let Some(b) = best.get(&k) {
                v.copy_(b);
            }
        }
    });
}

/// Trains a model on `d` (read from `dataset_path`), printing progress to stderr.
pub fn train(d: &Dataset, dataset_path: &Path, cfg: &TrainConfig) -> anyhow::Result<Model> {
    anyhow::ensure!(cfg.window >= 1, "--window must be at least 1");
    anyhow::ensure!(cfg.hyper.batch >= 1, "--batch must be at least 1");
    tch::set_num_threads(cfg.threads);
    tch::manual_seed(cfg.seed as i64);
    let norm = normalisation(d);
    let counts = d
        .meta
        .class_counts
        .get(&Split::Train)
        .copied()
        .unwrap_or_default();
    let spec = ModelSpec {
        format: FORMAT.to_owned(),
        version: VERSION,
        kind: cfg.kind,
        model_id: model_id(cfg.kind, cfg.window, &d.meta.schema),
        model_version: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_secs() as u32),
        window: cfg.window,
        schema: d.meta.schema.clone(),
        inputs: cfg.kind.inputs(),
        normalisation: norm,
        horizon: d.meta.horizon,
        dead_band_bps: d.meta.dead_band_bps,
        move_scale_bps: d.meta.move_scale_bps,
        train_class_counts: counts,
        hyper: cfg.hyper,
        dataset: dataset_path.display().to_string(),
        training: TrainingReport::default(),
    };
    let mut model = Model::fresh(spec, cfg.device);
    let spec = model.spec.clone();
    let w = DatasetWindows::new(d, &spec);
    let mut train_ids = eligible(d, &w, Split::Train);
    let all_valid = eligible(d, &w, Split::Valid);
    anyhow::ensure!(!train_ids.is_empty(), "no complete training windows");
    anyhow::ensure!(!all_valid.is_empty(), "no complete validation windows");
    let stride = all_valid.len().div_ceil(cfg.valid_limit.max(1));
    let valid_ids: Vec<usize> = all_valid.iter().copied().step_by(stride.max(1)).collect();
    let mut opt = nn::Adam::default()
        .build(&model.vs, cfg.hyper.learning_rate)
        .context("building the optimiser")?;
    let mut rng = SplitMix::new(cfg.seed ^ 0x006b_6573_7472_656c);
    let started = Instant::now();
    let mut report = TrainingReport {
        device: device_name(cfg.device),
        threads: cfg.threads,
        seed: cfg.seed,
        train_windows: train_ids.len(),
        valid_windows: valid_ids.len(),
        valid_loss: f64::INFINITY,
        ..TrainingReport::default()
    };
    let mut best = snapshot(&model.vs);
    let mut since_best = 0usize;
    let mut buf = Vec::new();
    let mut running = 0f64;
    let mut running_n = 0u64;
    let per_epoch = train_ids.len().div_ceil(cfg.hyper.batch) as f64;
    let out_of_time = |started: &Instant| {
        cfg.max_seconds
            .is_some_and(|s| started.elapsed().as_secs_f64() >= s)
    };
    let mut stopped = "epochs".to_owned();
    'epochs: for epoch in 0..cfg.epochs {
        rng.shuffle(&mut train_ids);
        let chunks: Vec<&[usize]> = train_ids.chunks(cfg.hyper.batch).collect();
        let last_chunk = chunks.len().saturating_sub(1);
        for (k, chunk) in chunks.into_iter().enumerate() {
            let (b, targets) = batch(d, &w, chunk, &mut buf);
            let xs = model.batch_tensor(&buf, b);
            let ys = Tensor::from_slice(&targets).to_device(cfg.device);
            let loss = model.logits(&xs, true).cross_entropy_for_logits(&ys);
            opt.backward_step_clip(&loss, 1.0);
            running += loss.double_value(&[]);
            running_n += 1;
            report.steps += 1;
            let due = report.steps.is_multiple_of(cfg.eval_every.max(1)) || k == last_chunk;
            let steps_done = cfg.max_steps.is_some_and(|m| report.steps >= m);
            let time_done = out_of_time(&started);
            if due || steps_done || time_done {
                let (vl, va) = validate(&model, d, &w, &valid_ids, cfg.hyper.batch.max(512));
                eprintln!(
                    "step {:>6} epoch {:>5.2} train_loss {:.4} valid_loss {:.4} valid_acc {:.4} ({:.0}s)",
                    report.steps,
                    epoch as f64 + (k + 1) as f64 / per_epoch,
                    running / running_n.max(1) as f64,
                    vl,
                    va,
                    started.elapsed().as_secs_f64()
                );
                running = 0.0;
                running_n = 0;
                if vl < report.valid_loss {
                    report.valid_loss = vl;
                    report.valid_accuracy = va;
                    report.best_step = report.steps;
                    best = snapshot(&model.vs);
                    since_best = 0;
                } else {
                    since_best += 1;
                }
                if since_best >= cfg.patience {
                    stopped = format!("no validation improvement in {} checks", cfg.patience);
                    break 'epochs;
                }
            }
            if steps_done {
                stopped = "max steps".to_owned();
                break 'epochs;
            }
            if time_done {
                stopped = "max seconds".to_owned();
                break 'epochs;
            }
        }
    }
    restore(&model.vs, &best);
    report.epochs = report.steps as f64 / per_epoch;
    report.seconds = started.elapsed().as_secs_f64();
    report.stopped = stopped;
    model.spec.training = report;
    Ok(model)
}
