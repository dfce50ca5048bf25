#!/usr/bin/env bash
# Build Google's word2vec.c into benchmarks/bin/word2vec for the benchmark harness.
#
# Source: the PyPI package `word2vec` (danielfrg/word2vec, Apache-2.0), whose sdist carries the
# original C code in word2vec/includes/word2vec.c; `pip install word2vec` compiles it at install
# time with gcc into <prefix>/bin/word2vec. We fetch the same sdist with pip and compile
# word2vec.c alone with the package's own default flags, so nothing is installed system-wide.
#
# Usage: bash benchmarks/build_word2vec_c.sh [OUTPUT_BINARY]
# Env:   WORD2VEC_VERSION (default 0.11.1), WORD2VEC_CFLAGS (default: the package's flags).
# Exit:  0 when the binary exists afterwards, 1 otherwise (the harness then skips word2vec.c).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/bin/word2vec}"
version="${WORD2VEC_VERSION:-0.11.1}"
cflags="${WORD2VEC_CFLAGS:--lm -pthread -Ofast -Wall -march=native -funroll-loops -Wno-unused-result}"
cc="${CC:-gcc}"

if [[ -x "$out" ]]; then
    echo "word2vec.c: already built at $out"
    exit 0
fi
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "word2vec.c: no C compiler ($cc) found; cannot build" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "word2vec.c: fetching the word2vec==$version sdist from PyPI"
if ! python -m pip download --quiet --no-deps --no-binary :all: -d "$work" "word2vec==$version"; then
    echo "word2vec.c: pip download failed; cannot build" >&2
    exit 1
fi
tar -xzf "$work"/word2vec-"$version".tar.gz -C "$work"
src="$work/word2vec-$version/word2vec/includes/word2vec.c"
if [[ ! -f "$src" ]]; then
    echo "word2vec.c: $src not in the sdist; cannot build" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2086  # cflags is a flag list
"$cc" "$src" -o "$out" $cflags
cp "$work/word2vec-$version/LICENSE.txt" "$(dirname "$out")/LICENSE-word2vec.txt" 2>/dev/null || true
echo "word2vec.c: built $out"
