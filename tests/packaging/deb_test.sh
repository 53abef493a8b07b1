#!/usr/bin/env bash
# Builds the .deb packages (scripts/package), checks their contents, then
# installs them on this machine with dpkg, checks the installed siphon (its
# version, its plugins from the default folder, the service account, the unit
# enabled but not started, a plugin built out of tree against siphon-dev, a
# kept conffile edit), purges them and checks that nothing is left but what is
# documented to stay. It leaves the machine as it found it: the account and
# /var/lib/siphon are removed again when this test created them.
# The install part needs root and a machine without siphon installed; it is
# skipped (exit 77) otherwise, after the content checks.
set -euo pipefail
DEB_BUILD=$1
SRC_DIR=$2
fail() { echo "deb test: $*" >&2; exit 1; }
work=$(mktemp -d)
installed_by_us=0
had_user=0
had_state=0
getent passwd siphon >/dev/null && had_user=1
[ -e /var/lib/siphon ] && had_state=1
[ -e /var/log/siphon ] && had_logs=1 || had_logs=0
cleanup() {
  if [ $installed_by_us = 1 ]; then
    SIPHON_PURGE_STATE=no dpkg --purge siphon-dev siphon >/dev/null 2>&1 || true
    [ $had_state = 1 ] || rm -rf /var/lib/siphon
    [ $had_logs = 1 ] || rm -rf /var/log/siphon
    if [ $had_user = 0 ] && getent passwd siphon >/dev/null; then
      userdel siphon 2>/dev/null || true
      getent group siphon >/dev/null && groupdel siphon 2>/dev/null || true
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT

BUILD_DIR=$DEB_BUILD "$SRC_DIR/scripts/package" >"$work/package.log" 2>&1 ||
  { tail -30 "$work/package.log" >&2; fail "scripts/package failed"; }
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
version=$(sed -n 's/^project(Siphon VERSION \([0-9.]*\).*/\1/p' "$SRC_DIR/CMakeLists.txt")
deb=$(ls "$DEB_BUILD"/siphon_"$version"_*.deb)
dev=$(ls "$DEB_BUILD"/siphon-dev_"$version"_*.deb)

# Contents.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$work/files"
dpkg-deb -c "$dev" | awk '{print $6}' | sed 's|^\./|/|' > "$work/dev-files"
for f in /usr/bin/siphon /lib/systemd/system/siphon.service /etc/siphon/siphon.yaml \
  /etc/logrotate.d/siphon /usr/share/man/man1/siphon.1 \
  /usr/share/bash-completion/completions/siphon /usr/share/doc/siphon/examples/siphon.yaml \
  /usr/share/doc/siphon/examples/corp-duo.yaml /usr/share/doc/siphon/examples/http-json-intercom.yaml \
  /usr/lib/$triplet/siphon/plugins/siphon-box.so /usr/lib/$triplet/siphon/plugins/siphon-duo.so \
  /usr/lib/$triplet/siphon/modules/siphon-postgres.so /usr/lib/$triplet/siphon/modules/siphon-kafka.so; do
  grep -qx "$f" "$work/files" || fail "siphon package lacks $f"
done
for f in /usr/include/siphon/plugin_api.h /usr/include/siphon/sdk.hpp \
  /usr/lib/$triplet/libsiphon_sdk.a /usr/lib/$triplet/cmake/Siphon/SiphonConfig.cmake; do
  grep -qx "$f" "$work/dev-files" || fail "siphon-dev package lacks $f"
done
if grep -E '^/usr/etc|/lib/[^/]*-linux-gnu/systemd|^/usr/local' "$work/files" "$work/dev-files"; then
  fail "files in non-Debian paths (above)"
fi
if grep -q '^/usr/include' "$work/files"; then fail "SDK headers in the siphon package"; fi
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/siphon/siphon.yaml ||
  fail "/etc/siphon/siphon.yaml is not a conffile"
depends=$(dpkg-deb -f "$deb" Depends)
for d in libc6 libpocofoundation libyaml-cpp libsystemd0 libpq5 librdkafka1 adduser; do
  grep -q "$d" <<<"$depends" || fail "Depends lacks $d: $depends"
done
mkdir "$work/x"
dpkg-deb -x "$deb" "$work/x"
grep -q "^plugin_dirs: \[/usr/lib/$triplet/siphon/plugins\]" "$work/x/etc/siphon/siphon.yaml" ||
  fail "packaged config: $(grep plugin_dirs "$work/x/etc/siphon/siphon.yaml")"
"$work/x/usr/bin/siphon" --version | grep -qx "siphon $version (plugin ABI [0-9]*\.[0-9]*)" ||
  fail "extracted siphon --version: $("$work/x/usr/bin/siphon" --version)"
# The extracted siphon loads its kafka module from the packaged tree: only
# the module can judge librdkafka properties.
mkdir "$work/no-plugins"
printf 'plugin_dirs: [%s]\nsinks:\n  - name: k\n    type: kafka\n    brokers: 127.0.0.1:9\n    properties:\n      not.a.property: "1"\n' \
  "$work/no-plugins" >"$work/kafka.yaml"
out=$("$work/x/usr/bin/siphon" --config "$work/kafka.yaml" check 2>&1 || true)
grep -q "field properties.not.a.property: not a librdkafka property" <<<"$out" ||
  fail "extracted siphon did not load its kafka module: $out"
echo "deb test: package contents as expected"

if [ "$(id -u)" != 0 ]; then echo "deb test: not root, install skipped"; exit 77; fi
if dpkg-query -W -f='${Status}' siphon siphon-dev 2>/dev/null | grep -q "ok installed"; then
  echo "deb test: siphon is installed on this machine already; install skipped"
  exit 77
fi

# Install.
installed_by_us=1
dpkg -i "$deb" "$dev" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i failed"; }
[ "$(/usr/bin/siphon --version)" = "$(/usr/bin/siphon --version | grep "^siphon $version ")" ] ||
  fail "installed siphon --version"
dpkg -L siphon | grep -qx /lib/systemd/system/siphon.service || fail "dpkg -L siphon lacks the unit"
getent passwd siphon >/dev/null || fail "no siphon account after install"
[ "$(stat -c '%U %a' /var/lib/siphon)" = "siphon 700" ] ||
  fail "/var/lib/siphon is $(stat -c '%U %a' /var/lib/siphon)"
[ -L /etc/systemd/system/multi-user.target.wants/siphon.service ] || fail "unit not enabled"
if [ -d /run/systemd/system ] && systemctl is-active --quiet siphon; then
  fail "the unit was started before its config was edited"
fi
# The default config, as the service account reads it, and the default plugin folder.
cd "$work"
env -u SIPHON_CONFIG /usr/bin/siphon plugins > plugins.txt
grep -q "plugin folders: /usr/lib/$triplet/siphon/plugins" plugins.txt || fail "$(head -1 plugins.txt)"
for t in box_admin_events duo_auth gsuite_admin slack_access; do
  grep -q "$t" plugins.txt || fail "installed siphon plugins lacks $t"
done
if grep -q '^refused' plugins.txt; then cat plugins.txt >&2; fail "a packaged plugin was refused"; fi
runuser -u siphon -- env -u SIPHON_CONFIG /usr/bin/siphon --config /etc/siphon/siphon.yaml check ||
  fail "the shipped config fails siphon check as the siphon account"
printf 'state: sqlite:s.db\napps: []\n' > default-dirs.yaml
/usr/bin/siphon --config default-dirs.yaml plugins | grep -q "plugin folders: /usr/lib/$triplet/siphon/plugins" ||
  fail "the default plugin folder is not /usr/lib/$triplet/siphon/plugins"
# A plugin built out of tree against the installed siphon-dev (no prefix given).
cmake -S "$SRC_DIR/tests/install/hello_plugin" -B hello-build >/dev/null
cmake --build hello-build >/dev/null
mkdir -p run/plugins
cp hello-build/hello.so run/plugins/
chmod -R go-w run
printf '%s' helloworld > run/token
chmod 600 run/token
cat > run/siphon.yaml <<'YAML'
plugin_dirs: [plugins]
state: sqlite:state.db
sinks:
  - {name: out, type: file, path: events.jsonl}
apps:
  - {name: hi, type: hello_events, auth: {token: "${file:token}"}}
YAML
(cd run && /usr/bin/siphon once hi 2>/dev/null)
[ "$(wc -l < run/events.jsonl)" = 9 ] || fail "out-of-tree plugin: $(wc -l < run/events.jsonl) events, not 9"
# An edited conffile survives reinstalling.
echo "# edited by the deb test" >> /etc/siphon/siphon.yaml
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 </dev/null || { cat "$work/dpkg.log" >&2; fail "reinstall failed"; }
grep -q "edited by the deb test" /etc/siphon/siphon.yaml || fail "reinstall overwrote the edited config"
echo "deb test: installed: version, plugins, account, unit enabled not started, siphon-dev, conffile"

# Purge: the cursors stay unless asked.
touch /var/lib/siphon/state.db
dpkg --purge siphon-dev siphon >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "purge failed"; }
for f in /usr/bin/siphon /lib/systemd/system/siphon.service /etc/siphon \
  /etc/systemd/system/multi-user.target.wants/siphon.service /usr/include/siphon \
  /usr/lib/$triplet/siphon /usr/lib/$triplet/cmake/Siphon /etc/logrotate.d/siphon; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
[ -f /var/lib/siphon/state.db ] || fail "purge removed /var/lib/siphon (the cursors)"
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "second install failed"; }
SIPHON_PURGE_STATE=yes dpkg --purge siphon >"$work/dpkg.log" 2>&1 || fail "second purge failed"
[ ! -e /var/lib/siphon ] || fail "SIPHON_PURGE_STATE=yes purge kept /var/lib/siphon"
[ ! -e /var/lib/systemd/deb-systemd-helper-masked/siphon.service ] || fail "unit left masked"
installed_by_us=0
# What the test created and the packages document as kept: removed here.
if [ $had_user = 0 ]; then
  userdel siphon
  getent group siphon >/dev/null && groupdel siphon
fi
echo "deb test: purged cleanly (cursors kept unless SIPHON_PURGE_STATE=yes)"
