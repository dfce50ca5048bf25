#!/usr/bin/env bash
# Build Intel's pWord2Vec into benchmarks/bin/pWord2Vec for the benchmark harness.
#
# Source: ../shared/peers/pWord2Vec beside the repository (IntelLabs/pWord2Vec, Apache-2.0), with
# its own build.sh, which compiles pWord2Vec.cpp with g++ -fopenmp against OpenBLAS (through a
# header shim for MKL). Its code is never copied into this repository.
#
# Usage: bash benchmarks/build_pword2vec.sh [OUTPUT_BINARY]
# Env:   PWORD2VEC_SRC (default: ../shared/peers/pWord2Vec relative to the repository root).
# Needs: g++ with OpenMP and libopenblas-dev (apt-get install -y g++ libopenblas-dev).
# Exit:  0 when the binary exists afterwards, 1 otherwise (the harness then skips pWord2Vec).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/bin/pWord2Vec}"
src="${PWORD2VEC_SRC:-$here/../../shared/peers/pWord2Vec}"
needs="needs g++ with OpenMP and libopenblas-dev (apt-get install -y g++ libopenblas-dev)"

if [[ -x "$out" ]]; then
    echo "pWord2Vec: already built at $out"
    exit 0
fi
if [[ ! -f "$src/build.sh" || ! -f "$src/pWord2Vec.cpp" ]]; then
    echo "pWord2Vec: no source at $src (../shared/peers/pWord2Vec is absent); cannot build" >&2
    exit 1
fi
if ! command -v g++ >/dev/null 2>&1; then
    echo "pWord2Vec: g++ not found; $needs" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
# build.sh writes the binary in one step; a failed compile leaves nothing behind, but remove a
# partial file all the same so that the harness's 'auto' never picks it up.
if ! bash "$src/build.sh" "$out"; then
    rm -f "$out"
    echo "pWord2Vec: build failed; $needs" >&2
    exit 1
fi
install -m 0644 "$src/LICENSE" "$(dirname "$out")/LICENSE-pWord2Vec.txt" 2>/dev/null || true
echo "pWord2Vec: built $out"
