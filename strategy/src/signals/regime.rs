//! Volatility and trend regimes with hysteresis.
//!
//! Volatility regime from the per-event volatility (bps): enter `High` above `vol_high_enter`,
//! leave it below `vol_high_exit`; enter `Low` below `vol_low_enter`, leave it above
//! `vol_low_exit`. Trend regime from `(ema_fast - ema_slow) / ema_slow` in bps of the mid: enter
//! `Up` above `trend_enter_bps`, leave below `trend_exit_bps` (symmetric for `Down`). Both stay
//! at `Normal` / `Flat` for the first `warmup` normal books.

use kestrel_core::BookUpdate;

use super::quote::Quote;
use super::volatility::halflife_decay;

/// Volatility regime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VolRegime {
    /// Quiet.
    Low,
    /// Ordinary.
    #[default]
    Normal,
    /// Turbulent.
    High,
}

/// Trend regime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TrendRegime {
    /// Falling.
    Down,
    /// No trend.
    #[default]
    Flat,
    /// Rising.
    Up,
}

/// Thresholds of the regime classifier.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RegimeConfig {
    /// Enter `Low` below this per-event volatility (bps).
    pub vol_low_enter: f64,
    /// Leave `Low` above this (>= `vol_low_enter`).
    pub vol_low_exit: f64,
    /// Enter `High` above this.
    pub vol_high_enter: f64,
    /// Leave `High` below this (<= `vol_high_enter`).
    pub vol_high_exit: f64,
    /// Half-life of the fast mid EMA, in events.
    pub trend_fast_halflife: f64,
    /// Half-life of the slow mid EMA, in events.
    pub trend_slow_halflife: f64,
    /// Enter `Up`/`Down` beyond this trend (bps).
    pub trend_enter_bps: f64,
    /// Leave `Up`/`Down` inside this trend (bps, <= `trend_enter_bps`).
    pub trend_exit_bps: f64,
    /// Normal books seen before leaving `Normal`/`Flat`.
    pub warmup: u32,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        Self {
            vol_low_enter: 0.1,
            vol_low_exit: 0.15,
            vol_high_enter: 1.0,
            vol_high_exit: 0.7,
            trend_fast_halflife: 10.0,
            trend_slow_halflife: 100.0,
            trend_enter_bps: 1.0,
            trend_exit_bps: 0.5,
            warmup: 50,
        }
    }
}

/// Regime state.
#[derive(Clone, Copy, Debug)]
pub struct RegimeClassifier {
    cfg: RegimeConfig,
    fast_decay: f64,
    slow_decay: f64,
    fast: f64,
    slow: f64,
    seen: u32,
    trend_bps: f64,
    vol: VolRegime,
    trend: TrendRegime,
}

impl RegimeClassifier {
    /// A classifier with `cfg`.
    pub fn new(cfg: RegimeConfig) -> Self {
        Self {
            cfg,
            fast_decay: halflife_decay(cfg.trend_fast_halflife),
            slow_decay: halflife_decay(cfg.trend_slow_halflife),
            fast: 0.0,
            slow: 0.0,
            seen: 0,
            trend_bps: 0.0,
            vol: VolRegime::Normal,
            trend: TrendRegime::Flat,
        }
    }

    /// Updates the trend EMAs from the book after `u` and both regimes from `vol_bps` (the
    /// per-event volatility the caller keeps, see [`super::volatility::EwmaVolatility`]).
    #[inline]
    pub fn update(&mut self, u: &BookUpdate, vol_bps: f64) {
        self.update_with(&Quote::of(&u.top), vol_bps);
    }

    /// As [`Self::update`], with the book's [`Quote`] already classified by the caller.
    #[inline]
    pub fn update_with(&mut self, q: &Quote, vol_bps: f64) {
        if !q.state.is_normal() {
            return;
        }
        let mid = q.mid();
        if self.seen == 0 {
            self.fast = mid;
            self.slow = mid;
        } else {
            self.fast = self.fast_decay * self.fast + (1.0 - self.fast_decay) * mid;
            self.slow = self.slow_decay * self.slow + (1.0 - self.slow_decay) * mid;
        }
        self.seen = self.seen.saturating_add(1);
        let t = (self.fast - self.slow) / self.slow * 1e4;
        self.trend_bps = if t.is_finite() { t } else { 0.0 };
        if self.seen <= self.cfg.warmup {
            return;
        }
        if vol_bps.is_finite() {
            self.vol = next_vol(self.vol, vol_bps, &self.cfg);
        }
        self.trend = next_trend(self.trend, self.trend_bps, &self.cfg);
    }

    /// Current volatility regime.
    #[inline]
    pub fn vol_regime(&self) -> VolRegime {
        self.vol
    }

    /// Current trend regime.
    #[inline]
    pub fn trend_regime(&self) -> TrendRegime {
        self.trend
    }

    /// Current trend measure in bps.
    #[inline]
    pub fn trend_bps(&self) -> f64 {
        self.trend_bps
    }
}

/// The volatility regime after seeing `vol` in state `cur`.
pub fn next_vol(cur: VolRegime, vol: f64, c: &RegimeConfig) -> VolRegime {
    match cur {
        _ if vol > c.vol_high_enter => VolRegime::High,
        VolRegime::High if vol >= c.vol_high_exit => VolRegime::High,
        _ if vol < c.vol_low_enter => VolRegime::Low,
        VolRegime::Low if vol <= c.vol_low_exit => VolRegime::Low,
        _ => VolRegime::Normal,
    }
}

/// The trend regime after seeing `trend` (bps) in state `cur`.
pub fn next_trend(cur: TrendRegime, trend: f64, c: &RegimeConfig) -> TrendRegime {
    match cur {
        _ if trend > c.trend_enter_bps => TrendRegime::Up,
        _ if trend < -c.trend_enter_bps => TrendRegime::Down,
        TrendRegime::Up if trend >= c.trend_exit_bps => TrendRegime::Up,
        TrendRegime::Down if trend <= -c.trend_exit_bps => TrendRegime::Down,
        _ => TrendRegime::Flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatility_hysteresis() {
        let c = RegimeConfig::default();
        let mut r = VolRegime::Normal;
        r = next_vol(r, 0.9, &c);
        assert_eq!(r, VolRegime::Normal);
        r = next_vol(r, 1.1, &c);
        assert_eq!(r, VolRegime::High);
        // Between exit and enter: stays high.
        r = next_vol(r, 0.8, &c);
        assert_eq!(r, VolRegime::High);
        r = next_vol(r, 0.6, &c);
        assert_eq!(r, VolRegime::Normal);
        r = next_vol(r, 0.05, &c);
        assert_eq!(r, VolRegime::Low);
        r = next_vol(r, 0.12, &c);
        assert_eq!(r, VolRegime::Low);
        r = next_vol(r, 0.2, &c);
        assert_eq!(r, VolRegime::Normal);
    }

    #[test]
    fn trend_hysteresis() {
        let c = RegimeConfig::default();
        let mut t = next_trend(TrendRegime::Flat, 1.2, &c);
        assert_eq!(t, TrendRegime::Up);
        t = next_trend(t, 0.7, &c);
        assert_eq!(t, TrendRegime::Up);
        t = next_trend(t, 0.3, &c);
        assert_eq!(t, TrendRegime::Flat);
        t = next_trend(t, -0.9, &c);
        assert_eq!(t, TrendRegime::Flat);
        t = next_trend(t, -1.5, &c);
        assert_eq!(t, TrendRegime::Down);
    }
}
