//! The run configuration file: `[pipeline]` and `[cpu]` typed here, every other section kept
//! as written so the resolved copy in the session directory loses nothing.

use std::path::Path;

use anyhow::Context;
use kestrel_core::cpu::CpuConfig;
use kestrel_core::pipeline::PipelineConfig;

/// A loaded configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunConfig {
    /// `[pipeline]`, defaults filled in.
    pub pipeline: PipelineConfig,
    /// `[cpu]`, defaults filled in.
    pub cpu: CpuConfig,
    /// Every other section, untouched.
    pub other: toml::Table,
}

impl RunConfig {
    /// Parses TOML text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut table: toml::Table = toml::from_str(text).context("config is not valid TOML")?;
        let pipeline = match table.remove("pipeline") {
            Some(v) => v.try_into().context("[pipeline] section")?,
            None => PipelineConfig::default(),
        };
        let cpu = match table.remove("cpu") {
            Some(v) => v.try_into().context("[cpu] section")?,
            None => CpuConfig::default(),
        };
        let config = Self {
            pipeline,
            cpu,
            other: table,
        };
        config.pipeline.validate().context("[pipeline] section")?;
        Ok(config)
    }

    /// Reads and parses a file; `None` gives the defaults.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Ok(Self::default()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading config {}", p.display()))?;
                Self::parse(&text).with_context(|| format!("config {}", p.display()))
            }
        }
    }

    /// The resolved configuration as TOML, with `extra` (e.g. a `[session]` table of command
    /// line choices) added.
    pub fn resolved_toml(&self, extra: &[(&str, toml::Table)]) -> anyhow::Result<String> {
        let mut table = self.other.clone();
        for (name, t) in extra {
            table.insert((*name).to_owned(), toml::Value::Table(t.clone()));
        }
        table.insert(
            "pipeline".to_owned(),
            toml::Value::try_from(&self.pipeline).context("serialising [pipeline]")?,
        );
        table.insert(
            "cpu".to_owned(),
            toml::Value::try_from(&self.cpu).context("serialising [cpu]")?,
        );
        toml::to_string_pretty(&table).context("serialising config")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_core::pipeline::WaitStrategy;

    #[test]
    fn typed_sections_and_passthrough_round_trip() {
        let text = r#"
[pipeline]
ring_size = 4096
consumer_wait = { kind = "busy_spin" }

[cpu]
feed = 2
consumer = 3

[strategy]
alpha = 0.5
"#;
        let c = RunConfig::parse(text).unwrap();
        assert_eq!(c.pipeline.ring_size, 4096);
        assert_eq!(c.pipeline.consumer_wait, WaitStrategy::BusySpin);
        assert_eq!(c.cpu.core_for("consumer"), Some(3));
        let mut session = toml::Table::new();
        session.insert("mode".into(), "inline".into());
        let resolved = c.resolved_toml(&[("session", session)]).unwrap();
        assert!(resolved.contains("[strategy]"), "{resolved}");
        assert!(resolved.contains("interval_ms = 1000"), "{resolved}");
        let back = RunConfig::parse(&resolved).unwrap();
        assert_eq!(back.pipeline, c.pipeline);
        assert_eq!(back.cpu, c.cpu);
        assert!(back.other.contains_key("session"));
    }

    #[test]
    fn bad_sections_are_errors() {
        assert!(RunConfig::parse("[pipeline]\nring_size = 1000\n").is_err());
        assert!(RunConfig::parse("[pipeline]\nring_sise = 1024\n").is_err());
        assert!(RunConfig::parse("[cpu]\nfeed = \"two\"\n").is_err());
    }
}
