//! `kestrel research signals`: information coefficient and hit rate of every signal and alpha
//! against future mid moves, over the book updates the strategy would see in a replay: a `.kcap`
//! capture through the feed stage (MoldUDP64 / ITCH) or its venue's feed (Binance JSON,
//! Databento DBN), or a LOBSTER sample imported to ITCH first and then read the same way (one
//! LOBSTER reader: `kestrel_feeds::lobster::lobster_updates`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kestrel_core::clock::{Pace, Stamps, TscClock};
use kestrel_core::pipeline::{Source, SourceStatus};
use kestrel_core::{BookUpdate, InstrumentTable};
use kestrel_feeds::feed_stage::PublishPolicy;
use kestrel_feeds::handler::HandlerStats;
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::lobster_updates;
use kestrel_feeds::updates::capture_updates;
use kestrel_feeds::venue_source::{RecordFeed, VenueSource};
use kestrel_strategy::alpha::AlphaConfig;
use kestrel_strategy::research::{Horizon, SignalStudy, StudyReport};
use kestrel_strategy::signals::SignalConfig;

use crate::session::feed::{VenueFeed, kcap_venue_feed};

/// `kestrel research ...`
#[derive(Debug, Args)]
pub struct ResearchArgs {
    #[command(subcommand)]
    command: ResearchCommand,
}

#[derive(Debug, Subcommand)]
enum ResearchCommand {
    /// IC and hit rate of each signal and alpha against the future mid move.
    Signals(SignalsArgs),
}

/// `kestrel research signals F [--horizons ...] [--time-horizons ...]`
#[derive(Debug, Args)]
struct SignalsArgs {
    /// Input: a `.kcap` capture (replayed through the feed stage, or for a Binance or DBN
    /// capture through its venue's feed, as `replay` does), or a LOBSTER
    /// `*_orderbook_N.csv[.gz]` (its `*_message_N.csv[.gz]` beside it), imported to ITCH and
    /// replayed the same way.
    input: PathBuf,
    /// When the feed publishes a book update, with the same default as `replay`: `packet` (per
    /// MoldUDP64 packet, one update per instrument whose book changed, after the packet's last
    /// message; trade prints and status changes one by one, as they happen), so that signals
    /// and alphas are scored on the updates `replay` gives the strategy and a horizon of N
    /// updates is N of the strategy's updates. `every_event` also scores every intermediate
    /// book state inside a packet, states no live reader could act on. (Binance and DBN
    /// captures have no packets: every complete book update is scored, as `replay` publishes.)
    #[arg(long, value_name = "POLICY", default_value = "packet")]
    publish: PublishPolicy,
    /// Horizons in updates of the same instrument.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000")]
    horizons: Vec<usize>,
    /// Horizons in exchange time (`500us`, `1ms`, `2s`, ...).
    #[arg(long, value_delimiter = ',', default_value = "1ms,10ms,100ms,1s")]
    time_horizons: Vec<String>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `kestrel research`.
pub fn run(args: ResearchArgs) -> anyhow::Result<()> {
    match args.command {
        ResearchCommand::Signals(a) => signals(a),
    }
}

fn signals(args: SignalsArgs) -> anyhow::Result<()> {
    let mut horizons: Vec<Horizon> = args.horizons.iter().map(|&h| Horizon::Events(h)).collect();
    for t in &args.time_horizons {
        horizons.push(Horizon::Nanos(parse_duration_ns(t)?));
    }
    let (updates, table) = load_updates(&args.input, args.publish)?;
    let (signal_cfg, alpha_cfg) = (SignalConfig::default(), AlphaConfig::default());
    let mut study = SignalStudy::for_table(&table, &signal_cfg, &alpha_cfg);
    for u in &updates {
        study.push(u);
    }
    let report = study.report(&horizons);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_table(&report, &args.input));
    }
    Ok(())
}

