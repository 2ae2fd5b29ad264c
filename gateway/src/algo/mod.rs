//! Execution algorithms as parent orders over the OMS: TWAP, VWAP and iceberg.
//!
//! A parent holds a target quantity, a side, a limit price (the worst price any child may
//! have) and a schedule. It works one child order at a time through the same pre-trade checks
//! and OMS as any other order:
//!
//! - **TWAP** splits the target over `slices` equal time slices between start and end: by the
//!   end of slice `k` it aims to have `target * k / slices` filled;
//! - **VWAP** does the same with the slice targets following an intraday [`VolumeProfile`]
//!   (built from a capture): by time `t` it aims for the profile's share of the window's
//!   volume traded by `t`;
//! - **iceberg** shows at most `display` shares at the limit price and refills as the shown
//!   part fills, until the target is done.
//!
//! A TWAP/VWAP child rests at the touch on its own side (capped at the limit); a child left
//! over from an earlier slice is cancelled and the shortfall goes out at the new touch. At the
//! end the last child is cancelled and the parent finishes; what did not fill is reported to
//! the strategy as done. Child fills go to the strategy as they happen; child cancels and
//! rejects stay inside the parent.

mod profile;

pub use profile::{DAY_NS, VolumeProfile};

use kestrel_core::{InstrumentId, MarketTop, Price, Side};

/// Which algorithm works a parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgoKind {
    /// Equal time slices.
    Twap {
        /// Schedule length, ns of event time.
        duration_ns: u64,
        /// Number of slices.
        slices: u32,
    },
    /// Volume-profile slices (the instrument's profile must be loaded).
    Vwap {
        /// Schedule length, ns of event time.
        duration_ns: u64,
        /// Number of slices (re-pricing points).
        slices: u32,
    },
    /// Shows `display` shares at a time at the limit price.
    Iceberg {
        /// Shares shown at once.
        display: u32,
    },
}

/// What the engine should do for a parent now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgoAction {
    /// Send a child.
    Send {
        /// Parent slot.
        parent: u32,
        /// Shares.
        shares: u32,
        /// Limit price.
        price: Price,
    },
    /// Cancel the working child (OMS slot).
    Cancel {
        /// Parent slot.
        parent: u32,
        /// Child's OMS slot.
        child: u32,
    },
    /// The parent is finished: report `unfilled` shares as done.
    Finish {
        /// Parent slot.
        parent: u32,
        /// Shares never filled.
        unfilled: u32,
    },
}

/// One parent order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parent {
    /// The intent it works.
    pub intent_seq: u64,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side.
    pub side: Side,
    /// Worst acceptable price.
    pub limit: Price,
    /// Target shares.
    pub target: u32,
    /// Filled so far.
    pub filled: u32,
    /// The algorithm.
    pub kind: AlgoKind,
    /// Start, event time ns.
    pub start_ns: u64,
    /// The working child's OMS slot and the slice it was sent in.
    pub child: Option<(u32, u32)>,
    /// A cancel of the child is in flight.
    pub cancelling: bool,
    /// Stop requested (kill switch, a new opposite intent).
    pub stopping: bool,
    /// Market mid at start.
    pub arrival_mid: Price,
}

impl Parent {
    fn end_ns(&self) -> Option<u64> {
        match self.kind {
            AlgoKind::Twap { duration_ns, .. } | AlgoKind::Vwap { duration_ns, .. } => {
                Some(self.start_ns.saturating_add(duration_ns))
            }
            AlgoKind::Iceberg { .. } => None,
        }
    }

    fn slices(&self) -> u32 {
        match self.kind {
            AlgoKind::Twap { slices, .. } | AlgoKind::Vwap { slices, .. } => slices.max(1),
            AlgoKind::Iceberg { .. } => 1,
        }
    }

