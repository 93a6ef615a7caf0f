#!/usr/bin/env bash
# Builds the documented static release binary, copies it ALONE into an empty temporary directory, checks that it links
# no Swift toolchain library, and runs a tabletop of the bundled Contoso example from there.
#
#   Scripts/check-portable-binary.sh            # builds first: swift build -c release --static-swift-stdlib (several minutes)
#   Scripts/check-portable-binary.sh --bin PATH # checks an existing binary
#
# Not part of `swift test` (it needs a release build); CI may run it after the test command.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

bin=""
if [ "${1:-}" = "--bin" ]; then
  bin="$2"
else
  swift build -c release --static-swift-stdlib --product lifeboat
  bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/lifeboat"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$bin" "$work/lifeboat"
echo "copied $(du -h "$work/lifeboat" | cut -f1) binary into $work (nothing else there)"

# No Swift runtime or Foundation from a toolchain: only system libraries (libc, libcurl, libsqlite3, …).
if ldd "$work/lifeboat" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|/swift/'; then
  echo "FAIL: the binary links the libraries above from a Swift toolchain; build with --static-swift-stdlib" >&2
  exit 1
fi

# Run from the empty directory, with no toolchain on PATH or in the library path.
cd "$work"
env -i HOME="$work" PATH=/usr/bin:/bin ./lifeboat tabletop --runbook "$repo/Runbooks/rebuild-new-tenant.yaml" \
  --snapshot "$repo/Examples/contoso" --state drill/contoso.sqlite --report drill/report.html --profile fast
test -s drill/report.html || { echo "FAIL: no report written" >&2; exit 1; }
env -i HOME="$work" PATH=/usr/bin:/bin ./lifeboat report --state drill/contoso.sqlite --format markdown --out drill/report.md
grep -q '^## Summary' drill/report.md || { echo "FAIL: the Markdown report has no summary" >&2; exit 1; }
echo "OK: the copied binary ran a tabletop and wrote its reports from an empty directory"
