//! A pipeline replay: a capture (.kcap or .pcap) through the feed stage and the strategy stage,
//! inline or threaded, with the strategy parameter file watched for hot reloads, leaving a
//! session directory behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use kestrel_core::book::L3Books;
use kestrel_core::clock::{Clock, Pace, TscClock};
use kestrel_core::cpu::{self, StagePlacement, SysRoot, check_placement};
use kestrel_core::latency::{LatencyCollector, LatencyTag, summarize};
use kestrel_core::pipeline::Source;
use kestrel_core::pipeline::{
    HlogStream, Ops, Progress, RunMode, RunOutput, RunReport, StageCores, run_inline_on,
    run_threaded,
};
use kestrel_core::{BookUpdate, InstrumentTable, Price, Qty};
use kestrel_feeds::feed_stage::{CaptureSource, PublishPolicy};
use kestrel_feeds::handler::{
    CaptureFile, FeedEvent, FeedHandler, HandlerConfig, header_instruments,
};
use kestrel_feeds::kcap::{KcapReader, Record, Records};
use kestrel_feeds::pcap::{ChannelMap, PcapRecords};
use kestrel_feeds::venue_source::{RecordFeed, VenueSource};
use kestrel_strategy::alpha::MODEL_COUNT;
use kestrel_strategy::harmonizer::FillMode;
use kestrel_strategy::params::{
    ParamsReceiver, ParamsWatcher, StrategyParams, UniverseSpec, params_handoff,
    parse_strategy_file,
};
use kestrel_strategy::stage::{
    BINDINGS, DEFAULT_PARAMS_TOML, ParamsReloader, ReloadNote, ReloadOutcome, StrategyStage,
    default_params,
};
use kestrel_strategy::universe::Universe;

use super::RunConfig;
use super::feed::{IntoReplayed, ReplayedFeed, UniverseMask, VenueFeed, venue_feed};
use super::gateway::{self as gw, GatewayArgs, GatewaySink};
use super::id::fresh_session_dir;
use super::sidecar::{self, SidecarOptions};
use super::summary::{StrategySummary, Summary, ThreadSummary};
use super::write::{SessionDir, SessionFile};

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
    /// Strategy parameter file (watched for changes and SIGHUP); `None`: the built-in
    /// defaults (examples/strategy.toml).
    pub strategy_params: Option<PathBuf>,
    /// `--symbols`: the strategy's universe (comma-separated; `*` for every instrument),
    /// overriding the parameter file's `[universe]`.
    pub symbols: Option<String>,
    /// `--publish`: when the feed publishes a book update to the strategy.
    pub publish: PublishPolicy,
    /// Show a progress spinner on stderr.
    pub progress: bool,
    /// Send the intents to a venue (`--gateway`); `None`: simulated fills.
    pub gateway: Option<GatewayArgs>,
    /// The ML sidecar segment to create and use (`--sidecar`).
    pub sidecar: Option<SidecarOptions>,
}

