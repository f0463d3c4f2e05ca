#!/usr/bin/env bash
# Benchmarks (not tests: nothing here fails on a slow number).
#
#   bash scripts/bench.sh [--quick] [--runs N] [--markdown FILE] [--read-ahead BYTES] [--jfr DIR] [--keep]
#       The side-by-side scenario benchmark (issue 7): generates its test files, starts an nginx origin, nginx as a
#       caching proxy, varnish (when installed) and two CacheStream daemons on loopback, measures S1-S7, memory and time to ready, and prints
#       the table (medians of --runs, default 3); --markdown FILE also writes it as Markdown, with an SVG chart next
#       to it. --quick is the smoke version CI runs (cachestream-bench's ScenarioBenchSmokeIT). --jfr DIR records a JDK
#       Flight Recorder profile of each daemon per scenario (DIR/<scenario>-<daemon>.jfr) and sums them up in
#       DIR/profile.md. Needs nginx, curl, wrk, ffmpeg and ffprobe (scripts/test.sh installs them).
#   bash scripts/bench.sh --jmh [JMH options...]
#       The JMH benchmarks (Range parsing, RangeSet, serving a cached span); extra arguments go to JMH, e.g.
#       `--jmh RangeSetBench -f 1 -wi 2 -i 3`.
#
# Builds the jars first when they are missing or older than the sources (mvn install -DskipTests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jar=cachestream-cli/target/cachestream.jar
cp_file=cachestream-bench/target/classpath.txt
classes=cachestream-bench/target/classes

stale() {
  [[ -f "$jar" && -f "$cp_file" && -f "$classes/META-INF/BenchmarkList" ]] || return 0
  [[ -n "$(find . -path ./.git -prune -o \( -name pom.xml -o -path '*/src/main/*' \) -newer "$jar" -print -quit)" ]] \
    || [[ -n "$(find cachestream-bench/src/main pom.xml cachestream-bench/pom.xml -newer "$cp_file" -print -quit)" ]]
}

if stale; then
  echo "bench: building (mvn install -DskipTests)" >&2
  mvn -B -q -ntp -o install -DskipTests 2>/dev/null || mvn -B -q -ntp install -DskipTests
fi

# Run from a private copy of the class path, so that a rebuild while the benchmark runs (mvn replaces the jars under
# target/) cannot break it half-way; the benchmark itself runs the daemons from its own copy of bin/cachestream and
# the daemon jar.
snap="$(mktemp -d "${TMPDIR:-/tmp}/cachestream-bench-cp.XXXXXX")"
trap 'rm -rf "$snap"' EXIT
mkdir -p "$snap/lib"
cp -r "$classes" "$snap/classes"
cp_entries="$snap/classes"
IFS=: read -r -a deps < "$cp_file" || true  # the file has no final newline
n=0
for dep in "${deps[@]}"; do
  [[ -z "$dep" ]] && continue
  n=$((n + 1))
  target="$snap/lib/$n-$(basename "$dep")"
  cp "$dep" "$target"
  cp_entries="$cp_entries:$target"
done

if [[ "${1:-}" == "--jmh" ]]; then
  shift
  main=(org.openjdk.jmh.Main "$@")
else
  main=(io.cachestream.bench.ScenarioBench --jar "$PWD/$jar" "$@")
fi
# In the background and waited for, so that a SIGTERM/SIGINT to this script reaches the JVM (by its PID), whose
# shutdown hook then stops everything it started.
java -cp "$cp_entries" "${main[@]}" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
status=0
wait "$pid" || status=$?
if kill -0 "$pid" 2>/dev/null; then
  wait "$pid" || status=$?
fi
exit "$status"
