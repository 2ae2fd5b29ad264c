#!/usr/bin/env bash
# The main job: a Kestrel session on the bundled real captures.
#
#  0. runs the closed loop (`kestrel session`): the simulated exchange replays the AAPL capture on
#     loopback, the engine receives its ITCH/MoldUDP64 feed over UDP, trades through the gateway
#     (OUCH 4.2 over SoupBinTCP 3.00), and reports fills, P&L, TCA, risk events and tick-to-trade
#     into sessions/demo-session/; then the same strategy in a deterministic `kestrel backtest`;
#  then the replay-only steps:
#  1. imports the NASDAQ AAPL LOBSTER sample (data/lobster/) into a .kcap of ITCH 5.0 in MoldUDP64,
#  2. verifies the reconstruction against LOBSTER's own book file, row by row,
#  3. replays the capture through the pipeline (feed -> book -> strategy) at its recorded pace and
#     writes a session directory with latency histograms and a summary,
#  4. prints the session's latency percentiles,
#  5. imports and replays the bundled NASDAQ ITCH 5.0 sample file.
#
# Output goes to target/demo/ and sessions/demo-aapl/ (both ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

cargo build --release --locked -p kestrel
kestrel=target/release/kestrel
out=target/demo
session=sessions/demo-aapl
mkdir -p "$out"
rm -rf "$session" sessions/demo-itch sessions/demo-session sessions/demo-backtest

msgs=data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv
book=data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv

echo "== the closed loop: sim exchange + feed + strategy + gateway on loopback"
"$kestrel" session --config examples/session.toml --session-dir sessions/demo-session
"$kestrel" hist show sessions/demo-session
"$kestrel" hist plot sessions/demo-session --out sessions/demo-session/latency.svg

echo "== the same strategy and OMS in a deterministic backtest (one thread, no sockets)"
"$kestrel" backtest "$msgs" --session-dir sessions/demo-backtest

echo "== import LOBSTER AAPL sample"
"$kestrel" import lobster --messages "$msgs" --orderbook "$book" --symbol AAPL --out "$out/aapl.kcap"
"$kestrel" capture info "$out/aapl.kcap"

echo "== verify the reconstruction against the LOBSTER book file"
"$kestrel" verify lobster --messages "$msgs" --orderbook "$book"

echo "== replay through the pipeline at the recorded pace (about 49 s of market time)"
"$kestrel" replay "$out/aapl.kcap" --mode inline --pace recorded --session-dir "$session"

echo "== latency of the session ($session)"
"$kestrel" hist show "$session"
"$kestrel" hist plot "$session" --out "$session/latency.svg"

echo "== the NASDAQ ITCH 5.0 sample file"
"$kestrel" import itch --in data/itch/ex20101224.TEST_ITCH_50 --out "$out/itch.kcap"
"$kestrel" replay "$out/itch.kcap" --mode inline --pace max --session-dir sessions/demo-itch

echo "== done: session files in $session/"
ls -l "$session"
