#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders with AFL++ (cargo-afl, stable Rust). See fuzz/README.md.
#
#   scripts/fuzz.sh seed                  # rewrite fuzz/corpus/ from the real files in data/
#   scripts/fuzz.sh build                 # build the instrumented targets (fuzz/target/)
#   scripts/fuzz.sh run TARGET [SECONDS]  # one campaign (default 600 s) from fuzz/corpus/TARGET
#   scripts/fuzz.sh all [SECONDS]         # every target, one after the other
#   scripts/fuzz.sh keep TARGET           # minimise the campaign's queue into fuzz/corpus/TARGET
#                                         # and copy its crashes into fuzz/crashes/TARGET
# Targets: itch moldudp64 kcap pcap lobster binance_json dbn dbn_records. Findings land in fuzz/out/TARGET/ (not committed);
# the summary line of each campaign (execs, paths, coverage, crashes, hangs) is printed at the end.
# Requires `cargo install cargo-afl` once (it builds AFL++ for the installed rustc).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS="itch moldudp64 kcap pcap lobster binance_json dbn dbn_records"
FUZZ_BIN=fuzz/target/release

need_afl() {
  if ! cargo afl --version >/dev/null 2>&1; then
    echo "cargo-afl is not installed: cargo install cargo-afl" >&2
    exit 2
  fi
}

build() {
  need_afl
  cargo afl build --release --manifest-path fuzz/Cargo.toml
}

summary() {
  local t=$1 stats=fuzz/out/$1/default/fuzzer_stats
  if [[ ! -f $stats ]]; then
    echo "$t: no fuzzer_stats (did the campaign start?)" >&2
    return 1
  fi
  awk -v t="$t" -F' *: *' '
    { v[$1] = $2 }
    END {
      printf "%s: run_time=%ss execs_done=%s execs_per_sec=%s corpus_count=%s bitmap_cvg=%s edges_found=%s/%s saved_crashes=%s saved_hangs=%s\n",
        t, v["run_time"], v["execs_done"], v["execs_per_sec"], v["corpus_count"],
        v["bitmap_cvg"], v["edges_found"], v["total_edges"], v["saved_crashes"], v["saved_hangs"]
    }' "$stats"
}

run() {
  local t=$1 secs=${2:-600}
  [[ " $TARGETS " == *" $t "* ]] || { echo "unknown target $t (one of: $TARGETS)" >&2; exit 2; }
  [[ -x $FUZZ_BIN/$t ]] || build
  mkdir -p "fuzz/out/$t"
  # -V: stop after SECONDS; no UI; no CPU binding or frequency checks on a shared machine.
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    cargo afl fuzz -V "$secs" -i "fuzz/corpus/$t" -o "fuzz/out/$t" -- "$FUZZ_BIN/$t" \
    > "fuzz/out/$t/afl.log" 2>&1 || { tail -30 "fuzz/out/$t/afl.log" >&2; exit 1; }
  summary "$t"
}

keep() {
  local t=$1 out=fuzz/out/$1/default
  [[ -d $out/queue ]] || { echo "no campaign output in $out" >&2; exit 2; }
  local min
  min=$(mktemp -d)
  AFL_SKIP_CPUFREQ=1 cargo afl cmin -i "$out/queue" -o "$min/corpus" -- "$FUZZ_BIN/$t" >/dev/null
  rm -rf "fuzz/corpus/$t"
  mv "$min/corpus" "fuzz/corpus/$t"
  rm -rf "$min"
  mkdir -p "fuzz/crashes/$t"
  find "$out/crashes" -type f -name 'id:*' -exec sh -c \
    'for f; do cp "$f" "fuzz/crashes/'"$t"'/$(basename "$f" | tr -c "A-Za-z0-9._\n-" _)"; done' sh {} +
  echo "$t: corpus $(ls "fuzz/corpus/$t" | wc -l) files, crashes $(ls "fuzz/crashes/$t" | wc -l) files"
}

case ${1:-} in
  seed)
    cargo test -p kestrel-tests --test fuzz_corpus -- --ignored write_seed_corpus ;;
  build) build ;;
  run) run "${2:?target}" "${3:-600}" ;;
  all) for t in $TARGETS; do run "$t" "${2:-600}"; done ;;
  keep) keep "${2:?target}" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
