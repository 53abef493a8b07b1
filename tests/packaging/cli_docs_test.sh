#!/usr/bin/env bash
# The command line's documentation and completion agree with the binary:
# every command has its --help, its entry in `siphon --help` and in siphon(1);
# the built man page is what `siphon --man` writes; --option=VALUE works; the
# bash completion offers commands, options and the config's app names.
set -euo pipefail
SIPHON=$1
MAN=$2
COMPLETION=$3
fail() { echo "$*" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

help=$("$SIPHON" --help)
cmp -s <("$SIPHON" --man) "$MAN" || fail "$MAN differs from siphon --man (rebuild)"
mapfile -t commands < <("$SIPHON" __complete commands)
[ ${#commands[@]} -ge 8 ] || fail "only ${#commands[@]} commands listed"
for c in "${commands[@]}"; do
  grep -q "^  $c" <<<"$help" || fail "siphon --help lacks $c"
  grep -q "^\.B $(sed 's/-/\\\\-/g' <<<"$c")" "$MAN" || fail "siphon(1) lacks $c"
  # shellcheck disable=SC2086
  out=$("$SIPHON" $c --help) || fail "siphon $c --help failed"
  grep -q "^usage: siphon .* $c" <<<"$out" || fail "siphon $c --help: $out"
done
for opt in --config --log-level --version; do
  grep -qF -- "${opt//-/\\-}" "$MAN" || fail "siphon(1) lacks $opt"
done
if "$SIPHON" nosuch --help >/dev/null 2>&1; then fail "nosuch --help succeeded"; fi
[ "$("$SIPHON" state --help | grep -c '^usage: siphon')" = 3 ] || fail "siphon state --help: not its 3 commands"

# --option=VALUE is --option VALUE.
mkdir "$work/plugins"
cat > "$work/siphon.yaml" <<'YAML'
plugin_dirs: [plugins]
state: sqlite:state.db
sinks:
  - {name: out, type: stdout}
include: [conf.d/*.yaml]
apps: []
YAML
mkdir "$work/conf.d"
printf 'apps:\n  - {name: corp-alpha, type: fake_alpha}\n' > "$work/conf.d/a.yaml"
printf 'apps:\n  - {name: corp-beta, type: fake_alpha}\n' > "$work/conf.d/b.yaml"
"$SIPHON" --config="$work/siphon.yaml" plugins | grep -q "plugin folders: $work/plugins" ||
  fail "--config=FILE was not taken"
set +e
"$SIPHON" --config="$work/siphon.yaml" --log-level=loud plugins 2>/dev/null; rc=$?
"$SIPHON" --config="$work/siphon.yaml" plugins --json=yes 2>/dev/null; rc2=$?
set -e
[ $rc = 2 ] || fail "--log-level=loud: exit $rc, not 2"
[ $rc2 = 2 ] || fail "--json=yes: exit $rc2, not 2"

# Completion, as bash runs it.
complete_line() {
  bash -c '
    source /usr/share/bash-completion/bash_completion
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _siphon
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMPLETION" "$@"
}
[ "$(complete_line "$SIPHON" st)" = state ] || fail "siphon st<TAB>: $(complete_line "$SIPHON" st)"
[ "$(complete_line "$SIPHON" state "")" = "$(printf 'migrate\nreset\nshow')" ] ||
  fail "siphon state <TAB>: $(complete_line "$SIPHON" state "")"
got=$(complete_line "$SIPHON" --config "$work/siphon.yaml" once "")
[ "$got" = "$(printf 'corp-alpha\ncorp-beta')" ] || fail "siphon once <TAB>: $got"
got=$(complete_line "$SIPHON" "--config=$work/siphon.yaml" state reset corp-b)
[ "$got" = corp-beta ] || fail "siphon state reset corp-b<TAB>: $got"
got=$(complete_line "$SIPHON" check --)
for o in --json --allow-refused --sinks --config; do
  grep -qx -- "$o" <<<"$got" || fail "siphon check --<TAB> lacks $o: $got"
done
echo "help, man page and completion agree with the binary"
