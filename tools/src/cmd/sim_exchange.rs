//! `kestrel sim-exchange`: the simulated exchange in the foreground. A capture is replayed as
//! the background market; participants trade over SoupBinTCP 3.00 / OUCH 4.2; the resulting
//! book goes out as ITCH 5.0 in MoldUDP64 over UDP, with a retransmission server beside it.
//! Ctrl-C (SIGINT) or SIGTERM ends the run; the last line sums it up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use clap::Args;
use kestrel_core::clock::Pace;
use kestrel_sim::exchange::{
    BoundAddrs, ExchangeConfig, ExchangeReport, ExchangeSetup, run_exchange,
};

/// `kestrel sim-exchange`.
#[derive(Debug, Args)]
pub struct SimExchangeArgs {
    /// The background market: a .kcap, a LOBSTER message CSV (its orderbook file beside it) or
    /// a raw NASDAQ ITCH 5.0 file.
    #[arg(long)]
    pub capture: PathBuf,
    /// SoupBinTCP / OUCH listen address, e.g. 127.0.0.1:9000.
    #[arg(long)]
    pub ouch: SocketAddr,
    /// Where the ITCH / MoldUDP64 feed goes: a unicast address or a multicast group.
    #[arg(long = "itch-udp")]
    pub itch_udp: SocketAddr,
    /// Logins: `username:password` lines, mode 0600.
    #[arg(long)]
    pub credentials: PathBuf,
    /// Replay pace: `max`, `recorded` or a speed factor.
    #[arg(long, default_value = "recorded")]
    pub pace: String,
    /// Exchange configuration (TOML; see examples/sim-exchange.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Prints a run's figures; the last line is `fills=<n> executions=<n> feed_messages=<n> ...`.
pub fn print_exchange_report(r: &ExchangeReport) {
    let m = &r.matching;
    println!(
        "background events={} records={} decode_errors={} unknown_orders={} clamped={}",
        r.background.events,
        r.background.records,
        r.background.decode_errors,
        m.background_unknown,
        m.background_clamped
    );
    println!(
        "order_entry connections={} logins={} rejected_not_authorized={} rejected_session={} messages_in={} messages_out={} bad_messages={} disconnects={}",
        r.server.connections,
        r.server.logins,
        r.server.rejected_not_authorized,
        r.server.rejected_session,
        r.server.messages_in,
        r.server.messages_out,
        r.server.bad_messages,
        r.server.disconnects
    );
    println!(
        "feed packets={} dropped_on_purpose={} heartbeats={} retrans_requests={} retrans_messages={} retrans_refused={}",
        r.feed.packets,
        r.feed.dropped,
        r.feed.heartbeats,
        r.retrans.requests,
        r.retrans.messages,
        r.retrans.refused
    );
    println!(
        "fills={} executions={} participant_executions={} queue_model_fills={} self_match_prevented={} feed_messages={} elapsed={:.3}s{}",
        r.fills.len(),
        m.executions,
        m.participant_executions,
        m.queue_model_fills,
        m.self_match_prevented,
        r.feed.messages,
        r.elapsed.as_secs_f64(),
        if r.stopped { " stopped=1" } else { "" }
    );
}

impl SimExchangeArgs {
    /// Runs the exchange until the capture is replayed or a signal stops it.
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let pace: Pace = self.pace.parse()?;
        let config = match &self.config {
            Some(p) => ExchangeConfig::load(p)?,
            None => ExchangeConfig::default(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, stop.clone())
                .context("registering the stop signal")?;
        }
        let setup = ExchangeSetup {
            capture: self.capture,
            ouch: self.ouch,
            itch: self.itch_udp,
            credentials: self.credentials,
            pace,
            config,
        };
        let mut on_bound = |a: BoundAddrs| {
            println!(
                "sim-exchange ouch={} itch_udp={} retrans={} pace={}",
                a.ouch, setup.itch, a.retrans, self.pace
            );
        };
        let report = run_exchange(&setup, &stop, &mut on_bound)?;
        print_exchange_report(&report);
        Ok(ExitCode::SUCCESS)
    }
}
