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
use kestrel_feeds::live::ListenAddr;
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
    /// Where the ITCH / MoldUDP64 feed goes: a unicast address, or a multicast group
    /// `GROUP:PORT[@IFACE_ADDR]` (`@127.0.0.1` keeps it on loopback).
    #[arg(long = "itch-udp")]
    pub itch_udp: ListenAddr,
    /// Logins: `username:password` lines, mode 0600.
    #[arg(long)]
    pub credentials: PathBuf,
    /// Replay pace: `max`, `recorded` or a speed factor.
    #[arg(long, default_value = "recorded")]
    pub pace: String,
    /// Exchange configuration (TOML; the keys of `[exchange]` in examples/session.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The venue journal: written as the venue runs; if it exists, the venue replays it first
    /// and carries on where it stopped (after a crash or `kill -9`): open orders, every
    /// participant's sequenced stream, the market-data sequence.
    #[arg(long)]
    pub journal: Option<PathBuf>,
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
        let mut config = match &self.config {
            Some(p) => ExchangeConfig::load(p)?,
            None => ExchangeConfig::default(),
        };
        if self.itch_udp.is_multicast() && !self.itch_udp.interface.is_unspecified() {
            config.multicast_interface = Some(self.itch_udp.interface);
        }
        if let Some(j) = &self.journal {
            config.journal = Some(j.clone());
        }
        let stop = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, stop.clone())
                .context("registering the stop signal")?;
        }
        let setup = ExchangeSetup {
            capture: self.capture,
            ouch: self.ouch,
            itch: self.itch_udp.addr,
            credentials: self.credentials,
            pace,
            config,
        };
        let mut on_bound = |a: BoundAddrs| {
            if let Some(r) = &a.recovered {
                println!(
                    "journal recovered records={} messages={} torn_bytes={} stream_messages={} feed_messages={} resumed_at_ns={}",
                    r.records,
                    r.messages,
                    r.torn_bytes,
                    r.stream_messages,
                    r.feed_messages,
                    r.resumed_at.nanos()
                );
            }
            println!(
                "sim-exchange ouch={} itch_udp={} retrans={} pace={}",
                a.ouch, setup.itch, a.retrans, self.pace
            );
            // The address lines are read by scripts and tests as they come.
            let _ = std::io::Write::flush(&mut std::io::stdout());
        };
        let report = run_exchange(&setup, &stop, &mut on_bound)?;
        print_exchange_report(&report);
        Ok(ExitCode::SUCCESS)
    }
}
