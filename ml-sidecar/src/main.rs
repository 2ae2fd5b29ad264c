//! `kestrel-ml`: the ML sidecar's command line (`scripts/ml.sh ARGS` builds and runs it).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use kestrel_ml::dataset::build::{BuildConfig, DeadBand, build, extract};
use kestrel_ml::dataset::source::{kcap_updates, lobster_updates};
use kestrel_ml::dataset::{Split, store};
use kestrel_ml::eval::{EvalSplit, predict_rows, render, report_of, write_predictions};
use kestrel_ml::model::{Hyper, ModelKind};
use kestrel_ml::runtime::{Model, device, device_name};
use kestrel_ml::serve::{ServeConfig, ServeEnd, serve};
use kestrel_ml::train::{TrainConfig, train};

/// Kestrel ML sidecar: datasets, training, evaluation, serving edges to the core.
#[derive(Debug, Parser)]
#[command(name = "kestrel-ml", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build features (the core's feature code) and labels from a capture or LOBSTER files.
    Dataset(DatasetArgs),
    /// Train a model on a dataset.
    Train(TrainArgs),
    /// Evaluate a model on held-out time against naive baselines.
    Eval(EvalArgs),
    /// Serve edges to a running core through its shared-memory segment.
    Serve(ServeArgs),
    /// Measure inference throughput and feature-publish-to-edge latency on this machine.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
struct DatasetArgs {
    /// A `.kcap` capture (replayed as `kestrel replay` does).
    input: Option<PathBuf>,
    /// LOBSTER message file (`.csv` or `.csv.gz`), with --orderbook.
    #[arg(long, requires = "orderbook", conflicts_with = "input")]
    messages: Option<PathBuf>,
    /// LOBSTER order-book file (`.csv` or `.csv.gz`), with --messages.
    #[arg(long, requires = "messages")]
    orderbook: Option<PathBuf>,
    /// Symbol for LOBSTER files (default: the file name's first field).
    #[arg(long)]
    symbol: Option<String>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Label horizon in usable updates of the instrument.
    #[arg(long, default_value_t = 50)]
    horizon: usize,
    /// Label dead band in bps, or `auto` (a third of the training moves flat).
    #[arg(long, default_value = "auto")]
    dead_band_bps: String,
    /// Fraction of the samples (in time) for training.
    #[arg(long, default_value_t = 0.6)]
    train_fraction: f64,
    /// Fraction for validation (the rest is the test part).
    #[arg(long, default_value_t = 0.2)]
    valid_fraction: f64,
}

