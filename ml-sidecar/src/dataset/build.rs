//! Building a dataset from book updates: the core's signal and feature code per usable update,
//! labels from the mid's move over the next `horizon` usable updates of the same instrument
//! (FI-2010 / DeepLOB: the mean of the next `horizon` mids against the current mid, in bps,
//! with a dead band), and a walk-forward split by event time with an embargo: a sample whose
//! label looks past the end of its part is left out, so no label leaks into the next part.

use std::collections::BTreeMap;

use kestrel_core::shm::FEATURE_CAPACITY;
use kestrel_core::{BookUpdate, InstrumentTable};
use kestrel_strategy::sidecar::{FEATURE_COUNT, FeatureBuilder, feature_names};
use kestrel_strategy::signals::{SignalConfig, SignalSet};

use super::{Dataset, FORMAT, Meta, Split, UNLABELLED, VERSION, class_index, label_of};

/// How the label dead band is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeadBand {
    /// A fixed band, bps.
    Bps(f32),
    /// The band that leaves about a third of the training samples flat (computed on the
    /// training part only).
    Auto,
}

/// What to build.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuildConfig {
    /// Label horizon in usable updates of the instrument.
    pub horizon: usize,
    /// Dead band.
    pub dead_band: DeadBand,
    /// Training fraction (by time order of the samples).
    pub train_fraction: f64,
    /// Validation fraction (the rest is the test part).
    pub valid_fraction: f64,
}

impl Default for BuildConfig {
    fn default() -> Self {
        Self {
            horizon: 50,
            dead_band: DeadBand::Auto,
            train_fraction: 0.6,
            valid_fraction: 0.2,
        }
    }
}

/// Feature vectors of the usable updates, in update order.
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    /// `n x FEATURE_COUNT`.
    pub features: Vec<f32>,
    /// Mid of each sample.
    pub mid: Vec<f64>,
    /// Instrument of each sample.
    pub instrument: Vec<u32>,
    /// Event time (recv_ts) of each sample.
    pub time_ns: Vec<u64>,
}

/// Runs the core's signal set and feature builder over `updates` (sized by `table`, as the
/// strategy stage does), keeping the usable ones.
pub fn extract(updates: &[BookUpdate], table: &InstrumentTable) -> Extracted {
    let n = table.len().max(1);
    let mut signals = if table.is_empty() {
        SignalSet::new(n, &SignalConfig::default())
    } else {
        SignalSet::for_table(table, &SignalConfig::default())
    };
    let mut builder = FeatureBuilder::new(n);
    let mut buf = [0f32; FEATURE_CAPACITY];
    let mut out = Extracted::default();
    for u in updates {
        let Some(values) = signals.update(u) else {
            continue;
        };
        if builder.build(u, &values, &mut buf) {
            out.features.extend_from_slice(&buf[..FEATURE_COUNT]);
            out.mid.push(values.mid);
            out.instrument.push(u.instrument.0);
            out.time_ns.push(u.recv_ts.nanos());
        }
    }
    out
}

