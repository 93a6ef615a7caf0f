#!/usr/bin/env bash
# Formats Lifeboat's Swift sources (Sources, Tests, Package.swift) with the repository's .swift-format, then checks
# them with the same lint CI runs (.ci/run). Self-sufficient and idempotent: run it on a merged tree, run it twice,
# the second run changes nothing. Generated sources (Scripts/embed-resources.py) carry `// swift-format-ignore-file`
# and are left as written.
#
#   Scripts/format-sweep.sh [repository root]      (default: the git root of the current directory)
#
# Exits 0 when the tree is formatted and lints clean; 1 with the remaining findings (rules the formatter cannot fix,
# such as a name that is not lowerCamelCase) when it does not.
set -euo pipefail

root="${1:-$(git rev-parse --show-toplevel)}"
cd "$root"
if [ ! -f .swift-format ] || [ ! -f Package.swift ]; then
  echo "format-sweep: $root has no .swift-format or Package.swift (merge the hygiene branch first)" >&2
  exit 2
fi

paths=(Sources Tests Package.swift)
# swift-format occasionally settles a construct only on a second pass: format until lint is clean (at most 3 passes).
for pass in 1 2 3; do
  swift format format --in-place --recursive --parallel "${paths[@]}"
  if swift format lint --strict --recursive --parallel "${paths[@]}" >/dev/null 2>&1; then
    echo "format-sweep: formatted in $pass pass(es); swift format lint --strict is clean"
    exit 0
  fi
done
echo "format-sweep: swift format lint --strict still reports (fix these by hand):" >&2
swift format lint --strict --recursive --parallel "${paths[@]}" >&2 || true
exit 1