/// The stage threads a run pins, per the `[cpu]` section (inline: the one hot thread on the
/// `feed` core, the ops thread on `ops`).
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
    let mut plan = placement_plan(config);
    if mode == RunMode::Inline {
        // Inline has no consumer thread: its one hot thread takes the feed's core.
        plan.retain(|p| p.stage != "consumer");
    }
    if !plan.is_empty() {
        let info = SysRoot::default()
            .read()
            .context("reading CPU facts from /sys")?;
        let found = check_placement(&plan, &info, config.cpu.require_isolated)?;
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

/// Where the strategy's parameters come from and how reloads are watched.
struct StrategySetup {
    params: StrategyParams,
    /// The file's `[universe]`, if any.
    universe: Option<UniverseSpec>,
    /// The initial file's text (copied into the session directory as strategy.toml).
    text: String,
    receiver: ParamsReceiver,
    /// Watches the file (`None` with the built-in defaults: nothing to watch).
    reloader: Option<ParamsReloader>,
}

/// How often the parameter file is checked for changes.
const RELOAD_POLL: Duration = Duration::from_millis(50);

fn strategy_setup(path: Option<&Path>) -> anyhow::Result<StrategySetup> {
    let (publisher, receiver) = params_handoff(0);
    let Some(path) = path else {
        let params = default_params().context("the built-in strategy parameters")?;
        return Ok(StrategySetup {
            params,
            universe: None,
            text: DEFAULT_PARAMS_TOML.to_owned(),
            receiver,
            reloader: None,
        });
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading strategy parameters {}", path.display()))?;
    let file = parse_strategy_file(&text)
        .and_then(|f| f.params.expect_models(MODEL_COUNT).map(|()| f))
        .with_context(|| format!("strategy parameters {}", path.display()))?;
    let params = file.params;
    let watcher = ParamsWatcher::new(path, params, MODEL_COUNT, publisher);
    Ok(StrategySetup {
        params,
        universe: file.universe,
        text,
        receiver,
        reloader: Some(ParamsReloader::new(
            watcher,
            u64::try_from(RELOAD_POLL.as_nanos()).unwrap_or(u64::MAX),
        )),
    })
}

/// The instruments the strategy is sized for: the capture header's table, or (a pcap, or a
/// kcap whose header declares none) the table a first decoding pass learns from the ITCH `R`
/// messages (ids are dense in order of appearance, so the replay assigns the same ones). A
/// capture without any instrument gets one placeholder so the stage can be built; its updates
/// (if any) are then counted as unknown instruments.
fn instrument_table(capture: &CaptureFile) -> anyhow::Result<InstrumentTable> {
    let mut table = match capture {
        CaptureFile::Kcap(reader) if !reader.header().instruments.is_empty() => {
            header_instruments(reader.header()).context("capture instrument table")?
        }
        _ => {
            let mut handler = capture.handler(HandlerConfig::default())?;
            capture.replay(&mut handler, &mut |_: &FeedEvent, _: &L3Books| {});
            handler.instruments().clone()
        }
    };
    if table.is_empty() {
        table
            .add("-", Price::from_raw(1), Qty::ONE, 0)
            .context("placeholder instrument")?;
    }
    Ok(table)
}

/// A pcap's records, with the count of frames its reader skipped (not IPv4/UDP, fragments,
/// unknown link or port) published when the records run out, so the replay counts them as the
/// plain feed replay does.
struct PcapSource<'a> {
    records: PcapRecords<'a>,
    skipped: &'a AtomicU64,
}

impl<'a> Iterator for PcapSource<'a> {
    type Item = <PcapRecords<'a> as Iterator>::Item;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.records.next();
        if next.is_none() {
            let st = self.records.stats();
            self.skipped.store(
                st.not_ipv4 + st.not_udp + st.fragments + st.unsupported_link + st.unmapped_port,
                Ordering::Relaxed,
            );
        }
        next
    }
}

/// What one pipeline run left behind, whatever its record source.
struct Ran {
    handler: ReplayedFeed,
    /// Accepted events not published (outside the universe).
    unpublished: u64,
    /// Accepted events merged into a later update of their packet (`--publish packet`).
    merged: u64,
    stage: StrategyStage,
    report: RunReport,
    latency: LatencyCollector,
    reload_notes: Vec<ReloadNote>,
}

/// One pipeline run's fixed parts, whatever the record source: what the feed stage is given to
/// run into.
struct Runner<'r> {
    args: &'r PipelineReplay,
    config: &'r RunConfig,
    clock: &'r TscClock,
    stage: StrategyStage,
    reloader: Option<ParamsReloader>,
    sink: GatewaySink,
    hlog: &'r mut HlogStream<SessionFile>,
    /// The universe's publish mask (`None`: every instrument).
    mask: Option<Vec<bool>>,
}

