//! `kestrel record`: receives a live MoldUDP64 / ITCH feed (unicast or multicast), re-requests
//! gaps from the retransmission server, and writes what it delivered as a `.kcap` that replays
//! to the same books. Ends at the feed's End of Session, after `--duration`, or on Ctrl-C.

use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use kestrel_core::clock::TscClock;
use kestrel_feeds::live::{Delivery, GapPolicy, ListenAddr, LiveFeed, Recorder};

use super::now_ns;

/// `kestrel record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Where to listen: ADDR:PORT, or a multicast GROUP:PORT (optionally @INTERFACE_ADDR).
    #[arg(long)]
    pub listen: ListenAddr,
    /// The capture to write.
    #[arg(long)]
    pub out: PathBuf,
    /// MoldUDP64 retransmission server to re-request gaps from.
    #[arg(long)]
    pub retrans: Option<SocketAddr>,
    /// Stop after this many seconds (default: at End of Session or Ctrl-C).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Declare a gap lost after this many milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub gap_timeout_ms: u64,
}

impl RecordArgs {
    /// Records until the session ends.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, stop.clone()).context("registering Ctrl-C")?;
        }
        let policy = GapPolicy {
            retrans: self.retrans,
            timeout_ns: self.gap_timeout_ms.saturating_mul(1_000_000),
            ..GapPolicy::default()
        };
        let mut feed = LiveFeed::bind(self.listen, policy, TscClock::new())
            .with_context(|| format!("listening on {}", self.listen.addr))?;
        let file = std::fs::File::create(&self.out)
            .with_context(|| format!("creating {}", self.out.display()))?;
        let mut recorder = Recorder::new(BufWriter::new(file), "live", now_ns())
            .with_context(|| format!("writing {}", self.out.display()))?;
        eprintln!("recording {} -> {}", self.listen.addr, self.out.display());
        let started = Instant::now();
        let limit = self.duration.map(Duration::from_secs_f64);
        let mut failure = None;
        while !feed.ended() && !stop.load(Ordering::Relaxed) {
            if limit.is_some_and(|l| started.elapsed() >= l) {
                break;
            }
            let mut on = |d: Delivery<'_>| {
                if failure.is_none()
                    && let Err(e) = recorder.on_delivery(&d)
                {
                    failure = Some(e);
                }
            };
            if feed.poll(&mut on) == 0 {
                std::hint::spin_loop();
            }
        }
        feed.finish(&mut |d| {
            let _ = recorder.on_delivery(&d);
        });
        if let Some(e) = failure {
            return Err(e).with_context(|| format!("writing {}", self.out.display()));
        }
        let (mut out, rec) = recorder
            .finish()
            .with_context(|| format!("writing {}", self.out.display()))?;
        std::io::Write::flush(&mut out)
            .with_context(|| format!("writing {}", self.out.display()))?;
        let s = feed.stats();
        println!(
            "datagrams={} retransmitted={} requests={} gaps_opened={} gaps_filled={} gaps_lost={} duplicates={}",
            s.datagrams,
            s.retrans_datagrams,
            s.requests_sent,
            s.gaps_opened,
            s.gaps_filled,
            s.gaps_lost,
            s.sequencer.duplicate_packets
        );
        println!(
            "wrote {}: messages={} records={} lost_gaps={}",
            self.out.display(),
            rec.messages,
            rec.records,
            rec.gaps
        );
        Ok(ExitCode::SUCCESS)
    }
}
