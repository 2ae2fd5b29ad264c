//! `[cpu]`: where stages run and how strictly isolation is required.

use std::collections::BTreeMap;

/// The `[cpu]` config section.
///
/// ```toml
/// [cpu]
/// feed = 2          # stage name = core
/// consumer = 3
/// require_isolated = false
/// mlockall = false
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CpuConfig {
    /// Refuse to start (instead of warning) when a pinned stage sits on a non-isolated core
    /// or two busy-spinning stages share a core.
    pub require_isolated: bool,
    /// Lock all current and future memory (`mlockall`) so the hot path never page-faults on
    /// swapped-out pages.
    pub mlockall: bool,
    /// Stage name (`feed`, `consumer`, `ops`, ...) to core number.
    #[serde(flatten)]
    pub pins: BTreeMap<String, usize>,
}

impl CpuConfig {
    /// The core configured for `stage`.
    pub fn core_for(&self, stage: &str) -> Option<usize> {
        self.pins.get(stage).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stage_pins_next_to_flags() {
        let c: CpuConfig =
            toml::from_str("feed = 2\nconsumer = 3\nrequire_isolated = true\n").unwrap();
        assert_eq!(c.core_for("feed"), Some(2));
        assert_eq!(c.core_for("consumer"), Some(3));
        assert_eq!(c.core_for("ops"), None);
        assert!(c.require_isolated);
        assert!(!c.mlockall);
        let back: CpuConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