    /// The slice `now` falls in (0-based, capped at the last).
    fn slice_at(&self, now: u64) -> u32 {
        match self.end_ns() {
            Some(end) if end > self.start_ns => {
                let len = (end - self.start_ns) / u64::from(self.slices());
                let k = now.saturating_sub(self.start_ns) / len.max(1);
                (k as u32).min(self.slices() - 1)
            }
            _ => 0,
        }
    }
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlgoStats {
    /// Parents started.
    pub started: u64,
    /// Parents finished.
    pub finished: u64,
    /// Children sent.
    pub children: u64,
    /// Parents refused (no free slot, no profile for VWAP).
    pub refused: u64,
}

/// Every parent order, in fixed slots.
#[derive(Debug)]
pub struct Algos {
    parents: Vec<Option<Parent>>,
    profiles: Vec<Option<VolumeProfile>>,
    stats: AlgoStats,
}

/// Why a parent could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlgoError {
    /// Every parent slot is in use.
    #[error("no free parent slot")]
    Full,
    /// VWAP without a volume profile for the instrument.
    #[error("no volume profile for instrument {0}")]
    NoProfile(u32),
    /// Zero target or zero slices/display.
    #[error("empty parent order")]
    Empty,
}

impl Algos {
    /// Room for `capacity` parents at once over `instruments` instruments.
    pub fn new(capacity: usize, instruments: usize) -> Self {
        Self {
            parents: vec![None; capacity],
            profiles: vec![None; instruments],
            stats: AlgoStats::default(),
        }
    }

    /// Loads an instrument's volume profile (VWAP).
    pub fn set_profile(&mut self, instrument: InstrumentId, profile: VolumeProfile) {
        if let Some(p) = self.profiles.get_mut(instrument.index()) {
            *p = Some(profile);
        }
    }

    /// Counters.
    pub fn stats(&self) -> AlgoStats {
        self.stats
    }

    /// A parent by slot.
    pub fn parent(&self, slot: u32) -> Option<&Parent> {
        self.parents.get(slot as usize).and_then(Option::as_ref)
    }

    /// Active parents.
    pub fn active(&self) -> usize {
        self.parents.iter().filter(|p| p.is_some()).count()
    }

    /// Starts a parent; returns its slot.
    pub fn start(&mut self, parent: Parent) -> Result<u32, AlgoError> {
        let empty = parent.target == 0
            || match parent.kind {
                AlgoKind::Twap { slices, .. } | AlgoKind::Vwap { slices, .. } => slices == 0,
                AlgoKind::Iceberg { display } => display == 0,
            };
        if empty {
            self.stats.refused += 1;
            return Err(AlgoError::Empty);
        }
        if matches!(parent.kind, AlgoKind::Vwap { .. })
            && self
                .profiles
                .get(parent.instrument.index())
                .is_none_or(Option::is_none)
        {
            self.stats.refused += 1;
            return Err(AlgoError::NoProfile(parent.instrument.0));
        }
        let Some(slot) = self.parents.iter().position(Option::is_none) else {
            self.stats.refused += 1;
            return Err(AlgoError::Full);
        };
        self.parents[slot] = Some(parent);
        self.stats.started += 1;
        Ok(slot as u32)
    }

    /// Asks a parent to stop (its child is cancelled, then it finishes).
    pub fn stop(&mut self, slot: u32) {
        if let Some(Some(p)) = self.parents.get_mut(slot as usize) {
            p.stopping = true;
        }
    }