impl Runner<'_> {
    /// Runs a level-book venue's kcap records (Binance JSON, Databento DBN) through `feed`.
    fn venue<'k, F>(self, feed: F, reader: &'k KcapReader) -> anyhow::Result<(Ran, GatewaySink)>
    where
        F: RecordFeed,
        VenueSource<Records<'k>, F>: Source<Out = BookUpdate> + IntoReplayed + Send,
    {
        let source = VenueSource::new(feed, reader.records(), self.args.pace, self.clock.clone());
        self.run(source)
    }

    /// Runs MoldUDP64 / ITCH `records` (a kcap's or a pcap's) through `handler`, published per
    /// `--publish`.
    fn itch<'k, I, Err>(
        self,
        handler: FeedHandler,
        records: I,
    ) -> anyhow::Result<(Ran, GatewaySink)>
    where
        I: Iterator<Item = Result<Record<'k>, Err>> + Send,
    {
        let source = CaptureSource::new(handler, records, self.args.pace, self.clock.clone())
            .with_policy(self.args.publish);
        self.run(source)
    }

    /// Runs `source` (masked to the universe) into the stage (whose output goes to the sink),
    /// inline or threaded. In both modes the ops thread streams every finished latency
    /// interval into the session's `latency.hlog` and runs the parameter reloader: nothing of
    /// either happens on a hot thread.
    fn run<Src>(self, source: Src) -> anyhow::Result<(Ran, GatewaySink)>
    where
        Src: Source<Out = BookUpdate> + IntoReplayed + UniverseMask + Send,
    {
        let Self {
            args,
            config,
            clock,
            stage,
            reloader,
            sink,
            hlog,
            mask,
        } = self;
        let source = source.with_mask(mask);
        let progress = Progress::new();
        let mut ops_task = (hlog, reloader);
        let out = std::thread::scope(|s| {
            if args.progress {
                s.spawn(spawn_progress(&progress));
            }
            let ops = Ops::new().progress(&progress).task(&mut ops_task);
            let result = match args.mode {
                RunMode::Inline => run_inline_on(
                    source,
                    stage,
                    sink,
                    &config.pipeline,
                    clock,
                    ops,
                    stage_cores(config),
                ),
                RunMode::Threaded => run_threaded(
                    source,
                    stage,
                    sink,
                    &config.pipeline,
                    stage_cores(config),
                    clock,
                    ops,
                ),
            };
            if result.is_err() {
                // Let the progress thread end.
                progress.set_finished();
            }
            result
        })?;
        let RunOutput {
            source,
            stage,
            sink,
            report,
            latency,
        } = out;
        let reload_notes = ops_task
            .1
            .map(ParamsReloader::into_notes)
            .unwrap_or_default();
        let unpublished = source.unpublished();
        let merged = source.merged();
        Ok((
            Ran {
                unpublished,
                merged,
                handler: source.into_replayed(),
                stage,
                report,
                latency,
                reload_notes,
            },
            sink,
        ))
    }
}

