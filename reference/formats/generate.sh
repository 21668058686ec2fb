#!/bin/sh
# Regenerates every reference file of io.quantkit.format (see README.md).
set -eu
cd "$(dirname "$0")"
OUT=../../quant-core/src/test/resources/reference/formats
mkdir -p "$OUT"
for s in gen_half.py gen_fp8.py gen_mx.py gen_nf4.py gen_intgrid.py gen_rounding.py; do
    /usr/bin/python3 "$s" "$OUT"
done
