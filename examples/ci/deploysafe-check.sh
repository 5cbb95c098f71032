#!/bin/sh
# deploysafe in any CI (GitLab, Jenkins, Buildkite, a pre-push hook): exit 1 when the deploy would be
# blocked, 2 when deploysafe could not run, 0 when the service will load.
#
#   examples/ci/deploysafe-check.sh [SERVICE_DIR]        (default: the current folder)
#
# Writes deploysafe.sarif, deploysafe.json and deploysafe.html (the dependency map) to $DEPLOYSAFE_OUT
# (default: the current folder) for the CI to keep, and prints the text report.
# DEPLOYSAFE: what pip installs when no deploysafe is on PATH (default: deploysafe).
set -u

service=${1:-.}
out=${DEPLOYSAFE_OUT:-.}

if ! command -v deploysafe >/dev/null 2>&1; then
  venv="${TMPDIR:-/tmp}/deploysafe-venv"
  python3 -m venv "$venv" && "$venv/bin/python" -m pip install --quiet "${DEPLOYSAFE:-deploysafe}" || exit 2
  PATH="$venv/bin:$PATH"
fi

# deploysafe reads the installed packages (exports, versions): install them as CI would.
if [ -f "$service/package-lock.json" ] && [ ! -d "$service/node_modules" ]; then
  (cd "$service" && npm ci --ignore-scripts --no-audit --no-fund) || exit 2
fi

mkdir -p "$out" || exit 2
# One run writes the three reports and prints the text one; exit 2 means deploysafe said why on stderr.
deploysafe check "$service" --output "$out/deploysafe.sarif" --output "$out/deploysafe.json" \
  --output "$out/deploysafe.html"
exit $?
