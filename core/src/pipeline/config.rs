//! Pipeline configuration (`[pipeline]` in the TOML config).

use super::WaitStrategy;

/// Inline or threaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// All stages on the calling thread.
    Inline,
    /// One pinned thread per stage.
    Threaded,
}

impl std::str::FromStr for RunMode {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inline" => Ok(RunMode::Inline),
            "threaded" => Ok(RunMode::Threaded),
            _ => Err(ConfigError::Mode(s.to_owned())),
        }
    }
}

/// An unusable pipeline configuration.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Ring sizes must be powers of two (the ring indexes with a mask).
    #[error("ring_size {0} is not a power of two >= 2")]
    RingSize(usize),
    /// Not `inline` or `threaded`.
    #[error("unknown mode {0:?}: expected `inline` or `threaded`")]
    Mode(String),
}

/// `[pipeline]`: ring sizes, wait strategies and the latency interval.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Slots in each stage-to-stage ring (power of two); preallocated at start.
    pub ring_size: usize,
    /// How consumers wait on an empty ring.
    pub consumer_wait: WaitStrategy,
    /// How the producer waits on a full ring (backpressure).
    pub producer_wait: WaitStrategy,
    /// How the ops thread waits (it is never latency-critical).
    pub ops_wait: WaitStrategy,
    /// Length of a latency interval in milliseconds (one histogram per stage per interval in
    /// `latency.hlog`); 0 records one interval for the whole run.
    pub interval_ms: u64,
    /// Interval sets each hot thread's recorder owns (at least two): one being recorded, the
    /// rest in flight to or back from the ops thread. Allocated and pre-faulted at start on the
    /// thread that records; if ops has returned none when an interval ends, that interval is
    /// extended to the next boundary (counted as deferred), never dropped.
    pub snapshot_slots: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            ring_size: 1 << 14,
            consumer_wait: WaitStrategy::default(),
            producer_wait: WaitStrategy::default(),
            ops_wait: WaitStrategy::Sleep { micros: 200 },
            interval_ms: 1_000,
            snapshot_slots: crate::latency::DEFAULT_INTERVAL_SETS,
        }
    }
}

impl PipelineConfig {
    /// Checks the values the pipeline relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.ring_size < 2 || !self.ring_size.is_power_of_two() {
            return Err(ConfigError::RingSize(self.ring_size));
        }
        Ok(())
    }

    /// The latency interval in nanoseconds.
    pub fn interval_ns(&self) -> u64 {
        self.interval_ms.saturating_mul(1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ring_size_and_parses_modes() {
        assert!(PipelineConfig::default().validate().is_ok());
        let bad = PipelineConfig {
            ring_size: 1000,
            ..PipelineConfig::default()
        };
        assert_eq!(bad.validate(), Err(ConfigError::RingSize(1000)));
        assert_eq!("inline".parse::<RunMode>(), Ok(RunMode::Inline));
        assert_eq!("threaded".parse::<RunMode>(), Ok(RunMode::Threaded));
        assert!("both".parse::<RunMode>().is_err());
    }

    #[test]
    fn toml_round_trip_with_defaults() {
        let c: PipelineConfig = toml::from_str("ring_size = 1024").unwrap();
        assert_eq!(c.ring_size, 1024);
        assert_eq!(c.interval_ms, 1_000);
        let text = toml::to_string(&c).unwrap();
        let back: PipelineConfig = toml::from_str(&text).unwrap();
        assert_eq!(back, c);
        assert!(toml::from_str::<PipelineConfig>("ring_sise = 1").is_err());
    }
}