/// Reads the input into the book updates the feed publishes (per `policy`), with the feed's
/// instrument table.
fn load_updates(
    path: &Path,
    policy: PublishPolicy,
) -> anyhow::Result<(Vec<BookUpdate>, InstrumentTable)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".kcap") {
        let reader = KcapReader::open(path)
            .with_context(|| format!("opening capture {}", path.display()))?;
        if let Some(read) = venue_updates(path, &reader)? {
            return Ok(read);
        }
        let read = capture_updates(&reader, policy)
            .with_context(|| format!("replaying {}", path.display()))?;
        warn_anomalies(path, &read.stats);
        return Ok((read.updates, read.instruments));
    }
    if name.contains("orderbook") && (name.ends_with(".csv") || name.ends_with(".csv.gz")) {
        let msg_path = path.with_file_name(name.replacen("orderbook", "message", 1));
        let book = super::read_text(path)?;
        let msgs = super::read_text(&msg_path)?;
        let read = lobster_updates(&msgs, &book, &lobster_symbol(name), policy)
            .with_context(|| format!("reading {} through the feed", path.display()))?;
        let report = &read.report;
        let errors = report.message_errors.iter().chain(&report.book_errors);
        for e in errors.clone().take(10) {
            eprintln!("skipped: {e}");
        }
        let skipped = errors.count();
        if skipped > 10 {
            eprintln!("skipped {} more rows", skipped - 10);
        }
        if report.reanchored > 0 {
            eprintln!(
                "{}: {} book rows re-anchored the book after an unreadable row",
                path.display(),
                report.reanchored
            );
        }
        warn_anomalies(path, &read.stats);
        return Ok((read.updates, read.instruments));
    }
    bail!(
        "{}: expected a .kcap capture or a LOBSTER *_orderbook_N.csv[.gz]",
        path.display()
    )
}

/// The symbol of a LOBSTER file (`AAPL_2012-06-21_..._orderbook_10.csv`: `AAPL`), or `LOBSTER`
/// when the name does not start with one that ITCH can carry.
fn lobster_symbol(file_name: &str) -> String {
    let symbol = file_name.split('_').next().unwrap_or_default();
    if (1..=8).contains(&symbol.len()) && symbol.bytes().all(|b| b.is_ascii_graphic()) {
        symbol.to_owned()
    } else {
        "LOBSTER".to_owned()
    }
}

/// A level-book venue's capture (Binance JSON, Databento DBN) as the book updates its feed
/// publishes in a replay (every complete book update, and trades), with its instrument table;
/// `None` for a MoldUDP64 / ITCH capture.
fn venue_updates(
    path: &Path,
    reader: &KcapReader,
) -> anyhow::Result<Option<(Vec<BookUpdate>, InstrumentTable)>> {
    let feed = kcap_venue_feed(reader).with_context(|| format!("reading {}", path.display()))?;
    let (updates, table, anomalies) = match feed {
        None => return Ok(None),
        Some(VenueFeed::Binance(feed)) => {
            let (updates, feed) = venue_replay(*feed, reader);
            (
                updates,
                feed.instruments().clone(),
                feed.stats().anomalies(),
            )
        }
        Some(VenueFeed::Dbn(feed)) => {
            let (updates, feed) = venue_replay(*feed, reader);
            (
                updates,
                feed.instruments().clone(),
                feed.stats().anomalies(),
            )
        }
    };
    warn_feed_anomalies(path, anomalies);
    Ok(Some((updates, table)))
}

/// Replays `reader` through `feed` as fast as it goes; the updates (latency stamps cleared, as
/// for an ITCH capture) and the feed after it.
fn venue_replay<F: RecordFeed>(feed: F, reader: &KcapReader) -> (Vec<BookUpdate>, F) {
    let mut source = VenueSource::new(feed, reader.records(), Pace::Max, TscClock::new());
    let mut updates = Vec::new();
    while source.poll(&mut updates) != SourceStatus::Done {}
    for u in &mut updates {
        u.stamps = Stamps::default();
    }
    (updates, source.into_feed())
}

fn warn_feed_anomalies(path: &Path, anomalies: u64) {
    if anomalies > 0 {
        eprintln!(
            "{}: {anomalies} feed anomalies while replaying (see `kestrel replay`)",
            path.display()
        );
    }
}

fn warn_anomalies(path: &Path, stats: &HandlerStats) {
    warn_feed_anomalies(path, stats.anomalies());
}

/// `123`, `123ns`, `5us`, `1ms`, `2s` to nanoseconds.
fn parse_duration_ns(s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .with_context(|| format!("bad time horizon {s:?}"))?;
    let scale = match unit {
        "" | "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        _ => bail!("bad time unit in {s:?} (ns, us, ms, s)"),
    };
    n.checked_mul(scale)
        .with_context(|| format!("time horizon {s:?} too large"))
}

fn horizon_label(h: Horizon) -> String {
    match h {
        Horizon::Events(n) => format!("{n} ev"),
        Horizon::Nanos(ns) if ns % 1_000_000_000 == 0 => format!("{}s", ns / 1_000_000_000),
        Horizon::Nanos(ns) if ns % 1_000_000 == 0 => format!("{}ms", ns / 1_000_000),
        Horizon::Nanos(ns) if ns % 1_000 == 0 => format!("{}us", ns / 1_000),
        Horizon::Nanos(ns) => format!("{ns}ns"),
    }
}