/// Builds the dataset: labels, split, dead band, counts.
pub fn build(
    x: Extracted,
    config: &BuildConfig,
    instruments: Vec<String>,
    sources: Vec<String>,
    updates: u64,
    anomalies: u64,
) -> anyhow::Result<Dataset> {
    let n = x.mid.len();
    anyhow::ensure!(
        config.horizon >= 1,
        "the label horizon must be at least 1 update"
    );
    anyhow::ensure!(
        config.train_fraction > 0.0
            && config.valid_fraction >= 0.0
            && config.train_fraction + config.valid_fraction < 1.0,
        "bad split fractions {} / {}",
        config.train_fraction,
        config.valid_fraction
    );
    anyhow::ensure!(
        n > 3 * config.horizon,
        "{n} usable updates: too few for a horizon of {}",
        config.horizon
    );
    // Realised move and the time its horizon ends, per sample (NaN / MAX when unknown).
    let mut moves = vec![f32::NAN; n];
    let mut label_end = vec![u64::MAX; n];
    let mut by_inst: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, inst) in x.instrument.iter().enumerate() {
        by_inst.entry(*inst).or_default().push(i);
    }
    let h = config.horizon;
    for ids in by_inst.values() {
        // Running sum of the next h mids.
        for (p, &i) in ids.iter().enumerate() {
            if p + h >= ids.len() {
                break;
            }
            let future: f64 = ids[p + 1..=p + h].iter().map(|&j| x.mid[j]).sum::<f64>() / h as f64;
            let m = x.mid[i];
            moves[i] = ((future - m) / m * 1e4) as f32;
            label_end[i] = x.time_ns[ids[p + h]];
        }
    }
    // Split times: the sample times at the fractions of the time-ordered samples.
    let mut times: Vec<u64> = x.time_ns.clone();
    times.sort_unstable();
    let at = |f: f64| times[((n as f64 * f) as usize).min(n - 1)];
    let valid_from = at(config.train_fraction);
    let test_from = at(config.train_fraction + config.valid_fraction);
    let mut split = vec![u8::MAX; n];
    let (mut embargoed, mut unlabelled) = (0u64, 0u64);
    for i in 0..n {
        if moves[i].is_nan() {
            unlabelled += 1;
            continue;
        }
        let t = x.time_ns[i];
        let (part, end) = if t < valid_from {
            (Split::Train, valid_from)
        } else if t < test_from {
            (Split::Valid, test_from)
        } else {
            (Split::Test, u64::MAX)
        };
        if label_end[i] >= end && part != Split::Test {
            embargoed += 1;
            continue;
        }
        split[i] = part.code();
    }
    let train_moves: Vec<f32> = (0..n)
        .filter(|&i| split[i] == Split::Train.code())
        .map(|i| moves[i])
        .collect();
    anyhow::ensure!(!train_moves.is_empty(), "no training samples");
    let (dead_band, rule) = match config.dead_band {
        DeadBand::Bps(b) => (b, "fixed".to_owned()),
        DeadBand::Auto => {
            let mut abs: Vec<f32> = train_moves.iter().map(|m| m.abs()).collect();
            abs.sort_by(f32::total_cmp);
            let b = abs[abs.len() / 3];
            (b, "auto: a third of the training moves inside".to_owned())
        }
    };
    let mut labels = vec![UNLABELLED; n];
    let mut counts: BTreeMap<Split, [u64; 3]> = BTreeMap::new();
    for i in 0..n {
        if !moves[i].is_nan() {
            labels[i] = label_of(moves[i], dead_band);
        }
        if let Some(s) = Split::from_code(split[i]) {
            counts.entry(s).or_default()[class_index(labels[i])] += 1;
        }
    }
    let moving: Vec<f32> = train_moves
        .iter()
        .filter(|m| m.abs() > dead_band)
        .map(|m| m.abs())
        .collect();
    let move_scale = if moving.is_empty() {
        1.0
    } else {
        moving.iter().sum::<f32>() / moving.len() as f32
    };
    let meta = Meta {
        format: FORMAT.to_owned(),
        version: VERSION,
        schema: feature_names(),
        samples: n,
        horizon: h,
        dead_band_bps: dead_band,
        dead_band_rule: rule,
        train_fraction: config.train_fraction,
        valid_fraction: config.valid_fraction,
        valid_from_ns: valid_from,
        test_from_ns: test_from,
        class_counts: counts,
        embargoed,
        unlabelled,
        move_scale_bps: move_scale,
        instruments,
        sources,
        updates,
        anomalies,
    };
    Ok(Dataset {
        meta,
        features: x.features,
        moves,
        labels,
        instrument: x.instrument,
        time_ns: x.time_ns,
        split,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(mids: &[f64]) -> Extracted {
        let n = mids.len();
        Extracted {
            features: vec![0.0; n * FEATURE_COUNT],
            mid: mids.to_vec(),
            instrument: vec![0; n],
            time_ns: (0..n as u64).map(|t| t * 10).collect(),
        }
    }

    #[test]
    fn labels_follow_the_mean_of_the_next_mids_and_the_split_embargoes() {
        // 100 samples, mid rising by 0.01 every sample: every labelled move is positive.
        let mids: Vec<f64> = (0..100).map(|i| 100.0 + i as f64 * 0.01).collect();
        let cfg = BuildConfig {
            horizon: 4,
            dead_band: DeadBand::Bps(0.1),
            train_fraction: 0.6,
            valid_fraction: 0.2,
        };
        let d = build(toy(&mids), &cfg, vec!["X".into()], vec![], 100, 0).unwrap();
        // Sample 0: mean of mids 1..=4 = 100.025 -> 2.5 bps.
        assert!((d.moves[0] - 2.5).abs() < 1e-3, "{}", d.moves[0]);
        assert_eq!(d.labels[0], 1);
        // The last 4 samples have no label.
        assert!(d.moves[96..].iter().all(|m| m.is_nan()));
        assert!(d.labels[96..].iter().all(|&l| l == UNLABELLED));
        assert_eq!(d.meta.unlabelled, 4);
        // Train is t < 600 (samples 0..60) with the horizon ending before 600: 0..=55; 56..59
        // are embargoed; valid is 60..80 minus its last 4.
        assert_eq!(d.split_of(55), Some(Split::Train));
        assert_eq!(d.split_of(56), None);
        assert_eq!(d.split_of(60), Some(Split::Valid));
        assert_eq!(d.split_of(75), Some(Split::Valid));
        assert_eq!(d.split_of(76), None);
        assert_eq!(d.split_of(80), Some(Split::Test));
        assert_eq!(d.meta.embargoed, 8);
        assert_eq!(d.meta.class_counts[&Split::Train], [0, 0, 56]);
        assert_eq!(d.meta.class_counts[&Split::Test], [0, 0, 16]);
    }

    #[test]
    fn auto_dead_band_leaves_a_third_flat() {
        // Alternating moves of growing size.
        let mids: Vec<f64> = (0..3000)
            .map(|i| 100.0 + ((i as f64) * 0.37).sin() * (1.0 + i as f64 / 1000.0) * 0.05)
            .collect();
        let cfg = BuildConfig {
            horizon: 5,
            ..BuildConfig::default()
        };
        let d = build(toy(&mids), &cfg, vec![], vec![], 3000, 0).unwrap();
        let c = d.meta.class_counts[&Split::Train];
        let total = (c[0] + c[1] + c[2]) as f64;
        let flat = c[1] as f64 / total;
        assert!((flat - 1.0 / 3.0).abs() < 0.02, "{c:?}");
        assert!(d.meta.dead_band_bps > 0.0);
        assert!(d.meta.move_scale_bps > d.meta.dead_band_bps);
    }
}
