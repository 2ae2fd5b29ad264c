//! `--sidecar NAME`: the replay creates the shared-memory segment, attaches the strategy's
//! sidecar link to it (features out, edges in) and reports what the sidecar contributed under
//! `sidecar` in summary.json. The sidecar itself is a separate process (`scripts/ml.sh serve
//! MODEL --shm NAME`); the run never waits for it once started, and trades on its own alphas
//! while the sidecar is absent, late, stale or dead.

use std::time::{Duration, Instant};

use anyhow::Context;
use kestrel_core::shm::{CoreSegment, SegmentSpec};
use kestrel_strategy::alpha::AlphaConfig;
use kestrel_strategy::sidecar::{SidecarConfig, SidecarLink, SidecarStats, feature_schema};
use serde::{Deserialize, Serialize};

/// Default feature ring size (records).
pub const DEFAULT_RING: usize = 4096;

/// The `--sidecar` flags of `kestrel replay` and `kestrel session`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SidecarArgs {
    /// ML sidecar: create shared-memory segment NAME (a file under /dev/shm, or a path) and
    /// blend the edges a `kestrel-ml serve MODEL --shm NAME` process writes into it.
    #[arg(long, value_name = "NAME")]
    pub sidecar: Option<String>,
    /// With --sidecar: seconds to wait for the sidecar to attach before the run starts.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, requires = "sidecar")]
    pub sidecar_wait: f64,
    /// With --sidecar: oldest edge used, in milliseconds of event time.
    #[arg(long, value_name = "MS", requires = "sidecar")]
    pub sidecar_max_age_ms: Option<f64>,
    /// With --sidecar: heartbeat age (milliseconds) after which the sidecar counts as down.
    #[arg(long, value_name = "MS", requires = "sidecar")]
    pub sidecar_heartbeat_ms: Option<f64>,
}

impl SidecarArgs {
    /// Checked options (`None` without `--sidecar`).
    pub fn options(&self) -> anyhow::Result<Option<SidecarOptions>> {
        let Some(name) = &self.sidecar else {
            return Ok(None);
        };
        let ns = |what: &str, ms: f64| -> anyhow::Result<u64> {
            if !(ms.is_finite() && ms >= 0.0) {
                anyhow::bail!("--{what} must be a non-negative number of milliseconds, got {ms}");
            }
            Ok((ms * 1e6) as u64)
        };
        let wait = self.sidecar_wait;
        if !(wait.is_finite() && wait >= 0.0) {
            anyhow::bail!("--sidecar-wait must be a non-negative number of seconds, got {wait}");
        }
        let mut o = SidecarOptions::new(name.clone());
        o.wait = Duration::from_secs_f64(wait);
        if let Some(ms) = self.sidecar_max_age_ms {
            o.max_age_ns = ns("sidecar-max-age-ms", ms)?;
        }
        if let Some(ms) = self.sidecar_heartbeat_ms {
            o.heartbeat_timeout_ns = ns("sidecar-heartbeat-ms", ms)?;
        }
        Ok(Some(o))
    }
}

/// Creates the segment for a run and waits for the sidecar if asked; the second value is a
/// warning when none attached in time.
pub fn start(
    options: &SidecarOptions,
    instruments: usize,
) -> anyhow::Result<(SidecarSession, SidecarLink, Option<String>)> {
    let (session, link) = SidecarSession::create(options, instruments)?;
    let warning = (!session.wait_for_sidecar() && !options.wait.is_zero()).then(|| {
        format!(
            "no sidecar attached to {} within {:.0}s; the run starts without one",
            options.name,
            options.wait.as_secs_f64()
        )
    });
    Ok((session, link, warning))
}

/// The `sidecar ...` line of a run's report.
pub fn print_sidecar(sc: &SidecarSummary) {
    println!(
        "sidecar attaches={} features_published={} features_dropped={} edges_received={} edges_used={} stale={} sidecar_down={} live_ic={}",
        sc.attaches,
        sc.features_published,
        sc.features_dropped,
        sc.edges_received,
        sc.edges_used,
        sc.stale,
        sc.sidecar_down,
        sc.live_ic
            .map_or_else(|| "-".to_owned(), |ic| format!("{ic:.4}"))
    );
}

/// What the command line asked for.
#[derive(Clone, Debug)]
pub struct SidecarOptions {
    /// Segment name (a file under /dev/shm) or path.
    pub name: String,
    /// How long to wait, before the run starts, for a sidecar to attach (zero: do not wait).
    pub wait: Duration,
    /// Feature ring records (a power of two).
    pub ring: usize,
    /// Oldest edge used, in event time.
    pub max_age_ns: u64,
    /// Heartbeat age after which the sidecar is down.
    pub heartbeat_timeout_ns: u64,
}

