//! A pipeline replay: a capture through the feed stage and the consumer stage, inline or
//! threaded, leaving a session directory behind.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::cpu::{self, StagePlacement, SysRoot, check_placement};
use kestrel_core::latency::{LatencyTag, summarize};
use kestrel_core::pipeline::{
    Discard, Progress, RunMode, RunOutput, StageCores, UpdateHasher, run_inline, run_threaded,
};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedHandler, HandlerConfig};
use kestrel_feeds::kcap::KcapReader;

use super::RunConfig;
use super::id::fresh_session_dir;
use super::summary::{Summary, ThreadSummary};
use super::write::SessionDir;

/// What to replay and how.
#[derive(Clone, Debug)]
pub struct PipelineReplay {
    /// The `.kcap` capture.
    pub input: PathBuf,
    /// Inline or threaded.
    pub mode: RunMode,
    /// Pacing.
    pub pace: Pace,
    /// The `--pace` text as given (for the record).
    pub pace_text: String,
    /// Config file, if any.
    pub config: Option<PathBuf>,
    /// Exact session directory; default `sessions/<id>`.
    pub session_dir: Option<PathBuf>,
    /// Show a progress spinner on stderr.
    pub progress: bool,
}

/// The stage threads a threaded run pins, per the `[cpu]` section.
pub fn stage_cores(config: &RunConfig) -> StageCores {
    StageCores {
        feed: config.cpu.core_for("feed"),
        consumer: config.cpu.core_for("consumer"),
        ops: config.cpu.core_for("ops"),
    }
}

/// The placement plan a threaded run would use: every pinned stage with whether it
/// busy-spins.
pub fn placement_plan(config: &RunConfig) -> Vec<StagePlacement> {
    let cores = stage_cores(config);
    let p = &config.pipeline;
    [
        ("feed", cores.feed, p.producer_wait.is_busy_spin()),
        ("consumer", cores.consumer, p.consumer_wait.is_busy_spin()),
        ("ops", cores.ops, p.ops_wait.is_busy_spin()),
    ]
    .into_iter()
    .filter_map(|(stage, core, busy_spin)| {
        core.map(|core| StagePlacement {
            stage: stage.to_owned(),
            core,
            busy_spin,
        })
    })
    .collect()
}

/// CPU checks and memory locking before a run. Returns the warnings to record.
fn prepare_host(config: &RunConfig, mode: RunMode) -> anyhow::Result<Vec<String>> {
    let mut warnings = Vec::new();
    if mode == RunMode::Threaded {
        let info = SysRoot::default()
            .read()
            .context("reading CPU facts from /sys")?;
        let found = check_placement(&placement_plan(config), &info, config.cpu.require_isolated)?;
        warnings.extend(found.iter().map(ToString::to_string));
    }
    if config.cpu.mlockall
        && let Err(e) = cpu::lock_all_memory()
    {
        if config.cpu.require_isolated {
            return Err(e.into());
        }
        warnings.push(e.to_string());
    }
    Ok(warnings)
}

fn spawn_progress(progress: &Progress) -> impl FnOnce() + '_ {
    move || {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        while !progress.finished() {
            bar.set_message(format!("{} book updates", progress.events()));
            bar.tick();
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    }
}

