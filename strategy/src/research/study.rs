//! Information coefficients of every signal and alpha against future mid moves.
//!
//! Feed a stream of [`BookUpdate`]s to [`SignalStudy::push`]; it runs a [`SignalSet`] and an
//! [`AlphaSet`] and records, for every update with a usable book, each predictor's value and the
//! mid. [`SignalStudy::report`] pairs each record with the mid of the same instrument `h` of its
//! updates later (event horizons) or at the first update at least `h` ns later in exchange time
//! (time horizons); the target is that mid move in bps. A record whose future book is not usable,
//! or that runs past the end of the data, is left out. Reported per predictor and horizon: Pearson
//! and Spearman (rank) correlation, the hit rate (sign agreement over pairs where both are non-zero)
//! and the sample sizes. Non-directional signals (spread, volatility, VPIN, liquidity) are listed
//! too; their correlation with the signed move is expected to be near zero.

use kestrel_core::BookUpdate;

use super::correlation::{hit_rate, pearson, spearman};
use crate::alpha::{AlphaConfig, AlphaSet, MODEL_COUNT, MODEL_NAMES};
use crate::signals::{SignalConfig, SignalSet, SignalValues};

/// Number of signal features studied.
const FEATURES: usize = SignalValues::FEATURE_NAMES.len();
/// Number of predictors: every feature and every model's edge.
pub const PREDICTORS: usize = FEATURES + MODEL_COUNT;

/// Names of the predictors, in report order.
pub fn predictor_names() -> [&'static str; PREDICTORS] {
    let mut names = [""; PREDICTORS];
    for (slot, n) in names.iter_mut().zip(SignalValues::FEATURE_NAMES) {
        *slot = n;
    }
    for (slot, n) in names.iter_mut().skip(FEATURES).zip(MODEL_NAMES) {
        *slot = n;
    }
    names
}

/// One usable update: time, mid and predictor values.
#[derive(Clone, Copy, Debug)]
struct Record {
    ts: u64,
    mid: f64,
    usable: bool,
    predictors: [f64; PREDICTORS],
}

/// A horizon in updates or in nanoseconds of exchange time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Horizon {
    /// This many later updates of the same instrument.
    Events(usize),
    /// The first update at least this many ns later.
    Nanos(u64),
}

/// Statistics of one predictor at one horizon.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct HorizonStats {
    /// The horizon.
    pub horizon: Horizon,
    /// Pairs (predictor, future move) used for the correlations.
    pub n: usize,
    /// Pearson correlation.
    pub pearson: Option<f64>,
    /// Spearman rank correlation (the IC).
    pub spearman: Option<f64>,
    /// Sign agreement over pairs where both are non-zero.
    pub hit_rate: Option<f64>,
    /// Pairs counted in the hit rate.
    pub hit_n: usize,
}

/// One predictor's statistics over all horizons.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PredictorReport {
    /// Predictor name.
    pub name: &'static str,
    /// One entry per requested horizon, in request order.
    pub horizons: Vec<HorizonStats>,
}

/// The whole study.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StudyReport {
    /// Updates fed.
    pub updates: u64,
    /// Updates with a usable book (normal, trading).
    pub usable: u64,
    /// Per predictor.
    pub predictors: Vec<PredictorReport>,
}

/// Collects predictor values and mids from a stream of updates.
#[derive(Debug)]
pub struct SignalStudy {
    signals: SignalSet,
    alphas: AlphaSet,
    records: Vec<Vec<Record>>,
    updates: u64,
    usable: u64,
}

impl SignalStudy {
    /// A study over instruments `0..instrument_count` with the given parameters.
    pub fn new(instrument_count: usize, signals: &SignalConfig, alphas: &AlphaConfig) -> Self {
        Self {
            signals: SignalSet::new(instrument_count, signals),
            alphas: AlphaSet::new(instrument_count, alphas),
            records: vec![Vec::new(); instrument_count],
            updates: 0,
            usable: 0,
        }
    }

    /// A study over the instruments of `table` (spreads in each instrument's tick size).
    pub fn for_table(
        table: &kestrel_core::InstrumentTable,
        signals: &SignalConfig,
        alphas: &AlphaConfig,
    ) -> Self {
        Self {
            signals: SignalSet::for_table(table, signals),
            alphas: AlphaSet::new(table.len(), alphas),
            records: vec![Vec::new(); table.len()],
            updates: 0,
            usable: 0,
        }
    }

    /// Feeds one update.
    pub fn push(&mut self, u: &BookUpdate) {
        self.updates += 1;
        let Some(s) = self.signals.update(u) else {
            return;
        };
        let edges = self.alphas.evaluate(u, &s);
        let mut predictors = [0.0; PREDICTORS];
        for (slot, f) in predictors.iter_mut().zip(s.features()) {
            *slot = f;
        }
        for (slot, e) in predictors.iter_mut().skip(FEATURES).zip(edges) {
            *slot = e.edge_bps;
        }
        let usable = s.is_usable() && s.mid > 0.0;
        if usable {
            self.usable += 1;
        }
        if let Some(list) = self.records.get_mut(u.instrument.index()) {
            list.push(Record {
                ts: u.exch_ts.nanos(),
                mid: s.mid,
                usable,
                predictors,
            });
        }
    }

