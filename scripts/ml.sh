#!/usr/bin/env bash
# scripts/ml.sh ARGS: runs the ML sidecar, `kestrel-ml ARGS`, provisioning libtorch first if needed
# (scripts/libtorch.sh: the torch==2.11.0 wheel in .venv/) and building kestrel-ml (release).
#
#   scripts/ml.sh dataset --messages M.csv.gz --orderbook O.csv.gz --out D
#   scripts/ml.sh train D --model lstm --max-seconds 600 --out M
#   scripts/ml.sh eval M D --predictions P.csv --json E.json
#   scripts/ml.sh serve M --shm NAME          # beside: kestrel replay F.kcap --sidecar NAME
#
# KESTREL_ML_PROFILE picks the cargo profile (default release). Tests set KESTREL_ML_BIN to the
# binary cargo already built for them, which skips the build step; everything else is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_ENV="$(scripts/libtorch.sh)"
eval "$TORCH_ENV"
if [ -n "${KESTREL_ML_BIN:-}" ]; then
    exec "$KESTREL_ML_BIN" "$@"
fi
profile="${KESTREL_ML_PROFILE:-release}"
case "$profile" in
    dev | test) dir=debug ;;
    *) dir="$profile" ;;
esac
cargo build --quiet --locked -p kestrel-ml --profile "$profile" >&2
exec "target/$dir/kestrel-ml" "$@"
