#!/usr/bin/env bash
# Installs Siphon into a temporary prefix, builds a plugin out of tree against
# the installed SDK (find_package(Siphon)), drops it into a plugin folder, and
# checks that the installed host loads and runs it; then the same for a plugin
# that links the SDK's CSV component.
set -euo pipefail
BUILD_DIR=$1
SRC_DIR=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$BUILD_DIR" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/siphon"
test -f "$work/prefix/include/siphon/plugin_api.h"
ls "$work/prefix/lib/siphon/plugins/siphon-box.so" "$work/prefix/lib/siphon/plugins/siphon-duo.so" >/dev/null
# Everything else under the prefix too: the unit, man page, completion and
# examples; no config is written (that is the packages' job).
ls "$work/prefix/lib/systemd/system/siphon.service" "$work/prefix/share/man/man1/siphon.1" \
  "$work/prefix/share/bash-completion/completions/siphon" \
  "$work/prefix/share/doc/siphon/examples/siphon.yaml" >/dev/null
test ! -e "$work/prefix/etc/siphon/siphon.yaml"
cmake -S "$SRC_DIR/tests/install/hello_plugin" -B "$work/hello-build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/hello-build" >/dev/null
mkdir -p "$work/run/plugins"
cp "$work/hello-build/hello.so" "$work/run/plugins/"
# The skeleton scripts/new-plugin writes builds against the installed SDK too.
"$SRC_DIR/scripts/new-plugin" acme audit "$work/acme" >/dev/null
cmake -S "$work/acme" -B "$work/acme-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/acme-build" >/dev/null
cp "$work/acme-build/siphon-acme.so" "$work/run/plugins/"
printf '%s' helloworld > "$work/run/token"
chmod 600 "$work/run/token"
cat > "$work/run/siphon.yaml" <<YAML
plugin_dirs: [plugins, $work/prefix/lib/siphon/plugins]
state: sqlite:state.db
sinks:
  - {name: out, type: file, path: events.jsonl}
apps:
  - name: hi
    type: hello_events
    auth: {token: "\${file:token}"}
YAML
cd "$work/run"
"$work/prefix/bin/siphon" plugins | grep -q "hello_events"
"$work/prefix/bin/siphon" plugins | grep -q "box_admin_events"
"$work/prefix/bin/siphon" plugins | grep -q "acme_audit"
if "$work/prefix/bin/siphon" plugins | grep -q "^refused"; then echo "a plugin was refused" >&2; exit 1; fi
"$work/prefix/bin/siphon" check
"$work/prefix/bin/siphon" once hi
lines=$(wc -l < events.jsonl)
if [ "$lines" != 9 ]; then echo "expected 9 events, got $lines" >&2; exit 1; fi
grep -q '"app":"hi","type":"hello_events","service":"hello"' events.jsonl
"$work/prefix/bin/siphon" state show hi | grep -q succeeded
echo "install test: out-of-tree plugin built against the installed SDK, loaded and run (9 events)"

# A plugin with the SDK's optional CSV component (Siphon::csv) and a json_fields
# cursor: only it needs libcsv, and the installed host runs it.
test -f "$work/prefix/include/siphon/csv.hpp"
cmake -S "$SRC_DIR/tests/install/csv_plugin" -B "$work/csv-build" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/csv-build" >/dev/null
readelf -d "$work/csv-build/report.so" | grep -q 'NEEDED.*libcsv'
if readelf -d "$work/prefix/lib/siphon/plugins/siphon-box.so" | grep -q 'NEEDED.*libcsv'; then
  echo "a plugin without CSV links libcsv" >&2
  exit 1
fi
mkdir -p "$work/csv-run/plugins"
cp "$work/csv-build/report.so" "$work/csv-run/plugins/"
cat > "$work/csv-run/siphon.yaml" <<YAML
plugin_dirs: [plugins]
state: sqlite:state.db
sinks:
  - {name: out, type: file, path: events.jsonl}
apps:
  - name: export
    type: report_rows
YAML
cd "$work/csv-run"
"$work/prefix/bin/siphon" once export
lines=$(wc -l < events.jsonl)
if [ "$lines" != 2 ]; then echo "expected 2 events, got $lines" >&2; exit 1; fi
grep -q '"event":{"user":"alice","action":"login, web"}' events.jsonl
"$work/prefix/bin/siphon" state show export | grep -q '{"row":2}'
echo "csv component test: Siphon::csv linked by that plugin only, rows delivered, cursor kept"
