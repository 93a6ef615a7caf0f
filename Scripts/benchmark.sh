#!/usr/bin/env bash
# Times a tabletop of a generated tenant at Graph's realistic limits: wall time, peak memory, and the
# simulated throttling time against the arithmetic lower bound (write units ÷ the write quota).
#
#   Scripts/benchmark.sh [--users N] [--bin PATH] [--runbook R] [--profile P] [--work DIR] [--no-build]
#
# Defaults: 50,000 users, Runbooks/rebuild-new-tenant.yaml, profile realistic, a release build of
# lifeboat (`swift build -c release --product lifeboat`, skipped with --no-build or --bin). The generated
# snapshot is kept in the work directory (default .build/benchmark) and reused by later runs of the same size.
# Needs GNU time (/usr/bin/time, Debian package `time`) for the peak resident set size.
set -euo pipefail
cd "$(dirname "$0")/.."

users=50000
bin=""
runbook="Runbooks/rebuild-new-tenant.yaml"
profile="realistic"
work=".build/benchmark"
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users="$2"; shift 2 ;;
    --bin) bin="$2"; build=0; shift 2 ;;
    --runbook) runbook="$2"; shift 2 ;;
    --profile) profile="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "benchmark: unknown argument $1 (see --help)" >&2; exit 64 ;;
  esac
done

if [ ! -x /usr/bin/time ]; then
  echo "benchmark: /usr/bin/time (GNU time) is missing; apt-get install -y time" >&2
  exit 2
fi
if [ -z "$bin" ]; then
  if [ "$build" = 1 ]; then swift build -c release --product lifeboat >&2; fi
  bin="$(swift build -c release --show-bin-path)/lifeboat"
fi

mkdir -p "$work"
snapshot="$work/tenant-$users"
if [ ! -f "$snapshot/manifest.json" ]; then
  rm -rf "$snapshot"
  /usr/bin/time -f '%e %M' -o "$work/generate.time" "$bin" fake-tenant generate --users "$users" --out "$snapshot" >/dev/null
  read -r gen_wall gen_rss < "$work/generate.time"
  echo "generate: $users users in ${gen_wall} s wall, peak RSS $((gen_rss / 1024)) MB"
fi

run="$work/run-$users-$profile"
rm -rf "$run"
mkdir -p "$run"
status=0
/usr/bin/time -f '%e %M %U %S' -o "$run/tabletop.time" \
  "$bin" tabletop --runbook "$runbook" --snapshot "$snapshot" --state "$run/state.sqlite" --profile "$profile" \
  > "$run/tabletop.out" 2> "$run/tabletop.err" || status=$?
read -r wall rss user sys < "$run/tabletop.time"
echo "tabletop: $users users, profile $profile: ${wall} s wall (${user} s user, ${sys} s system), peak RSS $((rss / 1024)) MB, exit $status"
grep -E '^(Simulated time|Throttling|Run complete)' "$run/tabletop.out" || true
if [ "$status" != 0 ]; then
  echo "benchmark: the tabletop exited with $status; see $run/tabletop.out and $run/tabletop.err" >&2
  exit "$status"
fi
