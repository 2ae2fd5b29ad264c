//! The simulated exchange of a session, on a thread of its own, journaled; with a restart plan
//! it is made to crash mid-session (as a killed process: no End of Session, its sockets simply
//! closed) and is started again on the same ports from its journal, as a real venue recovering
//! from a failure would. The engine's session reconnects and logs in at its next sequence
//! number; the venue answers with every message it missed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use kestrel_sim::exchange::{
    BoundAddrs, ExchangeReport, ExchangeSetup, Recovered, run_exchange_with,
};
use serde::{Deserialize, Serialize};

/// `[venue_restart]` in the session config: crash the venue `after_ms` after it started and
/// bring it back from its journal `down_ms` later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartPlan {
    /// Milliseconds after the venue came up.
    pub after_ms: u64,
    /// Milliseconds the venue stays down.
    #[serde(default = "default_down")]
    pub down_ms: u64,
}

fn default_down() -> u64 {
    300
}

/// What the venue thread did.
#[derive(Debug)]
pub struct VenueRun {
    /// The last run's report (fills, streams and counters cover the whole day: a restarted
    /// venue rebuilt them from its journal).
    pub report: ExchangeReport,
    /// Crashes it went through.
    pub restarts: u32,
    /// What each restart rebuilt.
    pub recovered: Vec<Recovered>,
    /// Participant fills the venue had when it crashed, per crash (none lost: the restarted
    /// venue's fills start with them).
    pub fills_at_crash: Vec<usize>,
}

/// The venue thread.
#[derive(Debug)]
pub struct VenueThread {
    handle: JoinHandle<anyhow::Result<VenueRun>>,
    stop: Arc<AtomicBool>,
}

impl VenueThread {
    /// Starts the exchange; returns once its sockets are bound.
    pub fn spawn(
        setup: ExchangeSetup,
        plan: Option<RestartPlan>,
    ) -> anyhow::Result<(Self, BoundAddrs)> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = std::sync::mpsc::channel::<BoundAddrs>();
        let handle = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("sim-exchange".into())
                .spawn(move || run(setup, plan, &stop, &tx))
                .context("starting the exchange thread")?
        };
        let Ok(addrs) = rx.recv_timeout(Duration::from_secs(60)) else {
            let e = handle
                .join()
                .map_err(|_| anyhow::anyhow!("the exchange thread panicked"))?;
            e?;
            anyhow::bail!("the exchange did not start");
        };
        Ok((Self { handle, stop }, addrs))
    }

    /// Whether the exchange is done (its last run ended).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Stops it (End of Session to the participants) and waits.
    pub fn stop(self) -> anyhow::Result<VenueRun> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .join()
            .map_err(|_| anyhow::anyhow!("the exchange thread panicked"))?
    }
}

fn run(
    mut setup: ExchangeSetup,
    plan: Option<RestartPlan>,
    stop: &Arc<AtomicBool>,
    tx: &std::sync::mpsc::Sender<BoundAddrs>,
) -> anyhow::Result<VenueRun> {
    let mut restarts = 0u32;
    let mut recovered = Vec::new();
    let mut fills_at_crash = Vec::new();
    loop {
        let crash = AtomicBool::new(false);
        let done = AtomicBool::new(false);
        let mut bound: Option<BoundAddrs> = None;
        let crash_after = plan
            .filter(|_| restarts == 0)
            .map(|p| Duration::from_millis(p.after_ms));
        let report = std::thread::scope(|s| {
            if let Some(after) = crash_after {
                let (crash, done) = (&crash, &done);
                s.spawn(move || {
                    let at = Instant::now() + after;
                    while Instant::now() < at && !done.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    crash.store(true, Ordering::Relaxed);
                });
            }
            let mut on_bound = |a: BoundAddrs| {
                bound = Some(a);
                if let Some(r) = a.recovered {
                    recovered.push(r);
                }
                let _ = tx.send(a);
            };
            let r = run_exchange_with(&setup, stop, &crash, &mut on_bound);
            done.store(true, Ordering::Relaxed);
            r
        })?;
        if !report.crashed || stop.load(Ordering::Relaxed) {
            return Ok(VenueRun {
                report,
                restarts,
                recovered,
                fills_at_crash,
            });
        }
        // Down for a while, then up again on the same ports from the journal.
        restarts += 1;
        fills_at_crash.push(report.fills.len());
        let down = plan.map_or(0, |p| p.down_ms);
        std::thread::sleep(Duration::from_millis(down));
        if let Some(a) = bound {
            setup.ouch = a.ouch;
            setup.config.retrans = Some(a.retrans);
        }
    }
}