    /// Parents working `instrument` on `side`.
    pub fn working_on(
        &self,
        instrument: InstrumentId,
        side: Side,
    ) -> impl Iterator<Item = u32> + '_ {
        self.parents.iter().enumerate().filter_map(move |(i, p)| {
            p.as_ref()
                .filter(|p| p.instrument == instrument && p.side == side)
                .map(|_| i as u32)
        })
    }

    /// Every active parent slot.
    pub fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.parents
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|_| i as u32))
    }

    /// A child was sent for `slot` (its OMS slot).
    pub fn child_sent(&mut self, slot: u32, child: u32, now: u64) {
        if let Some(Some(p)) = self.parents.get_mut(slot as usize) {
            let k = p.slice_at(now);
            p.child = Some((child, k));
            p.cancelling = false;
            self.stats.children += 1;
        }
    }

    /// A child cancel was sent.
    pub fn cancel_sent(&mut self, slot: u32) {
        if let Some(Some(p)) = self.parents.get_mut(slot as usize) {
            p.cancelling = true;
        }
    }

    /// A child filled `shares`.
    pub fn child_filled(&mut self, slot: u32, shares: u32) {
        if let Some(Some(p)) = self.parents.get_mut(slot as usize) {
            p.filled = p.filled.saturating_add(shares).min(p.target);
        }
    }

    /// The child is done (filled, cancelled, rejected, or never sent).
    pub fn child_done(&mut self, slot: u32) {
        if let Some(Some(p)) = self.parents.get_mut(slot as usize) {
            p.child = None;
            p.cancelling = false;
        }
    }

    /// Removes a finished parent.
    pub fn finish(&mut self, slot: u32) -> Option<Parent> {
        let p = self.parents.get_mut(slot as usize)?.take();
        if p.is_some() {
            self.stats.finished += 1;
        }
        p
    }

    /// What parent `slot` should do at event time `now` with the market `top`.
    pub fn step(&self, slot: u32, now: u64, top: &MarketTop) -> Option<AlgoAction> {
        let p = self.parent(slot)?;
        let remaining = p.target - p.filled;
        let ended = p.stopping || remaining == 0 || p.end_ns().is_some_and(|e| now >= e);
        if ended {
            return match p.child {
                Some((child, _)) if !p.cancelling => Some(AlgoAction::Cancel {
                    parent: slot,
                    child,
                }),
                Some(_) => None,
                None => Some(AlgoAction::Finish {
                    parent: slot,
                    unfilled: remaining,
                }),
            };
        }
        let k = p.slice_at(now);
        if let Some((child, sent_in)) = p.child {
            // A child from an earlier slice is re-priced: cancel it, send the shortfall next.
            return (sent_in < k && !p.cancelling && !matches!(p.kind, AlgoKind::Iceberg { .. }))
                .then_some(AlgoAction::Cancel {
                    parent: slot,
                    child,
                });
        }
        let want = match p.kind {
            AlgoKind::Iceberg { display } => display.min(remaining),
            AlgoKind::Twap { .. } => {
                let goal = (u64::from(p.target) * u64::from(k + 1)).div_ceil(u64::from(p.slices()));
                (goal as u32).saturating_sub(p.filled)
            }
            AlgoKind::Vwap { duration_ns, .. } => {
                let profile = self.profiles.get(p.instrument.index())?.as_ref()?;
                let slice_end = p.start_ns + duration_ns / u64::from(p.slices()) * u64::from(k + 1);
                let f = profile.fraction(p.start_ns, p.start_ns + duration_ns, slice_end);
                let goal = (f64::from(p.target) * f).ceil() as u32;
                goal.min(p.target).saturating_sub(p.filled)
            }
        };
        if want == 0 {
            return None;
        }
        let price = match p.kind {
            AlgoKind::Iceberg { .. } => p.limit,
            _ => touch_price(p.side, top, p.limit),
        };
        Some(AlgoAction::Send {
            parent: slot,
            shares: want,
            price,
        })
    }
}

