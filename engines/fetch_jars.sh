#!/usr/bin/env bash
# Builds Beam's portable Flink and Spark job servers from Maven Central into
# the engines cache (see engines/README in docs/engines.md):
#   $NEWSWATCH_ENGINES/flink-job-server-<beam>/beam-flink-job-server-<beam>.jar
#   $NEWSWATCH_ENGINES/spark-job-server-<beam>/beam-spark-job-server-<beam>.jar
# each with its lib/ beside it. A jar is rebuilt only when its pom changes, so
# a warm run costs seconds. Usage: engines/fetch_jars.sh [flink|spark]...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${NEWSWATCH_ENGINES:-${XDG_CACHE_HOME:-$HOME/.cache}/newswatch-engines}"
mkdir -p "$cache"

build() {
  local engine="$1" pom="$here/$1-job-server/pom.xml"
  local version
  version="$(sed -n 's:.*<beam.version>\(.*\)</beam.version>.*:\1:p' "$pom")"
  local dir="$cache/$engine-job-server-$version"
  local jar="$dir/beam-$engine-job-server-$version.jar"
  local stamp="$dir/.pom-$(cksum "$pom" | cut -d' ' -f1)"
  if [[ -f "$jar" && -f "$stamp" ]]; then
    echo "$jar (cached)"
    return
  fi
  rm -rf "$dir"
  # -B: no progress bars in CI logs; nice: the machine is shared.
  nice -n 10 mvn -B -q -Dstyle.color=never -f "$pom" -Dengines.out="$cache" package
  touch "$stamp"
  echo "$jar"
}

engines=("$@")
[[ ${#engines[@]} -gt 0 ]] || engines=(flink spark)
for engine in "${engines[@]}"; do
  case "$engine" in
    flink|spark) build "$engine" ;;
    *) echo "fetch_jars.sh: unknown engine '$engine' (flink or spark)" >&2; exit 2 ;;
  esac
done
