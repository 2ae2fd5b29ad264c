//! Session directories: what every `kestrel replay` leaves behind in `sessions/<id>/` (or
//! `--session-dir`), and the readers `kestrel hist` uses.
//!
//! ```text
//! sessions/<id>/
//!   config.toml          the resolved configuration (defaults filled in, CLI choices under [session])
//!   strategy.toml        the strategy parameters the run started with (file or built-in)
//!   params_changes.jsonl every reload published / rejected and every set applied
//!   latency.hlog         HdrHistogram interval log, V2 + deflate, one tag per stage
//!                        (feed, hop, consumer, e2e, backpressure, strategy)
//!   latency.hgrm         end-to-end percentile distribution (HdrHistogram's text format, us)
//!   latency-<stage>.hgrm the same for each stage that recorded samples (e2e always; no
//!                        hop/consumer file inline, no backpressure file when nothing waited)
//!   summary.json         events, throughput, drops, anomalies, percentiles, output hash,
//!                        and under "strategy": intents (count, hash, sides), bindings,
//!                        parameter changes, strategy latency; under "gateway" (with
//!                        --gateway): orders, fills, positions, P&L, TCA, tick-to-trade
//!   gateway.journal      with --gateway: the order journal (`kestrel journal show|verify`)
//!   latency-tick_to_trade.hgrm  with --gateway: receive return to send return
//!
//! With --sidecar, summary.json also has "sidecar": features published/dropped, edges
//! received/used, stale, sidecar down, live IC.
//! ```

pub mod config;
pub mod feed;
pub mod gateway;
pub mod id;
pub mod live;
pub mod ops;
pub mod pnl_svg;
pub mod read;
pub mod run;
pub mod sidecar;
pub mod summary;
pub mod svg;
pub mod trading;
pub mod write;

pub use config::RunConfig;
pub use read::SessionData;
pub use summary::Summary;