/// Runs the replay, writes the session directory, and returns the feed handler (final books and
/// counters), the summary and the directory.
pub fn run_pipeline_replay(
    args: &PipelineReplay,
) -> anyhow::Result<(FeedHandler, Summary, PathBuf)> {
    let config = RunConfig::load(args.config.as_deref())?;
    let mut warnings = prepare_host(&config, args.mode)?;
    let reader = KcapReader::open(&args.input)
        .with_context(|| format!("opening capture {}", args.input.display()))?;
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header())
        .with_context(|| format!("replaying {}", args.input.display()))?;
    let started = SystemTime::now();
    let clock = TscClock::new();
    let source = CaptureSource::new(handler, reader.records(), args.pace, clock.clone());
    let progress = Progress::new();
    let out = std::thread::scope(|s| {
        if args.progress {
            s.spawn(spawn_progress(&progress));
        }
        let result = match args.mode {
            RunMode::Inline => run_inline(
                source,
                UpdateHasher::default(),
                Discard,
                &config.pipeline,
                &clock,
                Some(&progress),
            ),
            RunMode::Threaded => run_threaded(
                source,
                UpdateHasher::default(),
                Discard,
                &config.pipeline,
                stage_cores(&config),
                &clock,
                Some(&progress),
            ),
        };
        if result.is_err() {
            // Let the progress thread end.
            progress.set_finished();
        }
        result
    })?;
    if !out.report.balanced() {
        warnings.push(format!(
            "unbalanced shutdown: published {} consumed {} ops {}",
            out.report.published, out.report.consumed, out.report.ops_seen
        ));
    }
    for t in &out.report.threads {
        if t.core.is_some() && !t.pinned {
            warnings.push(format!(
                "stage {} could not be pinned to core {:?}",
                t.stage, t.core
            ));
        }
    }
    let dir = match &args.session_dir {
        Some(d) => d.clone(),
        None => fresh_session_dir(Path::new("sessions"), started, mode_label(args.mode)),
    };
    let session = SessionDir::create(&dir)?;
    let summary = summary_of(args, &dir, &out, warnings);
    let mut table = toml::Table::new();
    table.insert("input".into(), args.input.display().to_string().into());
    table.insert("mode".into(), mode_label(args.mode).into());
    table.insert("pace".into(), args.pace_text.clone().into());
    session.write_config(&config.resolved_toml(&[("session", table)])?)?;
    session.write_latency(
        &out.latency,
        &format!(
            "kestrel replay {} --mode {}",
            args.input.display(),
            mode_label(args.mode)
        ),
    )?;
    session.write_summary(&summary)?;
    Ok((out.source.into_handler(), summary, dir))
}

/// Prints where the session went and its headline figures.
pub fn print_session(summary: &Summary, dir: &Path) {
    println!(
        "session={} mode={} pace={} updates={} throughput={:.0}/s drops={} output_hash={}",
        dir.display(),
        mode_label(summary.mode),
        summary.pace,
        summary.events,
        summary.throughput_eps,
        summary.drops,
        summary.output_hash
    );
    for s in &summary.stages {
        if s.count > 0 {
            println!(
                "latency {:<12} p50={:.3}us p99={:.3}us p99.9={:.3}us max={:.3}us",
                s.stage,
                s.p50_ns as f64 / 1e3,
                s.p99_ns as f64 / 1e3,
                s.p999_ns as f64 / 1e3,
                s.max_ns as f64 / 1e3
            );
        }
    }
    for w in &summary.warnings {
        eprintln!("kestrel: warning: {w}");
    }
}

fn mode_label(mode: RunMode) -> &'static str {
    match mode {
        RunMode::Inline => "inline",
        RunMode::Threaded => "threaded",
    }
}

fn summary_of<I>(
    args: &PipelineReplay,
    dir: &Path,
    out: &RunOutput<CaptureSource<I>, UpdateHasher, Discard>,
    warnings: Vec<String>,
) -> Summary {
    let stats = out.source.stats();
    let hash = out.stage.output();
    let r = &out.report;
    Summary {
        session: dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        input: args.input.display().to_string(),
        mode: args.mode,
        pace: args.pace_text.clone(),
        records: stats.records,
        events: hash.events,
        elapsed_s: r.elapsed_ns as f64 / 1e9,
        throughput_eps: r.throughput(),
        drops: r.published.saturating_sub(r.consumed),
        anomalies: stats.anomalies(),
        backpressure_waits: r.backpressure_waits,
        backpressure_ns: r.backpressure_ns,
        stages: LatencyTag::ALL
            .into_iter()
            .map(|t| summarize(t.as_str(), out.latency.total(t)))
            .collect(),
        output_hash: format!("{:016x}", hash.hash),
        book_hash: format!("{:016x}", out.source.handler().books_hash()),
        threads: r
            .threads
            .iter()
            .map(|t| ThreadSummary {
                stage: t.stage.clone(),
                core: t.core,
                pinned: t.pinned,
            })
            .collect(),
        warnings,
    }
}
