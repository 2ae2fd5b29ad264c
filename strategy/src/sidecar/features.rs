//! The feature vector the core publishes to the ML sidecar, and the one `kestrel-ml dataset`
//! trains on: the same code, so a model sees in production exactly what it learned from.
//!
//! Per usable book update (normal book, trading instrument), in [`FEATURE_NAMES`] order:
//! - the 19 numeric signals of [`SignalValues::features`];
//! - `mid_change_bps`: the mid's change since the instrument's previous usable update, and
//!   `last_mid_move_bps`: its most recent non-zero change (held until the next one);
//! - the raw top 10 levels, DeepLOB's order (per level: ask price, ask size, bid price, bid
//!   size), prices as offsets from the mid in bps (scale-free across tickers and days), sizes
//!   in shares; an absent level is `0, 0`.

use kestrel_core::shm::{FEATURE_CAPACITY, FeatureSchema, ShmError};
use kestrel_core::{BookUpdate, TOP_LEVELS};

use crate::signals::SignalValues;

/// Signal features (from [`SignalValues::features`]).
pub const SIGNAL_FEATURES: usize = SignalValues::FEATURE_NAMES.len();

/// Mid-move features.
pub const MOVE_FEATURES: usize = 2;

/// Index of the first raw level feature.
pub const LEVELS_START: usize = SIGNAL_FEATURES + MOVE_FEATURES;

/// Raw level features (4 per level, 10 levels).
pub const LEVEL_FEATURES: usize = 4 * TOP_LEVELS;

/// Features per vector.
pub const FEATURE_COUNT: usize = LEVELS_START + LEVEL_FEATURES;

/// Index of `top_imbalance` (the imbalance baseline's input).
pub const TOP_IMBALANCE: usize = 1;

/// Index of `mid_change_bps`.
pub const MID_CHANGE: usize = SIGNAL_FEATURES;

/// Index of `last_mid_move_bps` (the last-move baseline's input).
pub const LAST_MID_MOVE: usize = SIGNAL_FEATURES + 1;

const _: () = assert!(FEATURE_COUNT <= FEATURE_CAPACITY);

const fn level_names() -> [[u8; 16]; LEVEL_FEATURES] {
    // "ask_px_01_bps" style names, built at compile time.
    let mut out = [[0u8; 16]; LEVEL_FEATURES];
    let mut level = 0;
    while level < TOP_LEVELS {
        let n = level + 1;
        let tens = b'0' + (n / 10) as u8;
        let ones = b'0' + (n % 10) as u8;
        let mut k = 0;
        while k < 4 {
            let stem: &[u8] = match k {
                0 => b"ask_px_",
                1 => b"ask_qty_",
                2 => b"bid_px_",
                _ => b"bid_qty_",
            };
            let row = &mut out[level * 4 + k];
            let mut i = 0;
            while i < stem.len() {
                row[i] = stem[i];
                i += 1;
            }
            row[i] = tens;
            row[i + 1] = ones;
            if k == 0 || k == 2 {
                row[i + 2] = b'_';
                row[i + 3] = b'b';
                row[i + 4] = b'p';
                row[i + 5] = b's';
            }
            k += 1;
        }
        level += 1;
    }
    out
}

const LEVEL_NAME_BYTES: [[u8; 16]; LEVEL_FEATURES] = level_names();

/// Feature names in vector order.
pub fn feature_names() -> Vec<String> {
    let mut names: Vec<String> = SignalValues::FEATURE_NAMES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    names.push("mid_change_bps".to_owned());
    names.push("last_mid_move_bps".to_owned());
    for row in &LEVEL_NAME_BYTES {
        let end = row.iter().position(|&b| b == 0).unwrap_or(row.len());
        names.push(String::from_utf8_lossy(&row[..end]).into_owned());
    }
    names
}

/// The schema the core publishes and a model must have been trained on.
pub fn feature_schema() -> Result<FeatureSchema, ShmError> {
    FeatureSchema::new(&feature_names())
}

/// Per-instrument state of the feature code (the previous mid and the last move).
#[derive(Clone, Copy, Debug, Default)]
struct MoveState {
    last_mid: f64,
    last_move_bps: f64,
}

/// Builds feature vectors, one instrument state per dense id (allocated at construction).
#[derive(Clone, Debug)]
pub struct FeatureBuilder {
    state: Vec<MoveState>,
}

impl FeatureBuilder {
    /// State for instruments `0..instruments`.
    pub fn new(instruments: usize) -> Self {
        Self {
            state: vec![MoveState::default(); instruments],
        }
    }

    /// Writes the features of `u` (whose signals are `s`) into `out[..FEATURE_COUNT]` (the rest
    /// zeroed) and returns `true`, if the update is usable (normal book, trading, instrument in
    /// range); otherwise writes nothing and returns `false`. No allocation.
    #[inline]
    pub fn build(
        &mut self,
        u: &BookUpdate,
        s: &SignalValues,
        out: &mut [f32; FEATURE_CAPACITY],
    ) -> bool {
        if !s.is_usable() || s.mid <= 0.0 {
            return false;
        }
        let Some(st) = self.state.get_mut(u.instrument.index()) else {
            return false;
        };
        let mid = s.mid;
        let change = if st.last_mid > 0.0 {
            (mid - st.last_mid) / st.last_mid * 1e4
        } else {
            0.0
        };
        if change != 0.0 {
            st.last_move_bps = change;
        }
        st.last_mid = mid;
        *out = [0.0; FEATURE_CAPACITY];
        for (o, v) in out.iter_mut().zip(s.features()) {
            *o = finite(v);
        }
        out[MID_CHANGE] = finite(change);
        out[LAST_MID_MOVE] = finite(st.last_move_bps);
        let inv_mid = 1e4 / mid;
        let top = &u.top;
        for level in 0..TOP_LEVELS {
            let base = LEVELS_START + 4 * level;
            if level < usize::from(top.ask_levels) {
                let l = top.asks[level];
                out[base] = finite((l.price.to_f64() - mid) * inv_mid);
                out[base + 1] = finite(l.qty.to_f64());
            }
            if level < usize::from(top.bid_levels) {
                let l = top.bids[level];
                out[base + 2] = finite((l.price.to_f64() - mid) * inv_mid);
                out[base + 3] = finite(l.qty.to_f64());
            }
        }
        true
    }
}

#[inline]
fn finite(v: f64) -> f32 {
    let f = v as f32;
    if f.is_finite() { f } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_fit_the_schema() {
        let names = feature_names();
        assert_eq!(names.len(), FEATURE_COUNT);
        assert_eq!(FEATURE_COUNT, 61);
        assert_eq!(names[LEVELS_START], "ask_px_01_bps");
        assert_eq!(names[LEVELS_START + 1], "ask_qty_01");
        assert_eq!(names[LEVELS_START + 3], "bid_qty_01");
        assert_eq!(names[FEATURE_COUNT - 1], "bid_qty_10");
        assert_eq!(names[TOP_IMBALANCE], "top_imbalance");
        assert_eq!(names[LAST_MID_MOVE], "last_mid_move_bps");
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        feature_schema().unwrap();
    }
}