fn opt(x: Option<f64>, width: usize) -> String {
    match x {
        Some(v) => format!("{v:>width$.3}"),
        None => format!("{:>width$}", "-"),
    }
}

/// The report as a text table.
fn render_table(r: &StudyReport, input: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} updates, {} with a usable book",
        input.display(),
        r.updates,
        r.usable
    );
    let _ = writeln!(
        out,
        "IC = Spearman rank correlation with the future mid move (bps); hit = sign agreement where \
         both are non-zero (hit n pairs); n = pairs. Pearson in --json."
    );
    let Some(first) = r.predictors.first() else {
        return out;
    };
    let _ = write!(out, "{:<24}", "predictor");
    for h in &first.horizons {
        let _ = write!(out, " | {:^26}", horizon_label(h.horizon));
    }
    let _ = writeln!(out);
    let _ = write!(out, "{:<24}", "");
    for h in &first.horizons {
        let _ = write!(out, " | {:>7} {:>6} {:>5} {:>5}", "IC", "hit", "hitn", "n");
        let _ = h;
    }
    let _ = writeln!(out);
    for p in &r.predictors {
        let _ = write!(out, "{:<24}", p.name);
        for h in &p.horizons {
            let _ = write!(
                out,
                " | {} {} {:>5} {:>5}",
                opt(h.spearman, 7),
                opt(h.hit_rate, 6),
                h.hit_n,
                h.n
            );
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn lobster_csv_input_gives_a_full_report() -> anyhow::Result<()> {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
        ));
        // Through the feed, one update per MoldUDP64 packet: the 999 events, the initial book,
        // and 4 prints published before the levels their execution uncovered were learned (the
        // reader this replaced gave 999, one per row).
        let (updates, table) = load_updates(path, PublishPolicy::Packet)?;
        assert_eq!(updates.len(), 1_004);
        assert_eq!(table.len(), 1);
        let mut study =
            SignalStudy::for_table(&table, &SignalConfig::default(), &AlphaConfig::default());
        for u in &updates {
            study.push(u);
        }
        let report = study.report(&[Horizon::Events(10), Horizon::Nanos(1_000_000_000)]);
        assert_eq!((report.updates, report.usable), (1_004, 1_004));
        let text = render_table(&report, path);
        assert!(text.contains("depth_imbalance"));
        assert!(text.contains("10 ev") && text.contains("1s"));
        let pressure = report
            .predictors
            .iter()
            .find(|p| p.name == "book_pressure")
            .map(|p| p.horizons[0].n);
        // Every usable update but the last 10 has a move 10 updates later.
        assert_eq!(pressure, Some(994));
        assert!(load_updates(Path::new("x.csv"), PublishPolicy::Packet).is_err());
        Ok(())
    }

    /// The arguments `kestrel ARGS...` gives `research signals`, through the real parser.
    fn parsed(args: &[&str]) -> SignalsArgs {
        let cli = crate::Cli::try_parse_from(["kestrel"].iter().chain(args)).expect("parses");
        match cli.command {
            crate::Command::Research(ResearchArgs {
                command: ResearchCommand::Signals(a),
            }) => a,
            other => panic!("not research signals: {other:?}"),
        }
    }

    #[test]
    fn publish_defaults_to_packet_as_in_replay() {
        let default = parsed(&["research", "signals", "x.kcap"]).publish;
        assert_eq!(default, PublishPolicy::Packet);
        assert_eq!(default, PublishPolicy::default());
        let replay = crate::Cli::try_parse_from(["kestrel", "replay", "x.kcap"]).expect("parses");
        match replay.command {
            crate::Command::Replay(r) => assert_eq!(r.publish, default),
            other => panic!("not replay: {other:?}"),
        }
        let every = parsed(&["research", "signals", "x.kcap", "--publish", "every_event"]);
        assert_eq!(every.publish, PublishPolicy::EveryEvent);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("1ms").ok(), Some(1_000_000));
        assert_eq!(parse_duration_ns("250us").ok(), Some(250_000));
        assert_eq!(parse_duration_ns("2s").ok(), Some(2_000_000_000));
        assert_eq!(parse_duration_ns("7").ok(), Some(7));
        assert!(parse_duration_ns("1h").is_err());
        assert!(parse_duration_ns("ms").is_err());
    }
}
