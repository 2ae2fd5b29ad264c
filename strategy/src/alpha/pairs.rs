//! Pairs model for two cointegrated instruments A and B.
//!
//! Each time both legs have a new mid since the last step, the model steps an exponentially
//! weighted regression `ln A = alpha + beta ln B` (means, covariance and variance as EWMAs with half-life
//! `halflife`), takes the residual `e = ln A - alpha - beta ln B`, its EW mean and variance (for a
//! z-score), and an EW AR(1) fit of the demeaned residual, `phi = E[e_t e_t-1] / E[e_t-1^2]`,
//! whose half-life `-ln 2 / ln phi` (events) is the spread's estimated speed of reversion.
//!
//! Stepping only on fresh pairs keeps a stale leg from injecting a spurious zig-zag (and so a
//! spuriously short half-life) into the residual. The current deviation and z-score are
//! re-measured on every update of either leg against the fitted statistics.
//!
//! Expected spread move over `horizon` events: `-dev * (1 - 2^(-horizon / hl))` with
//! `dev = e - mean_e`. It is split evenly between the legs: A's edge is half of it (in bps), B's
//! edge is half of its opposite, signed by beta. Confidence grows with `|z|` up to `z_full` and is
//! zero while the fit is warming up or the residual does not revert (`phi` outside `(0, 1)`).

use kestrel_core::InstrumentId;

use super::mean_reversion::{EwStats, reversion_fraction};
use crate::edge::ModelEdge;
use crate::signals::is_positive_finite;
use crate::signals::volatility::halflife_decay;

/// Which leg of a pair an instrument is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// The regressed leg (`ln A = alpha + beta ln B`).
    A,
    /// The regressor leg.
    B,
}

/// Parameters of a pair.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairConfig {
    /// Instrument A.
    pub leg_a: InstrumentId,
    /// Instrument B.
    pub leg_b: InstrumentId,
    /// Half-life (fit steps: pairs of fresh mids) of the regression and residual statistics.
    pub halflife: f64,
    /// Horizon (fit steps) of the edge.
    pub horizon: f64,
    /// |z| of full confidence.
    pub z_full: f64,
    /// Confidence at full |z|.
    pub confidence: f64,
    /// Fit steps before the model speaks.
    pub warmup: u64,
}

/// Online pairs state.
#[derive(Clone, Copy, Debug)]
pub struct PairsModel {
    cfg: PairConfig,
    decay: f64,
    log_a: Option<f64>,
    log_b: Option<f64>,
    fresh_a: bool,
    fresh_b: bool,
    mx: f64,
    my: f64,
    vxx: f64,
    cxy: f64,
    n: u64,
    resid: EwStats,
    ar_num: f64,
    ar_den: f64,
    prev_dev: Option<f64>,
    beta: f64,
    dev: f64,
    z: f64,
}

impl PairsModel {
    /// A pair with `cfg`.
    pub fn new(cfg: PairConfig) -> Self {
        Self {
            cfg,
            decay: halflife_decay(cfg.halflife),
            log_a: None,
            log_b: None,
            fresh_a: false,
            fresh_b: false,
            mx: 0.0,
            my: 0.0,
            vxx: 0.0,
            cxy: 0.0,
            n: 0,
            resid: EwStats::new(cfg.halflife),
            ar_num: 0.0,
            ar_den: 0.0,
            prev_dev: None,
            beta: 0.0,
            dev: 0.0,
            z: 0.0,
        }
    }

    /// The leg `instrument` plays in this pair, if any.
    #[inline]
    pub fn leg_of(&self, instrument: InstrumentId) -> Option<Leg> {
        if instrument == self.cfg.leg_a {
            Some(Leg::A)
        } else if instrument == self.cfg.leg_b {
            Some(Leg::B)
        } else {
            None
        }
    }

    /// Records a new mid of one leg; steps the fit when both legs are fresh, else re-measures.
    #[inline]
    pub fn update(&mut self, leg: Leg, mid: f64) {
        if !is_positive_finite(mid) {
            return;
        }
        match leg {
            Leg::A => {
                self.log_a = Some(mid.ln());
                self.fresh_a = true;
            }
            Leg::B => {
                self.log_b = Some(mid.ln());
                self.fresh_b = true;
            }
        }
        let (Some(y), Some(x)) = (self.log_a, self.log_b) else {
            return;
        };
        if self.fresh_a && self.fresh_b {
            self.fresh_a = false;
            self.fresh_b = false;
            self.step(x, y);
        } else if self.n > 0 {
            self.measure(x, y);
        }
    }

    /// The residual of `(x, y)` under the current fit.
    #[inline]
    fn residual(&self, x: f64, y: f64) -> f64 {
        y - (self.my - self.beta * self.mx) - self.beta * x
    }

    /// Re-measures the deviation and z-score of the current mids without stepping the fit.
    fn measure(&mut self, x: f64, y: f64) {
        let e = self.residual(x, y);
        if !e.is_finite() {
            return;
        }
        let sd = self.resid.var().sqrt();
        self.dev = e - self.resid.mean();
        self.z = if sd > 0.0 { self.dev / sd } else { 0.0 };
    }

    fn step(&mut self, x: f64, y: f64) {
        let d = self.decay;
        let a = 1.0 - d;
        if self.n == 0 {
            self.mx = x;
            self.my = y;
        } else {
            let dx = x - self.mx;
            let dy = y - self.my;
            self.mx += a * dx;
            self.my += a * dy;
            self.vxx = d * (self.vxx + a * dx * dx);
            self.cxy = d * (self.cxy + a * dx * dy);
        }
        self.n += 1;
        self.beta = if self.vxx > 0.0 {
            self.cxy / self.vxx
        } else {
            0.0
        };
        let e = self.residual(x, y);
        if !e.is_finite() {
            return;
        }
        self.resid.push(e);
        let dev = e - self.resid.mean();
        let sd = self.resid.var().sqrt();
        self.dev = dev;
        self.z = if sd > 0.0 { dev / sd } else { 0.0 };
        if let Some(prev) = self.prev_dev {
            self.ar_num = d * self.ar_num + a * dev * prev;
            self.ar_den = d * self.ar_den + a * prev * prev;
        }
        self.prev_dev = Some(dev);
    }

    /// The hedge ratio beta.
    #[inline]
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The residual's z-score.
    #[inline]
    pub fn z(&self) -> f64 {
        self.z
    }

    /// The AR(1) coefficient of the residual, when estimable.
    #[inline]
    pub fn phi(&self) -> Option<f64> {
        (self.ar_den > 0.0).then(|| self.ar_num / self.ar_den)
    }

    /// The estimated half-life of the spread (fit steps), when it reverts.
    #[inline]
    pub fn half_life(&self) -> Option<f64> {
        let phi = self.phi()?;
        (phi > 0.0 && phi < 1.0).then(|| -core::f64::consts::LN_2 / phi.ln())
    }

    /// The edge of one leg.
    #[inline]
    pub fn edge(&self, leg: Leg) -> ModelEdge {
        if self.n <= self.cfg.warmup {
            return ModelEdge::NONE;
        }
        let Some(hl) = self.half_life() else {
            return ModelEdge::NONE;
        };
        let spread_move_bps = -self.dev * reversion_fraction(self.cfg.horizon, hl) * 1e4;
        let conf = self.cfg.confidence * (self.z.abs() / self.cfg.z_full.max(1e-9)).min(1.0);
        match leg {
            Leg::A => ModelEdge::new(0.5 * spread_move_bps, conf),
            Leg::B => ModelEdge::new(-0.5 * spread_move_bps * self.beta.signum(), conf),
        }
    }
}
