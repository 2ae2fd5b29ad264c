#!/usr/bin/env bash
# Builds bench/peer/groovg_driver.cpp against groovg/itch-book, the C++ peer of the
# "Decode + L3 book beside groovg/itch-book" figures in docs/BENCHMARKS.md. The peer is
# fetched outside this repository; this script is not run by CI.
#
#   bench/peer/build_groovg.sh ITCH_BOOK_DIR FIXED_DECIMAL_DIR [OUT]   (OUT: ./groovg_driver)
#
# Sources (the commits every published figure used):
#   ITCH_BOOK_DIR      https://github.com/groovg/itch-book      at 62665a36eea9ef8ec5341393b71a37787f202999 (header-only)
#   FIXED_DECIMAL_DIR  https://github.com/groovg/fixed-decimal  at ca1765785647e9118b6c9a4f6e173fbab53217fe
#                      (the GIT_TAG itch-book's CMakeLists.txt pins)
# e.g. git clone https://github.com/groovg/itch-book && git -C itch-book checkout 62665a3
#      git clone https://github.com/groovg/fixed-decimal && git -C fixed-decimal checkout ca17657
#
# Flags: those of the peer's own CMake Release build (CMAKE_BUILD_TYPE=Release adds -O3 -DNDEBUG;
# its targets ask for C++23; no -march). CMake would pass -std=gnu++23 (extensions on by
# default); the published figures used -std=c++23, which this keeps.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 ITCH_BOOK_DIR FIXED_DECIMAL_DIR [OUT]" >&2
    exit 2
fi
itch_book=$1
fixed_decimal=$2
out=${3:-./groovg_driver}
here=$(cd "$(dirname "$0")" && pwd)

for f in "$itch_book/include/itch/book_manager.hpp" "$fixed_decimal/cpp/include/fixed_decimal.hpp"; do
    [[ -f $f ]] || { echo "$0: missing $f" >&2; exit 1; }
done
# Say which commits are being built when the directories are git checkouts.
for d in "$itch_book" "$fixed_decimal"; do
    if rev=$(git -C "$d" rev-parse --short HEAD 2>/dev/null); then
        echo "$d at $rev"
    fi
done

CXX=${CXX:-g++}
"$CXX" --version | head -n 1
"$CXX" -std=c++23 -O3 -DNDEBUG \
    -I "$itch_book/include" -I "$fixed_decimal/cpp/include" \
    "$here/groovg_driver.cpp" -o "$out"
echo "built $out"