impl SidecarOptions {
    /// Options for segment `name` with the defaults: the alpha set's external-edge age limit
    /// and a 250 ms heartbeat timeout.
    pub fn new(name: String) -> Self {
        let link = SidecarConfig::default();
        Self {
            name,
            wait: Duration::ZERO,
            ring: DEFAULT_RING,
            max_age_ns: AlphaConfig::default().external_max_age_ns,
            heartbeat_timeout_ns: link.heartbeat_timeout_ns,
        }
    }
}

/// The segment of a run.
#[derive(Debug)]
pub struct SidecarSession {
    segment: CoreSegment,
    options: SidecarOptions,
}

impl SidecarSession {
    /// Creates the segment for `instruments` and the link the strategy stage takes.
    pub fn create(
        options: &SidecarOptions,
        instruments: usize,
    ) -> anyhow::Result<(Self, SidecarLink)> {
        let schema = feature_schema().context("the sidecar feature schema")?;
        let segment = CoreSegment::create(
            &options.name,
            &SegmentSpec {
                ring_capacity: options.ring,
                instruments,
                schema,
            },
        )
        .with_context(|| format!("creating sidecar segment `{}`", options.name))?;
        let link = SidecarLink::new(
            &segment,
            instruments,
            SidecarConfig {
                max_age_ns: options.max_age_ns,
                heartbeat_timeout_ns: options.heartbeat_timeout_ns,
                ..SidecarConfig::default()
            },
        )
        .context("linking the strategy to the sidecar segment")?;
        Ok((
            Self {
                segment,
                options: options.clone(),
            },
            link,
        ))
    }

    /// Waits (up to the configured time) for a sidecar to attach; returns whether one did.
    pub fn wait_for_sidecar(&self) -> bool {
        if self.options.wait.is_zero() {
            return self.segment.status().sidecar_pid != 0;
        }
        eprintln!(
            "kestrel: waiting up to {:.0}s for a sidecar on {}",
            self.options.wait.as_secs_f64(),
            self.segment.path().display()
        );
        let deadline = Instant::now() + self.options.wait;
        while Instant::now() < deadline {
            if self.segment.status().sidecar_pid != 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The `sidecar` object of summary.json.
    pub fn summary(&self, stats: Option<SidecarStats>) -> SidecarSummary {
        let st = self.segment.status();
        let s = stats.unwrap_or_default();
        SidecarSummary {
            segment: self.segment.path().display().to_string(),
            model_id: st.model_id,
            model_version: st.model_version,
            attaches: st.sidecar_attaches,
            max_age_ns: self.options.max_age_ns,
            heartbeat_timeout_ns: self.options.heartbeat_timeout_ns,
            features_published: s.features_published,
            features_dropped: s.features_dropped,
            features_consumed: st.tail,
            edges_received: s.edges_received,
            edges_used: s.edges_used,
            stale: s.stale,
            sidecar_down: s.sidecar_down,
            busy_reads: s.busy_reads,
            live_ic: s.live_ic,
            live_hit_rate: s.live_hit_rate,
            ic_samples: s.ic_samples,
            edge_delay_mean_us: s.edge_delay_mean_ns.map(|ns| ns / 1e3),
            edge_delay_max_us: s.edge_delay_max_ns as f64 / 1e3,
        }
    }
}

/// What the sidecar contributed to a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SidecarSummary {
    /// The segment file.
    pub segment: String,
    /// Model id of the last sidecar attached (0: none ever attached).
    pub model_id: u32,
    /// Its model version.
    pub model_version: u32,
    /// Times a sidecar attached (more than 1: it was restarted).
    pub attaches: u64,
    /// Edge age limit in event time (ns).
    pub max_age_ns: u64,
    /// Heartbeat timeout (ns).
    pub heartbeat_timeout_ns: u64,
    /// Feature vectors published.
    pub features_published: u64,
    /// Feature vectors dropped on a full ring (the core never waits).
    pub features_dropped: u64,
    /// Feature vectors the sidecar consumed.
    pub features_consumed: u64,
    /// New edges read.
    pub edges_received: u64,
    /// Decisions that blended a fresh edge.
    pub edges_used: u64,
    /// Decisions whose edge was older than the age limit (not used).
    pub stale: u64,
    /// Decisions whose edge came from a sidecar whose heartbeat had stopped (not used).
    pub sidecar_down: u64,
    /// Edge reads that met a write in progress every time.
    pub busy_reads: u64,
    /// The model's live IC: used edges against the mid move over their horizon.
    pub live_ic: Option<f64>,
    /// Fraction of used edges with the sign of the move that followed.
    pub live_hit_rate: Option<f64>,
    /// Pairs behind the live IC.
    pub ic_samples: u64,
    /// Feature publish to edge receipt by the core, mean (us).
    pub edge_delay_mean_us: Option<f64>,
    /// Feature publish to edge receipt, largest (us).
    pub edge_delay_max_us: f64,
}
