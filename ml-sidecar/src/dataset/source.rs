//! Book updates for a dataset, produced exactly as a `kestrel replay` produces them: a `.kcap`
//! through the feed handler as the pipeline's capture source; a LOBSTER CSV pair (plain or
//! `.gz`) first imported into a capture by the same importer as `kestrel import lobster`.

use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::{Context, bail};
use flate2::read::MultiGzDecoder;
use kestrel_core::clock::{Pace, TscClock};
use kestrel_core::pipeline::{Source, SourceStatus};
use kestrel_core::{BookUpdate, InstrumentTable, Timestamp};
use kestrel_feeds::feed_stage::CaptureSource;
use kestrel_feeds::handler::{FeedHandler, HandlerConfig, header_instruments};
use kestrel_feeds::kcap::KcapReader;
use kestrel_feeds::lobster::{parse_messages, parse_orderbook, plan_import, write_lobster_capture};

/// Updates and the instrument table they index.
#[derive(Debug)]
pub struct Updates {
    /// Every book update, in publish order.
    pub updates: Vec<BookUpdate>,
    /// The capture's instruments.
    pub table: InstrumentTable,
    /// Feed anomalies met while replaying (reported, not fatal).
    pub anomalies: u64,
}

/// Reads a text file, gunzipping it when its name ends in `.gz`.
pub fn read_text_maybe_gz(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "gz") {
        MultiGzDecoder::new(file)
            .read_to_string(&mut text)
            .with_context(|| format!("decompressing {}", path.display()))?;
    } else {
        std::io::BufReader::new(file)
            .read_to_string(&mut text)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(text)
}

/// A `.kcap` capture's updates.
pub fn kcap_updates(path: &Path) -> anyhow::Result<Updates> {
    let reader =
        KcapReader::open(path).with_context(|| format!("opening capture {}", path.display()))?;
    let table = header_instruments(reader.header())
        .with_context(|| format!("{}: instrument table", path.display()))?;
    let handler = FeedHandler::for_capture(HandlerConfig::default(), reader.header())
        .with_context(|| format!("replaying {}", path.display()))?;
    let mut source = CaptureSource::new(handler, reader.records(), Pace::Max, TscClock::new());
    let mut updates = Vec::new();
    loop {
        match source.poll(&mut updates) {
            SourceStatus::Done => break,
            SourceStatus::Busy | SourceStatus::Idle => {}
        }
    }
    let anomalies = source.stats().anomalies();
    // A capture without instruments in its header learns them while replaying.
    let table = if table.is_empty() {
        source.handler().instruments().clone()
    } else {
        table
    };
    Ok(Updates {
        updates,
        table,
        anomalies,
    })
}

/// A LOBSTER message/order-book pair's updates: imported into a temporary capture under
/// `scratch` (removed afterwards), then replayed like any capture.
pub fn lobster_updates(
    messages: &Path,
    orderbook: &Path,
    symbol: &str,
    scratch: &Path,
) -> anyhow::Result<Updates> {
    let msgs = read_text_maybe_gz(messages)?;
    let book = read_text_maybe_gz(orderbook)?;
    let plan = plan_import(parse_messages(&msgs), parse_orderbook(&book));
    drop((msgs, book));
    if plan.events.is_empty() {
        bail!("{}: no message rows", messages.display());
    }
    if plan.depth == 0 {
        bail!("{}: no well-formed book rows", orderbook.display());
    }
    let r = &plan.report;
    if !r.message_errors.is_empty() || !r.book_errors.is_empty() {
        eprintln!(
            "kestrel-ml: skipped {} bad message rows and {} bad book rows (first: {})",
            r.message_errors.len(),
            r.book_errors.len(),
            r.message_errors
                .first()
                .map(ToString::to_string)
                .or_else(|| r.book_errors.first().map(ToString::to_string))
                .unwrap_or_default()
        );
    }
    std::fs::create_dir_all(scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let kcap = scratch.join(format!(".import-{}.kcap", std::process::id()));
    let write = || -> anyhow::Result<()> {
        let file =
            std::fs::File::create(&kcap).with_context(|| format!("creating {}", kcap.display()))?;
        let mut out = write_lobster_capture(&plan, symbol, Timestamp::ZERO, BufWriter::new(file))
            .with_context(|| format!("writing {}", kcap.display()))?;
        out.flush()
            .with_context(|| format!("writing {}", kcap.display()))?;
        Ok(())
    };
    let result = write().and_then(|()| kcap_updates(&kcap));
    let _ = std::fs::remove_file(&kcap);
    result
}
