#!/usr/bin/env bash
# Builds Beam's portable Flink and Spark job servers from Maven Central into
# the engines cache (docs/engines.md):
#   $NEWSWATCH_ENGINES/flink-job-server-<beam>/beam-flink-job-server-<beam>.jar
#   $NEWSWATCH_ENGINES/spark-job-server-<beam>/beam-spark-job-server-<beam>.jar
# each with its lib/ beside it, and fetches Flink's own distribution jars (for
# a standalone cluster) from PyPI's apache-flink-libraries, which ships them:
#   $NEWSWATCH_ENGINES/flink-<version>/lib/flink-dist-<version>.jar ...
# A jar is rebuilt only when its pom changes, so a warm run costs seconds.
# Usage: engines/fetch_jars.sh [flink|spark|flink-dist]...
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

# The same Flink version as the job server's runner (beam-runners-flink-1.19
# 2.62.0 brings Flink 1.19.0). Maven Central serves no flink-dist here.
FLINK_VERSION=1.19.0

flink_dist() {
  local dir="$cache/flink-$FLINK_VERSION"
  if [[ -f "$dir/lib/flink-dist-$FLINK_VERSION.jar" ]]; then
    echo "$dir (cached)"
    return
  fi
  local tmp
  tmp="$(mktemp -d)"
  nice -n 10 python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" \
    "apache-flink-libraries==$FLINK_VERSION"
  tar -xzf "$tmp/apache-flink-libraries-$FLINK_VERSION.tar.gz" -C "$tmp" \
    "apache-flink-libraries-$FLINK_VERSION/deps/lib"
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/apache-flink-libraries-$FLINK_VERSION/deps/lib" "$dir/lib"
  rm -rf "$tmp"
  echo "$dir"
}

engines=("$@")
[[ ${#engines[@]} -gt 0 ]] || engines=(flink spark flink-dist)
for engine in "${engines[@]}"; do
  case "$engine" in
    flink|spark) build "$engine" ;;
    flink-dist) flink_dist ;;
    *) echo "fetch_jars.sh: unknown engine '$engine' (flink, spark or flink-dist)" >&2; exit 2 ;;
  esac
done
