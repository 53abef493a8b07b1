#!/usr/bin/env bash
# The alert rules shipped in packaging/monitoring: valid for Prometheus
# (promtool check rules) and raising each alert exactly when they should
# (promtool test rules on siphon-alerts.test.yml).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
promtool="${PROMTOOL:-$(command -v promtool || echo /var/cache/siphon-tools/usr/bin/promtool)}"
if [ ! -x "$promtool" ]; then
  echo "check_alert_rules: promtool not found (scripts/setup unpacks it into /var/cache/siphon-tools)" >&2
  exit 1
fi
"$promtool" check rules "$here/../../packaging/monitoring/siphon-alerts.yml"
"$promtool" test rules "$here/siphon-alerts.test.yml"