    /// The signal set (for its stats).
    pub fn signals(&self) -> &SignalSet {
        &self.signals
    }

    /// Statistics at every horizon.
    pub fn report(&self, horizons: &[Horizon]) -> StudyReport {
        let names = predictor_names();
        let mut predictors: Vec<PredictorReport> = names
            .iter()
            .map(|&name| PredictorReport {
                name,
                horizons: Vec::with_capacity(horizons.len()),
            })
            .collect();
        for &h in horizons {
            let mut xs: Vec<Vec<f64>> = vec![Vec::new(); PREDICTORS];
            let mut ys: Vec<f64> = Vec::new();
            for list in &self.records {
                collect_pairs(list, h, &mut xs, &mut ys);
            }
            for (p, x) in predictors.iter_mut().zip(&xs) {
                let (hit, hit_n) = hit_rate(x, &ys);
                p.horizons.push(HorizonStats {
                    horizon: h,
                    n: ys.len(),
                    pearson: pearson(x, &ys),
                    spearman: spearman(x, &ys),
                    hit_rate: hit,
                    hit_n,
                });
            }
        }
        StudyReport {
            updates: self.updates,
            usable: self.usable,
            predictors,
        }
    }
}

/// Appends every (predictors, future move in bps) pair of one instrument's records.
fn collect_pairs(list: &[Record], h: Horizon, xs: &mut [Vec<f64>], ys: &mut Vec<f64>) {
    let mut j = 0usize;
    for (i, r) in list.iter().enumerate() {
        let future = match h {
            Horizon::Events(k) => {
                if k == 0 {
                    None
                } else {
                    i.checked_add(k).and_then(|t| list.get(t))
                }
            }
            Horizon::Nanos(ns) => {
                let target = r.ts.saturating_add(ns.max(1));
                if j <= i {
                    j = i + 1;
                }
                while list.get(j).is_some_and(|f| f.ts < target) {
                    j += 1;
                }
                list.get(j)
            }
        };
        let Some(f) = future else { continue };
        if !r.usable || !f.usable {
            continue;
        }
        let mv = (f.mid - r.mid) / r.mid * 1e4;
        if !mv.is_finite() {
            continue;
        }
        ys.push(mv);
        for (x, v) in xs.iter_mut().zip(r.predictors) {
            x.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::{BookTop, InstrumentId, LevelView, Price, Qty, Timestamp};

    /// A book around `mid` cents whose top imbalance is +0.5 when `up` and -0.5 otherwise.
    fn update(seq: u64, mid: i64, up: bool) -> BookUpdate {
        let mut top = BookTop::default();
        let (bq, aq) = if up { (30, 10) } else { (10, 30) };
        top.bids[0] = LevelView {
            price: Price::from_scaled(mid - 1, 2).unwrap_or_default(),
            qty: Qty::from_units(bq).unwrap_or_default(),
        };
        top.asks[0] = LevelView {
            price: Price::from_scaled(mid + 1, 2).unwrap_or_default(),
            qty: Qty::from_units(aq).unwrap_or_default(),
        };
        top.bid_levels = 1;
        top.ask_levels = 1;
        BookUpdate {
            instrument: InstrumentId(0),
            seq,
            exch_ts: Timestamp(seq * 1_000_000),
            recv_ts: Timestamp(seq * 1_000_000),
            top,
            trade: Default::default(),
            trading: true,
            more_in_packet: false,
            stamps: Default::default(),
        }
    }

    #[test]
    fn perfect_predictor_scores_one_at_matching_horizons() {
        // Moves follow a fixed irregular pattern; the imbalance announces each next move.
        let pattern = [1, 1, -1, 1, -1, -1, -1, 1, 1, -1, 1];
        let n = 200usize;
        let moves: Vec<i64> = (0..n).map(|i| pattern[i % pattern.len()]).collect();
        let mut study = SignalStudy::new(1, &SignalConfig::default(), &AlphaConfig::default());
        let mut mid = 10_000i64;
        for (i, &mv) in moves.iter().enumerate() {
            study.push(&update(i as u64 + 1, mid, mv > 0));
            mid += mv;
        }
        let report = study.report(&[
            Horizon::Events(1),
            Horizon::Nanos(1_000_000),
            Horizon::Events(0),
        ]);
        assert_eq!(report.updates, n as u64);
        assert_eq!(report.usable, n as u64);
        let imb = report
            .predictors
            .iter()
            .find(|p| p.name == "top_imbalance")
            .expect("predictor");
        for h in &imb.horizons[..2] {
            assert_eq!(h.n, n - 1);
            // The moves in bps differ slightly with the mid level, so Pearson is just below one
            // and Spearman (two tied predictor values against distinct moves) lower still.
            assert!(h.pearson.is_some_and(|r| r > 0.9999), "{h:?}");
            assert!(h.spearman.is_some_and(|r| r > 0.85), "{h:?}");
            assert_eq!(h.hit_rate, Some(1.0));
            assert_eq!(h.hit_n, n - 1);
        }
        // A zero horizon has no pairs.
        assert_eq!(imb.horizons[2].n, 0);
        assert_eq!(imb.horizons[2].spearman, None);
    }
}
