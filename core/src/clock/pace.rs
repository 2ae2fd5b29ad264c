//! Replay pacing: as fast as possible, at the recorded rate, or at a multiple of it.

use std::str::FromStr;

use super::{Clock, TscClock};
use crate::time::Timestamp;

/// How fast a replay feeds records into the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    /// No pacing: every record as soon as the pipeline takes it.
    Max,
    /// Records at the capture's own inter-arrival times, multiplied in speed by the factor
    /// (1.0 = recorded rate, 2.0 = twice as fast).
    Factor(f64),
}

impl Pace {
    /// Recorded speed.
    pub const RECORDED: Pace = Pace::Factor(1.0);
}

/// A `--pace` value that is neither `max`, `recorded` nor a positive number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid pace {0:?}: expected `max`, `recorded` or a positive speed factor such as 2.5")]
pub struct PaceParseError(pub String);

impl FromStr for Pace {
    type Err = PaceParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "max" => Ok(Pace::Max),
            "recorded" => Ok(Pace::RECORDED),
            _ => match s.parse::<f64>() {
                Ok(f) if f.is_finite() && f > 0.0 => Ok(Pace::Factor(f)),
                _ => Err(PaceParseError(s.to_owned())),
            },
        }
    }
}

/// Maps capture receive times onto intended send times on the live clock and waits for them.
///
/// The intended send time is what paced latencies are measured from: when the pipeline falls
/// behind, the queueing delay is counted rather than hidden (coordinated-omission correction).
#[derive(Debug)]
pub struct Pacer {
    pace: Pace,
    first_capture_ns: Option<u64>,
    start_live_ns: u64,
}

impl Pacer {
    /// A pacer that starts its schedule at the first record it sees.
    pub fn new(pace: Pace) -> Self {
        Self {
            pace,
            first_capture_ns: None,
            start_live_ns: 0,
        }
    }

    /// The configured pace.
    pub fn pace(&self) -> Pace {
        self.pace
    }

    /// The live time at which the record captured at `capture_ts` is meant to be sent; with
    /// [`Pace::Max`] that is "now".
    #[inline]
    pub fn intended(&mut self, capture_ts: Timestamp, clock: &TscClock) -> Timestamp {
        match self.pace {
            Pace::Max => clock.now(),
            Pace::Factor(factor) => {
                let first = match self.first_capture_ns {
                    Some(first) => first,
                    None => {
                        self.first_capture_ns = Some(capture_ts.nanos());
                        self.start_live_ns = clock.now().nanos();
                        capture_ts.nanos()
                    }
                };
                let offset = capture_ts.nanos().saturating_sub(first);
                // f64 keeps 53 bits: exact for offsets below ~104 days.
                let scaled = (offset as f64 / factor) as u64;
                Timestamp(self.start_live_ns.saturating_add(scaled))
            }
        }
    }

    /// Waits (spinning, yielding when far away) until the live clock reaches `intended`.
    #[inline]
    pub fn wait_until(&self, intended: Timestamp, clock: &TscClock) {
        loop {
            let now = clock.now();
            if now >= intended {
                return;
            }
            if intended.saturating_since(now) > 50_000 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pace_arguments() {
        assert_eq!("max".parse::<Pace>(), Ok(Pace::Max));
        assert_eq!("recorded".parse::<Pace>(), Ok(Pace::Factor(1.0)));
        assert_eq!("2.5".parse::<Pace>(), Ok(Pace::Factor(2.5)));
        assert!("0".parse::<Pace>().is_err());
        assert!("-1".parse::<Pace>().is_err());
        assert!("fast".parse::<Pace>().is_err());
        assert!("NaN".parse::<Pace>().is_err());
    }

    #[test]
    fn schedules_at_the_scaled_capture_offsets() {
        let clock = TscClock::new();
        let mut pacer = Pacer::new(Pace::Factor(2.0));
        let t0 = pacer.intended(Timestamp(1_000_000), &clock);
        let t1 = pacer.intended(Timestamp(3_000_000), &clock);
        assert_eq!(t1.saturating_since(t0), 1_000_000);
        pacer.wait_until(t1, &clock);
        assert!(clock.now() >= t1);
    }
}
