#!/usr/bin/env bash
# Runs one oomguard scenario as a CI gate and publishes its Markdown summary.
#
#   scripts/memory-gate.sh [SCENARIO] [OUT_DIR] [-- extra loadtest args]
#
# Exit status is loadtest's: 0 pass, 1 a gate failed, 2 bad scenario, 3 could not run.
# On GitHub Actions the summary is appended to $GITHUB_STEP_SUMMARY.
set -euo pipefail

scenario=${1:-scenarios/pr-gate.toml}
out=${2:-target/oomguard/$(basename "${scenario}" .toml)}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift

cd "$(dirname "$0")/.."

loadtest=${LOADTEST_BIN:-target/debug/loadtest}
if [ ! -x "${loadtest}" ]; then
  cargo build -p loadtest
fi

# A real memory cgroup needs root: on a runner without it, use sudo when it asks no password.
runner=()
if [ "$(id -u)" -ne 0 ] && sudo -n true 2>/dev/null; then
  # shellcheck disable=SC2054 # --preserve-env takes a comma-separated list
  runner=(sudo -n --preserve-env=PATH,HOME,CARGO_HOME,RUSTUP_HOME,OOMGUARD_SERVICE_BIN)
fi

# 1000 per-movie clients need 1000+ sockets.
ulimit -n 65536 2>/dev/null || true

status=0
"${runner[@]}" "${loadtest}" --no-progress run "${scenario}" --out "${out}" "$@" || status=$?

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "${out}/summary.md" ]; then
  cat "${out}/summary.md" >> "${GITHUB_STEP_SUMMARY}"
fi
if [ "${#runner[@]}" -gt 0 ]; then
  sudo -n chown -R "$(id -u):$(id -g)" "${out}" || true
fi
exit "${status}"
