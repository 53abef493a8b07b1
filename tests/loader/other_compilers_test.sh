#!/usr/bin/env bash
# Plugins not built like the host: the g++-built siphon loads and runs
#   - cdemo.so, plain C99 with no C++ SDK, as built in the tree (gcc);
#   - the same C file built with clang;
#   - a C++ SDK plugin (tests/install/hello_plugin) built with clang++ against
#     the SDK installed from this build (its static library built by g++);
# each in-process and as a worker process (isolation: process).
set -euo pipefail
BUILD_DIR=$1
SRC_DIR=$2
C_PLUGIN=$3
command -v clang >/dev/null || { echo "clang is not installed (scripts/setup installs it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$BUILD_DIR" --prefix "$work/prefix" --component dev >/dev/null

mkdir -p "$work/run/gcc" "$work/run/clang"
cp "$C_PLUGIN" "$work/run/gcc/cdemo.so"
clang -std=c99 -Wall -Wextra -Werror -pedantic -O2 -fPIC -shared -DCDEMO_NAME='"cdemo-clang"' \
  -I"$work/prefix/include" -Wl,--version-script="$SRC_DIR/sdk/cmake/plugin.map" -Wl,--no-undefined \
  -o "$work/run/clang/cdemo.so" "$SRC_DIR/tests/loader/c_plugin.c"
cmake -S "$SRC_DIR/tests/install/hello_plugin" -B "$work/hello-build" \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/hello-build" >/dev/null
grep -q '"Clang"' "$work/hello-build/CMakeFiles/"*/CMakeCXXCompiler.cmake ||
  { echo "hello_plugin was not configured with clang++" >&2; exit 1; }
cp "$work/hello-build/hello.so" "$work/run/clang/"
readelf -p .comment "$work/run/clang/cdemo.so" | grep -q clang ||
  { echo "cdemo.so (clang) carries no clang marker" >&2; exit 1; }
chmod -R go-w "$work/run"

siphon=$BUILD_DIR/bin/siphon
cd "$work/run"
printf '%s' abcdefgh > token
chmod 600 token
for dir in gcc clang; do
  for isolation in in-process process; do
    apps="  - {name: c-ticks, type: cdemo_ticks, isolation: $isolation, auth: {token: \"\${file:token}\"}}"
    [ "$dir" = clang ] &&
      apps="$apps
  - {name: cxx-hello, type: hello_events, isolation: $isolation, auth: {token: \"\${file:token}\"}}"
    rm -f state.db events.jsonl
    cat > siphon.yaml <<YAML
plugin_dirs: [$dir]
state: sqlite:state.db
sinks:
  - {name: out, type: file, path: events.jsonl}
apps:
$apps
YAML
    "$siphon" plugins > plugins.txt
    grep -q "cdemo_ticks" plugins.txt || { cat plugins.txt >&2; echo "$dir: cdemo_ticks not listed" >&2; exit 1; }
    if grep -q "^refused" plugins.txt; then cat plugins.txt >&2; exit 1; fi
    "$siphon" check
    "$siphon" once c-ticks
    n=$(grep -c '"app":"c-ticks","type":"cdemo_ticks","service":"cdemo"' events.jsonl)
    [ "$n" = 6 ] || { echo "$dir/$isolation: expected 6 events of the C plugin, got $n" >&2; exit 1; }
    grep -q '"event":{"page":2,"n":1,"lang":"c"}' events.jsonl
    if [ "$dir" = clang ]; then
      "$siphon" once cxx-hello
      n=$(grep -c '"type":"hello_events"' events.jsonl)
      [ "$n" = 9 ] || { echo "clang/$isolation: expected 9 events of hello, got $n" >&2; exit 1; }
    fi
    "$siphon" state show c-ticks | grep -q succeeded
  done
done
# The C plugin's own validation runs in check: refused token, one line, no value.
sed -i 's/abcdefgh/aaaaaaaa/' token
if "$siphon" check > check.txt 2>&1; then echo "check passed a token cdemo refuses" >&2; exit 1; fi
grep -q "one letter repeated is no token" check.txt || { cat check.txt >&2; exit 1; }
if grep -q aaaaaaaa check.txt; then echo "check printed the token" >&2; exit 1; fi
echo "plugins from other compilers: C (gcc, clang) and C++ (clang++) loaded and run, in-process and isolated"
