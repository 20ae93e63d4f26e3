#!/usr/bin/env bash
# Builds Prism, Beam's local portable runner, from its Go module at the version
# of the installed Beam Python SDK, through the Go module proxy, into
#   $NEWSWATCH_ENGINES/prism-v<beam>/prism
# (default cache ~/.cache/newswatch-engines). Prints the binary's path.
# Beam's own fallback would download a release zip from GitHub, which cannot be
# reached here; pass this binary with --prism_location instead.
# Usage: engines/build_prism.sh [PYTHON]   (default .venv/bin/python)
set -euo pipefail
python="${1:-.venv/bin/python}"
cache="${NEWSWATCH_ENGINES:-${XDG_CACHE_HOME:-$HOME/.cache}/newswatch-engines}"
beam="$("$python" -c 'from importlib.metadata import version; print(version("apache-beam"))')"
bin="$cache/prism-v$beam/prism"
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$(dirname "$bin")"
# -mod=mod: resolve the module's own requirements without a go.mod of ours;
# nice: the machine is shared and the first build compiles about 300 packages.
GOBIN="$(dirname "$bin")" GOFLAGS=-mod=mod nice -n 10 \
  go install "github.com/apache/beam/sdks/v2/go/cmd/prism@v$beam"
echo "$bin"
