#!/usr/bin/env bash
# Installs the "quantkit" Jupyter kernel (Java on JShell, io.quantkit.jupyter.Kernel) that runs the notebooks
# docs/notebooks/*.ipynb.
#   quant-jupyter/install-kernel.sh [DIR]   writes DIR/kernels/quantkit/kernel.json
# DIR defaults to ~/.local/share/jupyter (where Jupyter looks for user kernels); another DIR is found through
# JUPYTER_PATH=DIR. Builds quant-jupyter first when its jar is missing or older than the sources.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar="$root/quant-jupyter/target/quant-jupyter.jar"
lib="$root/quant-jupyter/target/lib"
die() { echo "install-kernel: error: $*" >&2; exit 2; }
command -v java >/dev/null || die "java is not on PATH (the kernel needs Java 17 or newer with jshell)"
case "$root" in *'"'* | *'\'*) die "the project path $root holds a quote or backslash; move it" ;; esac
if [ ! -f "$jar" ] || [ ! -d "$lib" ] || \
   [ -n "$(find "$root" -name target -prune -o \( -path '*/src/main/*' -o -name pom.xml \) -type f -newer "$jar" -print -quit)" ]; then
  echo "install-kernel: building quant-jupyter ..." >&2
  (cd "$root" && mvn -q -B -DskipTests -Dmaven.javadoc.skip=true package -pl quant-jupyter -am) >&2
  touch "$jar"
fi
dir="${1:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}"
mkdir -p "$dir/kernels/quantkit"
java_bin="$(command -v java)"
cat >"$dir/kernels/quantkit/kernel.json.tmp" <<JSON
{
 "argv": ["$java_bin", "-Djava.awt.headless=true", "-cp", "$jar:$lib/*", "io.quantkit.jupyter.Kernel", "{connection_file}"],
 "display_name": "Java (quantkit, JShell)",
 "language": "java"
}
JSON
mv "$dir/kernels/quantkit/kernel.json.tmp" "$dir/kernels/quantkit/kernel.json"
echo "$dir/kernels/quantkit/kernel.json"