#[derive(Debug, Args)]
struct TrainArgs {
    /// Dataset directory.
    dataset: PathBuf,
    /// Model.
    #[arg(long, value_enum)]
    model: ModelKind,
    /// Output directory (model.json and weights.safetensors).
    #[arg(long)]
    out: PathBuf,
    /// Feature vectors per window.
    #[arg(long, default_value_t = 50)]
    window: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Wall-time bound in seconds.
    #[arg(long)]
    max_seconds: Option<f64>,
    /// Step bound.
    #[arg(long)]
    max_steps: Option<u64>,
    /// Passes over the training windows.
    #[arg(long, default_value_t = 20)]
    epochs: usize,
    /// Validation checks without improvement before stopping.
    #[arg(long, default_value_t = 5)]
    patience: usize,
    /// Steps between validation checks.
    #[arg(long, default_value_t = 200)]
    eval_every: u64,
    /// Most validation windows per check.
    #[arg(long, default_value_t = 20_000)]
    valid_limit: usize,
    /// Batch size.
    #[arg(long)]
    batch: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// LSTM hidden size.
    #[arg(long)]
    hidden: Option<i64>,
    /// Dropout.
    #[arg(long)]
    dropout: Option<f64>,
    /// Torch threads.
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// Device: auto (CUDA when present), cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: String,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// Model directory.
    model: PathBuf,
    /// Dataset directory.
    dataset: PathBuf,
    /// Which rows: the test part (held-out time), the validation part, or all labelled rows
    /// (a dataset the model has not seen).
    #[arg(long, value_enum, default_value = "test")]
    split: EvalSplit,
    /// Write one row per scored window here.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Write the figures here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Windows per inference batch.
    #[arg(long, default_value_t = 1024)]
    batch: usize,
    /// Torch threads.
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// Device.
    #[arg(long, default_value = "auto")]
    device: String,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Model directory.
    model: PathBuf,
    /// Segment name (a file under /dev/shm) or path, as given to `kestrel replay --sidecar`.
    #[arg(long)]
    shm: String,
    /// Most windows per inference batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Seconds to wait for the core to create the segment.
    #[arg(long, default_value_t = 30.0)]
    wait_secs: f64,
    /// Microseconds to sleep when the ring is empty (0: spin).
    #[arg(long, default_value_t = 50)]
    idle_us: u64,
    /// Stop after this many seconds.
    #[arg(long)]
    max_seconds: Option<f64>,
    /// Torch threads.
    #[arg(long, default_value_t = 1)]
    threads: i32,
    /// Device.
    #[arg(long, default_value = "auto")]
    device: String,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Model directory.
    model: PathBuf,
    /// Batch sizes for the throughput run.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128,512")]
    batches: Vec<usize>,
    /// Seconds per batch size.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Publish-to-edge round trips (0: skip).
    #[arg(long, default_value_t = 2000)]
    round_trips: u64,
    /// Torch threads (throughput run; the serve child uses one).
    #[arg(long, default_value_t = 2)]
    threads: i32,
    /// Device.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn dataset_cmd(a: DatasetArgs) -> anyhow::Result<()> {
    let dead_band = match a.dead_band_bps.as_str() {
        "auto" => DeadBand::Auto,
        x => DeadBand::Bps(
            x.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .with_context(|| {
                    format!("--dead-band-bps: `{x}` is not `auto` or a number >= 0")
                })?,
        ),
    };
    let (updates, sources) = match (&a.input, &a.messages, &a.orderbook) {
        (Some(p), None, None) => {
            if p.extension().is_none_or(|e| e != "kcap") {
                bail!(
                    "{}: expected a .kcap capture (or --messages/--orderbook)",
                    p.display()
                );
            }
            (kcap_updates(p)?, vec![p.display().to_string()])
        }
        (None, Some(m), Some(o)) => {
            let symbol = a.symbol.clone().unwrap_or_else(|| {
                m.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.split('_').next())
                    .unwrap_or("X")
                    .to_owned()
            });
            (
                lobster_updates(m, o, &symbol, &a.out)?,
                vec![m.display().to_string(), o.display().to_string()],
            )
        }
        _ => bail!("give a .kcap capture, or --messages M.csv --orderbook O.csv"),
    };
    let instruments: Vec<String> = updates.table.iter().map(|i| i.symbol.clone()).collect();
    let x = extract(&updates.updates, &updates.table);
    let cfg = BuildConfig {
        horizon: a.horizon,
        dead_band,
        train_fraction: a.train_fraction,
        valid_fraction: a.valid_fraction,
    };
    let n_updates = updates.updates.len() as u64;
    let d = build(x, &cfg, instruments, sources, n_updates, updates.anomalies)?;
    store::save(&d, &a.out)?;
    let m = &d.meta;
    println!(
        "wrote {}: updates={} samples={} features={} horizon={} dead_band_bps={:.4} ({}) move_scale_bps={:.4} embargoed={} unlabelled={} anomalies={}",
        a.out.display(),
        m.updates,
        m.samples,
        m.schema.len(),
        m.horizon,
        m.dead_band_bps,
        m.dead_band_rule,
        m.move_scale_bps,
        m.embargoed,
        m.unlabelled,
        m.anomalies
    );
    for s in [Split::Train, Split::Valid, Split::Test] {
        let c = m.class_counts.get(&s).copied().unwrap_or_default();
        println!(
            "{:<5} down={} flat={} up={}",
            format!("{s:?}").to_lowercase(),
            c[0],
            c[1],
            c[2]
        );
    }
    Ok(())
}

fn train_cmd(a: TrainArgs) -> anyhow::Result<()> {
    let d = store::load(&a.dataset)?;
    let dev = device(&a.device)?;
    let mut hyper = Hyper::for_kind(a.model);
    if let Some(b) = a.batch {
        hyper.batch = b;
    }
    if let Some(lr) = a.lr {
        hyper.learning_rate = lr;
    }
    if let Some(h) = a.hidden {
        hyper.hidden = h;
    }
    if let Some(p) = a.dropout {
        hyper.dropout = p;
    }
    let cfg = TrainConfig {
        kind: a.model,
        window: a.window,
        seed: a.seed,
        max_seconds: a.max_seconds,
        max_steps: a.max_steps,
        epochs: a.epochs,
        patience: a.patience,
        eval_every: a.eval_every,
        valid_limit: a.valid_limit,
        threads: a.threads,
        device: dev,
        hyper,
    };
    eprintln!(
        "training {} on {} ({}, {} threads, seed {})",
        a.model.name(),
        a.dataset.display(),
        device_name(dev),
        a.threads,
        a.seed
    );
    let model = train(&d, &a.dataset, &cfg)?;
    model.save(&a.out)?;
    let t = &model.spec.training;
    println!(
        "wrote {}: model={} id={:08x} steps={} epochs={:.2} seconds={:.1} stopped=\"{}\" best_step={} valid_loss={:.4} valid_accuracy={:.4}",
        a.out.display(),
        a.model.name(),
        model.spec.model_id,
        t.steps,
        t.epochs,
        t.seconds,
        t.stopped,
        t.best_step,
        t.valid_loss,
        t.valid_accuracy
    );
    Ok(())
}