/// The passive price on our side of the book, never worse than `limit`.
pub fn touch_price(side: Side, top: &MarketTop, limit: Price) -> Price {
    match side {
        Side::Buy if top.bid.is_positive() => top.bid.min(limit),
        Side::Sell if top.ask.is_positive() => top.ask.max(limit),
        _ => limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(s: &str) -> Price {
        s.parse().unwrap()
    }

    fn parent(kind: AlgoKind) -> Parent {
        Parent {
            intent_seq: 1,
            instrument: InstrumentId(0),
            side: Side::Buy,
            limit: px("10.05"),
            target: 100,
            filled: 0,
            kind,
            start_ns: 1_000,
            child: None,
            cancelling: false,
            stopping: false,
            arrival_mid: px("10"),
        }
    }

    fn top() -> MarketTop {
        MarketTop {
            bid: px("10"),
            ask: px("10.02"),
            ..MarketTop::default()
        }
    }

    #[test]
    fn twap_slices_reprice_and_finish() {
        let mut a = Algos::new(4, 1);
        let s = a
            .start(parent(AlgoKind::Twap {
                duration_ns: 400,
                slices: 4,
            }))
            .unwrap();
        assert_eq!(
            a.step(s, 1_000, &top()),
            Some(AlgoAction::Send {
                parent: s,
                shares: 25,
                price: px("10")
            })
        );
        a.child_sent(s, 7, 1_000);
        assert_eq!(a.step(s, 1_050, &top()), None, "child working in its slice");
        a.child_filled(s, 10);
        assert_eq!(
            a.step(s, 1_100, &top()),
            Some(AlgoAction::Cancel {
                parent: s,
                child: 7
            })
        );
        a.cancel_sent(s);
        assert_eq!(a.step(s, 1_110, &top()), None, "cancel in flight");
        a.child_done(s);
        // Slice 1: goal 50, filled 10 -> 40.
        assert_eq!(
            a.step(s, 1_110, &top()),
            Some(AlgoAction::Send {
                parent: s,
                shares: 40,
                price: px("10")
            })
        );
        // At the end with nothing working: finish with the unfilled rest.
        assert_eq!(
            a.step(s, 1_400, &top()),
            Some(AlgoAction::Finish {
                parent: s,
                unfilled: 90
            })
        );
    }

    #[test]
    fn vwap_follows_the_profile() {
        let mut a = Algos::new(4, 1);
        assert_eq!(
            a.start(parent(AlgoKind::Vwap {
                duration_ns: 400,
                slices: 2
            })),
            Err(AlgoError::NoProfile(0))
        );
        // Buckets of 200 ns over the day: 1000..1200 has 300, 1200..1400 has 100.
        let mut vols = vec![0u64; 10];
        vols[5] = 300;
        vols[6] = 100;
        a.set_profile(InstrumentId(0), VolumeProfile::from_buckets(200, &vols));
        let s = a
            .start(parent(AlgoKind::Vwap {
                duration_ns: 400,
                slices: 2,
            }))
            .unwrap();
        assert_eq!(
            a.step(s, 1_000, &top()),
            Some(AlgoAction::Send {
                parent: s,
                shares: 75,
                price: px("10")
            })
        );
    }

    #[test]
    fn iceberg_refills_at_the_limit() {
        let mut a = Algos::new(1, 1);
        let s = a.start(parent(AlgoKind::Iceberg { display: 30 })).unwrap();
        assert_eq!(
            a.step(s, 0, &top()),
            Some(AlgoAction::Send {
                parent: s,
                shares: 30,
                price: px("10.05")
            })
        );
        a.child_sent(s, 1, 0);
        a.child_filled(s, 30);
        a.child_done(s);
        assert_eq!(
            a.step(s, 0, &top()),
            Some(AlgoAction::Send {
                parent: s,
                shares: 30,
                price: px("10.05")
            })
        );
        assert_eq!(
            a.start(parent(AlgoKind::Iceberg { display: 30 })),
            Err(AlgoError::Full)
        );
        a.child_sent(s, 2, 0);
        a.child_filled(s, 70);
        a.child_done(s);
        assert_eq!(
            a.step(s, 0, &top()),
            Some(AlgoAction::Finish {
                parent: s,
                unfilled: 0
            })
        );
        assert!(a.finish(s).is_some());
        assert_eq!(a.active(), 0);
    }
}
