#!/usr/bin/env bash
# Executes every docs/notebooks/*.ipynb with Jupyter (Debian's jupyter-nbconvert) on the quantkit JShell kernel,
# one kernel per notebook, and fails if a cell fails (a compile error, an exception, a failed check) or a notebook
# takes longer than its timeout. The executed notebooks, their logs and their plots go to OUT (default: a new
# temporary folder). When the JShell route's transcripts exist (quant-cli/target/notebooks/NAME.out, written by
# NotebooksTest under mvn verify), each notebook must also print the same number of "[ok]" checks as there.
#   quant-jupyter/run-notebooks.sh [OUT]
# Needs jupyter-nbconvert and python3-nbclient (apt-get install jupyter-nbconvert python3-nbclient) and jq.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$(mktemp -d "${TMPDIR:-/tmp}/quantkit-jupyter.XXXXXX")}"
timeout_s="${NOTEBOOK_TIMEOUT:-300}"
mkdir -p "$out"
command -v jupyter-nbconvert >/dev/null || { echo "run-notebooks: jupyter-nbconvert is not installed" >&2; exit 2; }
"$root/quant-jupyter/install-kernel.sh" "$out/jupyter" >/dev/null
pass=0 fail=0
for nb in "$root"/docs/notebooks/*.ipynb; do
  name="$(basename "$nb" .ipynb)"
  t0=$(date +%s)
  if JUPYTER_PATH="$out/jupyter" QUANTKIT_NOTEBOOK_OUT="$out/$name" timeout $((timeout_s + 60)) \
       jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.timeout="$timeout_s" \
       --ExecutePreprocessor.kernel_name=quantkit --output-dir "$out" "$nb" >"$out/$name.log" 2>&1; then
    oks=$(jq -r '[.cells[] | select(.cell_type == "code") | .outputs[] | (.text // "" | if type == "array" then join("") else . end)] | join("")' \
          "$out/$name.ipynb" | grep -c '\[ok\]' || true)
    ref="$root/quant-cli/target/notebooks/$name.out"
    if [ -f "$ref" ] && [ "$(grep -c '\[ok\]' "$ref" || true)" != "$oks" ]; then
      echo "FAILED: $name: $oks checks passed under Jupyter, $(grep -c '\[ok\]' "$ref") under JShell ($ref)" >&2
      fail=$((fail + 1))
    else
      echo "ok: $name ($oks checks, $(( $(date +%s) - t0 )) s)"
      pass=$((pass + 1))
    fi
  else
    echo "FAILED: $name (exit $?, $(( $(date +%s) - t0 )) s); the end of $out/$name.log:" >&2
    grep -v '^SLF4J' "$out/$name.log" | tail -25 | sed 's/^/  | /' >&2
    fail=$((fail + 1))
  fi
done
echo "jupyter: $pass passed, $fail failed"
[ "$fail" = 0 ]