fn eval_cmd(a: EvalArgs) -> anyhow::Result<ExitCode> {
    tch::set_num_threads(a.threads);
    let dev = device(&a.device)?;
    let model = Model::load(&a.model, dev)?;
    let d = store::load(&a.dataset)?;
    if d.meta.schema != model.spec.schema {
        bail!(
            "{} was built with another feature schema than the model {}",
            a.dataset.display(),
            a.model.display()
        );
    }
    let rows = predict_rows(&model, &d, a.split, a.batch);
    if rows.is_empty() {
        bail!("no complete, labelled windows in the {:?} split", a.split);
    }
    let report = report_of(
        &rows,
        model.spec.kind.name(),
        a.split,
        &a.dataset.display().to_string(),
        &a.model.display().to_string(),
    );
    if let Some(p) = &a.predictions {
        write_predictions(&rows, p)?;
    }
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", p.display()))?;
    }
    print!("{}", render(&report));
    Ok(ExitCode::SUCCESS)
}

fn serve_cmd(a: ServeArgs) -> anyhow::Result<ExitCode> {
    tch::set_num_threads(a.threads);
    let dev = device(&a.device)?;
    let model = Model::load(&a.model, dev)?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop)).context("registering signals")?;
    }
    let cfg = ServeConfig {
        shm: a.shm,
        max_batch: a.batch,
        wait: Duration::from_secs_f64(a.wait_secs.max(0.0)),
        idle: Duration::from_micros(a.idle_us),
        max_seconds: a.max_seconds,
        heartbeat_every: Duration::from_millis(10),
    };
    let (s, end) = serve(&model, &cfg, &stop)?;
    let mean_us = if s.batches > 0 {
        s.inference_ns as f64 / s.batches as f64 / 1e3
    } else {
        0.0
    };
    println!(
        "served: end={end:?} consumed={} refused={} edges={} batches={} mean_batch_us={mean_us:.1} core_dropped={}",
        s.consumed, s.refused, s.edges, s.batches, s.core_dropped
    );
    Ok(match end {
        ServeEnd::CoreClosed | ServeEnd::TimeLimit | ServeEnd::Signal => ExitCode::SUCCESS,
        ServeEnd::CoreGone => ExitCode::from(3),
    })
}

fn bench_cmd(a: BenchArgs) -> anyhow::Result<()> {
    tch::set_num_threads(a.threads);
    let dev = device(&a.device)?;
    let model = Model::load(&a.model, dev)?;
    let tp = kestrel_ml::bench::throughput(&model, &a.batches, a.seconds);
    println!(
        "{} on {} ({} threads): window {} x {} inputs",
        model.spec.kind.name(),
        device_name(dev),
        a.threads,
        model.spec.window,
        model.spec.inputs.len()
    );
    for t in &tp {
        println!(
            "throughput batch={:<4} windows_per_s={:>10.0} batch_us={:>10.1}",
            t.batch, t.windows_per_s, t.batch_us
        );
    }
    let rt = if a.round_trips > 0 {
        let r = kestrel_ml::bench::round_trip(&model, &a.model, a.round_trips, 1)?;
        println!(
            "publish_to_edge samples={} timeouts={} p50_us={:.1} p99_us={:.1} p999_us={:.1} max_us={:.1}",
            r.samples,
            r.timeouts,
            r.p50_ns as f64 / 1e3,
            r.p99_ns as f64 / 1e3,
            r.p999_ns as f64 / 1e3,
            r.max_ns as f64 / 1e3
        );
        Some(r)
    } else {
        None
    };
    if let Some(p) = &a.json {
        let v = serde_json::json!({
            "model": model.spec.kind.name(),
            "device": device_name(dev),
            "threads": a.threads,
            "throughput": tp,
            "publish_to_edge": rt,
        });
        std::fs::write(p, serde_json::to_string_pretty(&v)? + "\n")
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Dataset(a) => dataset_cmd(a).map(|()| ExitCode::SUCCESS),
        Command::Train(a) => train_cmd(a).map(|()| ExitCode::SUCCESS),
        Command::Eval(a) => eval_cmd(a),
        Command::Serve(a) => serve_cmd(a),
        Command::Bench(a) => bench_cmd(a).map(|()| ExitCode::SUCCESS),
    };
    match r {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kestrel-ml: error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
