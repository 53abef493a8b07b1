#!/usr/bin/env bash
# Installs Siphon into a temporary prefix and builds, out of tree, a plugin
# that links the SDK's CSV component (Siphon::csv) and keeps a json_fields
# cursor; checks that only it needs libcsv and that the installed host runs it.
set -euo pipefail
BUILD_DIR=$1
SRC_DIR=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$BUILD_DIR" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/siphon/csv.hpp"
cmake -S "$SRC_DIR/tests/install/csv_plugin" -B "$work/build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
readelf -d "$work/build/report.so" | grep -q 'NEEDED.*libcsv'
if readelf -d "$work/prefix/lib/siphon/plugins/siphon-box.so" | grep -q 'NEEDED.*libcsv'; then
  echo "a plugin without CSV links libcsv" >&2
  exit 1
fi
mkdir -p "$work/run/plugins"
cp "$work/build/report.so" "$work/run/plugins/"
cat > "$work/run/siphon.yaml" <<YAML
plugin_dirs: [plugins]
state: sqlite:state.db
sinks:
  - {name: out, type: file, path: events.jsonl}
apps:
  - name: export
    type: report_rows
YAML
cd "$work/run"
"$work/prefix/bin/siphon" once export
lines=$(wc -l < events.jsonl)
if [ "$lines" != 2 ]; then echo "expected 2 events, got $lines" >&2; exit 1; fi
grep -q '"event":{"user":"alice","action":"login, web"}' events.jsonl
"$work/prefix/bin/siphon" state show export | grep -q '{"row":2}'
echo "csv component test: Siphon::csv linked by that plugin only, rows delivered, cursor kept"
