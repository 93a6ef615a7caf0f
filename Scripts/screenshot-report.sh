#!/usr/bin/env bash
# Renders an HTML report to PNG with headless Chromium, to see what a person sees (and what prints).
#
#   Scripts/screenshot-report.sh REPORT.html [OUT.png] [WIDTHxHEIGHT]
#   Scripts/screenshot-report.sh --demo [OUT.png]    # runs a tabletop that is killed and resumed, then shoots its report
#
# Needs Debian's chromium (apt-get install -y chromium); the test suite does not.
set -euo pipefail
cd "$(dirname "$0")/.."

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
  echo "screenshot-report: no chromium found; install it with: apt-get install -y chromium" >&2
  exit 2
fi

if [ "${1:-}" = "--demo" ]; then
  out="${2:-drill/report.png}"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  swift build --product lifeboat >/dev/null
  bin="$(swift build --show-bin-path)/lifeboat"
  # Killed with SIGKILL after 7 user writes reached the tenant, then resumed: the report shows the interruption.
  ( "$bin" tabletop --runbook Runbooks/rebuild-new-tenant.yaml --snapshot Examples/contoso --state "$work/drill.sqlite" \
    --simulate-crash response:7@users >/dev/null 2>&1; exit 0 ) 2>/dev/null
  sleep 2
  "$bin" resume --state "$work/drill.sqlite" >/dev/null 2>&1
  "$bin" report --state "$work/drill.sqlite" --format html --out "$work/report.html"
  mkdir -p "$(dirname "$out")"
  cp "$work/report.html" "${out%.png}.html"
  report="$work/report.html"
else
  report="${1:?usage: $0 REPORT.html [OUT.png] [WIDTHxHEIGHT] | --demo [OUT.png]}"
  out="${2:-${report%.html}.png}"
fi
size="${3:-1280x2000}"

profile="$(mktemp -d)"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --screenshot="$(realpath -m "$out")" --window-size="${size/x/,}" "file://$(realpath "$report")" >/dev/null 2>&1
rm -rf "$profile"
echo "screenshot: $out"