/// Runs the replay, writes the session directory, and returns the feed handler (final books and
/// counters), the summary and the directory.
pub fn run_pipeline_replay(
    args: &PipelineReplay,
) -> anyhow::Result<(ReplayedFeed, Summary, PathBuf)> {
    let config = RunConfig::load(args.config.as_deref())?;
    let mut warnings = prepare_host(&config, args.mode)?;
    let capture = CaptureFile::open(&args.input)
        .with_context(|| format!("opening capture {}", args.input.display()))?;
    let venue =
        venue_feed(&capture).with_context(|| format!("replaying {}", args.input.display()))?;
    let table = match &venue {
        Some(feed) => feed.instruments().clone(),
        None => instrument_table(&capture)
            .with_context(|| format!("replaying {}", args.input.display()))?,
    };
    let setup = strategy_setup(args.strategy_params.as_deref())?;
    let sighup = match &setup.reloader {
        Some(r) => Some(
            r.watcher()
                .register_sighup()
                .context("registering the SIGHUP reload trigger")?,
        ),
        None => None,
    };
    let spec = match &args.symbols {
        Some(list) => Some(UniverseSpec::parse_list("--symbols", list)?),
        None => setup.universe.clone(),
    };
    let universe = Universe::resolve(&table, spec.as_ref())
        .with_context(|| format!("the strategy universe for {}", args.input.display()))?;
    let mask = (!universe.is_identity()).then(|| universe.mask());
    let started = SystemTime::now();
    let clock = TscClock::new();
    let dir = match &args.session_dir {
        Some(d) => d.clone(),
        None => fresh_session_dir(Path::new("sessions"), started, mode_label(args.mode)),
    };
    let session = SessionDir::create(&dir)?;
    // `latency.hlog` is written while the run goes, one interval at a time (the ops thread).
    let mut hlog = session.open_hlog(
        clock.now().nanos(),
        &format!(
            "kestrel replay {} --mode {}",
            args.input.display(),
            mode_label(args.mode)
        ),
    )?;
    // With a gateway: credentials, journal recovery, login, before the market starts.
    let gateway = match &args.gateway {
        Some(g) => Some(gw::prepare(g, &table, &dir, &clock)?),
        None => None,
    };
    let fill_mode = if gateway.is_some() {
        FillMode::External
    } else {
        FillMode::SimulatedImmediateFill
    };
    let stage = StrategyStage::for_universe(&universe, setup.params, fill_mode, clock.clone())
        .context("building the strategy stage")?
        .with_params(setup.receiver);
    let (stage, gateway) = match gateway {
        Some(gw::Prepared {
            stage: mut gstage,
            reports,
            mut rest,
        }) => {
            if let Some(g) = &args.gateway
                && gw::wants_vwap(g)?
            {
                rest.profile_trades = gw::load_profiles(&mut gstage, &capture, table.len())?;
            }
            (stage.with_exec_reports(reports), Some((gstage, rest)))
        }
        None => (stage, None),
    };
    let (stage, sidecar) = match &args.sidecar {
        Some(options) => {
            // Inside the strategy, instruments are universe slots: the edge table is sized to them.
            let (session, link, warning) = sidecar::start(options, universe.len())?;
            warnings.extend(warning);
            (stage.with_sidecar(link), Some(session))
        }
        None => (stage, None),
    };
    let pcap_skipped = AtomicU64::new(0);
    let channels = ChannelMap::by_port();
    let gateway_core = config.cpu.core_for("gateway");
    let stop = AtomicBool::new(false);
    let (ran, gateway_done) = std::thread::scope(|s| {
        // The gateway: inline, the strategy's sink; threaded, a thread of its own fed by a ring.
        let (sink, thread, leftover) = match gateway {
            None => (GatewaySink::None, None, None),
            Some((gstage, rest)) => match args.mode {
                RunMode::Inline => (GatewaySink::Inline(Box::new(gstage)), None, Some(rest)),
                RunMode::Threaded => {
                    // The gateway thread pins itself and builds its own input ring there.
                    let (tx, h) = kestrel_gateway::stage::spawn_gateway_thread(
                        s,
                        gstage,
                        config.pipeline.ring_size,
                        config.pipeline.producer_wait,
                        gateway_core,
                        rest.drain,
                        &stop,
                    )?;
                    (GatewaySink::Ring(tx), Some(h), Some(rest))
                }
            },
        };
        let runner = Runner {
            args,
            config: &config,
            clock: &clock,
            stage,
            reloader: setup.reloader,
            sink,
            hlog: &mut hlog,
            mask,
        };
        let itch_handler = || {
            capture
                .handler(HandlerConfig::default())
                .with_context(|| format!("replaying {}", args.input.display()))
        };
        let ran = match (&capture, venue) {
            (CaptureFile::Kcap(reader), Some(VenueFeed::Binance(feed))) => {
                runner.venue(*feed, reader)
            }
            (CaptureFile::Kcap(reader), Some(VenueFeed::Dbn(feed))) => runner.venue(*feed, reader),
            (CaptureFile::Kcap(reader), None) => runner.itch(itch_handler()?, reader.records()),
            (CaptureFile::Pcap(pcap), _) => {
                let records = PcapSource {
                    records: pcap.records(&channels),
                    skipped: &pcap_skipped,
                };
                runner.itch(itch_handler()?, records)
            }
        };
        let (ran, sink) = match ran {
            Ok((r, k)) => (Ok(r), k),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                (Err(e), GatewaySink::None)
            }
        };
        let done = match (sink, thread, leftover) {
            (GatewaySink::Inline(mut stage), _, Some(rest)) => {
                let settled = stage.drain(rest.drain, true);
                Some((*stage, settled, rest))
            }
            (sink, Some(h), Some(rest)) => {
                // Closing the ring ends the gateway thread after its drain.
                drop(sink);
                let (stage, settled) = h
                    .join()
                    .map_err(|_| anyhow::anyhow!("the gateway thread panicked"))?;
                Some((stage, settled, rest))
            }
            _ => None,
        };
        anyhow::Ok((ran, done))
    })?;
    if let Some(id) = sighup {
        signal_hook::low_level::unregister(id);
    }
    let mut ran = ran?;
    hlog.finish().context("writing latency.hlog")?;
    let gateway_summary = match gateway_done {
        Some((stage, settled, rest)) => {
            ran.stage.drain_exec_reports();
            if !settled {
                warnings.push(
                    "gateway: orders were still open at the end and were cancelled".to_owned(),
                );
            }
            let profile_trades = rest.profile_trades;
            let (mut summary, trading) = gw::finish(
                stage,
                rest.journal,
                settled,
                rest.recovered,
                rest.addr,
                &table,
                &dir,
                gw::Extras::default(),
            )?;
            summary.algo.profile_trades = profile_trades;
            Some((summary, trading))
        }
        None => None,
    };
    ran.handler
        .count_skipped_records(pcap_skipped.load(Ordering::Relaxed));
    if !ran.report.balanced() {
        warnings.push(format!(
            "unbalanced shutdown: published {} consumed {} ops {}",
            ran.report.published, ran.report.consumed, ran.report.ops_seen
        ));
    }
    for t in &ran.report.threads {
        if t.core.is_some() && !t.pinned {
            warnings.push(format!(
                "stage {} could not be pinned to core {:?}",
                t.stage, t.core
            ));
        }
    }
    for note in &ran.reload_notes {
        if let ReloadOutcome::Rejected { field, reason } = &note.outcome {
            warnings.push(format!(
                "strategy parameters rejected (field {}): {reason}; the previous set stays",
                field.as_deref().unwrap_or("-")
            ));
        }
    }
    let mut summary = summary_of(args, &dir, &ran, &universe, table.len(), warnings);
    if let Some((g, trading)) = gateway_summary {
        if let Some(st) = summary.strategy.as_mut() {
            st.fill_mode = GATEWAY_FILL_MODE_LABEL.to_owned();
        }
        summary.gateway = Some(g);
        summary.trading = trading;
    }
    summary.sidecar = sidecar
        .as_ref()
        .map(|s| s.summary(ran.stage.sidecar_stats()));
    let mut table_toml = toml::Table::new();
    table_toml.insert("input".into(), args.input.display().to_string().into());
    table_toml.insert("mode".into(), mode_label(args.mode).into());
    table_toml.insert("pace".into(), args.pace_text.clone().into());
    table_toml.insert(
        "fill_mode".into(),
        if args.gateway.is_some() {
            GATEWAY_FILL_MODE_LABEL
        } else {
            FILL_MODE_LABEL
        }
        .into(),
    );
    if let Some(g) = &args.gateway {
        // The venue and where the login came from; never the credentials themselves.
        table_toml.insert("gateway".into(), g.addr.clone().into());
        let source = g.credentials.as_ref().map_or_else(
            || "environment (KESTREL_OUCH_USERNAME)".to_owned(),
            |f| f.display().to_string(),
        );
        table_toml.insert("credentials_file".into(), source.into());
    }
    table_toml.insert(
        "strategy_params".into(),
        args.strategy_params
            .as_ref()
            .map_or_else(|| "built-in".to_owned(), |p| p.display().to_string())
            .into(),
    );
    session.write_config(&config.resolved_toml(&[("session", table_toml)])?)?;
    session.write_text("strategy.toml", &setup.text)?;
    session.write_params_changes(ran.stage.changes(), &ran.reload_notes)?;
    session.write_percentiles(&ran.latency)?;
    session.write_summary(&summary)?;
    Ok((ran.handler, summary, dir))
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
    if let Some(st) = &summary.strategy {
        println!(
            "strategy fill_mode={} params={} instruments={} feed_instruments={} publish={} unpublished_updates={} merged_updates={} decisions={} buys={} sells={} params_changes={} params_rejected={}",
            st.fill_mode,
            st.params_file.as_deref().unwrap_or("built-in"),
            st.instruments,
            st.feed_instruments,
            st.publish,
            st.unpublished_updates,
            st.merged_updates,
            st.decisions,
            st.buys,
            st.sells,
            st.params_changes,
            st.params_rejected
        );
        println!("intents={} intent_hash={}", st.intents, st.intent_hash);
    }
    if let Some(g) = &summary.gateway {
        gw::print(g);
        super::trading::print_trading(&summary.trading);
    }
    if let Some(sc) = &summary.sidecar {
        sidecar::print_sidecar(sc);
    }
}

fn mode_label(mode: RunMode) -> &'static str {
    match mode {
        RunMode::Inline => "inline",
        RunMode::Threaded => "threaded",
    }
}

/// How replay fills intents, as the summary and config.toml label it.
pub const FILL_MODE_LABEL: &str = "simulated_immediate_fill";
/// The label when fills come from a venue through the gateway.
pub const GATEWAY_FILL_MODE_LABEL: &str = "gateway";

fn summary_of(
    args: &PipelineReplay,
    dir: &Path,
    ran: &Ran,
    universe: &Universe,
    feed_instruments: usize,
    warnings: Vec<String>,
) -> Summary {
    let stats = &ran.handler;
    let hash = ran.stage.update_hash();
    let intents = ran.stage.intents();
    let engine = ran.stage.engine_stats();
    let r = &ran.report;
    let bindings = BINDINGS
        .iter()
        .zip(ran.stage.bindings())
        .filter(|(_, n)| **n > 0)
        .map(|(b, n)| (format!("{b:?}"), *n))
        .collect();
    let params_rejected = ran
        .reload_notes
        .iter()
        .filter(|n| matches!(n.outcome, ReloadOutcome::Rejected { .. }))
        .count() as u64;
    Summary {
        session: dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        input: args.input.display().to_string(),
        mode: args.mode,
        pace: args.pace_text.clone(),
        records: stats.records(),
        events: hash.events,
        elapsed_s: r.elapsed_ns as f64 / 1e9,
        throughput_eps: r.throughput(),
        drops: r.published.saturating_sub(r.consumed),
        anomalies: stats.anomalies(),
        backpressure_waits: r.backpressure_waits,
        backpressure_ns: r.backpressure_ns,
        stages: LatencyTag::ALL
            .into_iter()
            .map(|t| summarize(t.as_str(), ran.latency.total(t)))
            .collect(),
        output_hash: format!("{:016x}", hash.hash),
        book_hash: format!("{:016x}", ran.handler.books_hash()),
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
        gateway: None,
        strategy: Some(StrategySummary {
            fill_mode: FILL_MODE_LABEL.to_owned(),
            params_file: args
                .strategy_params
                .as_ref()
                .map(|p| p.display().to_string()),
            instruments: universe.len(),
            universe: universe.table().iter().map(|i| i.symbol.clone()).collect(),
            feed_instruments,
            unpublished_updates: ran.unpublished,
            publish: args.publish.name().to_owned(),
            merged_updates: ran.merged,
            updates: engine.updates,
            decisions: engine.updates - engine.observed,
            update_hash: format!("{:016x}", hash.hash),
            intents: intents.count,
            intent_hash: format!("{:016x}", intents.hash),
            buys: intents.buys,
            sells: intents.sells,
            bindings,
            params_changes: engine.params_applied,
            params_rejected,
            params_refused_at_apply: engine.params_rejected,
            latency: summarize(
                LatencyTag::Strategy.as_str(),
                ran.latency.total(LatencyTag::Strategy),
            ),
        }),
        trading: super::trading::TradingFields::default(),
        sidecar: None,
    }
}
