#!/usr/bin/env bash
# Writes the "Real processes" section of docs/faults.md from the cells the fault ITs recorded in a
# test run (app/target/fault-matrix.tsv: phase, fault, outcome, test; see app's FaultRecord). A cell
# is written only by a test that checked the end state, so the section shows what a run proved,
# nothing more. The phase × fault tables above it are the controller's FaultMatrixTest's; they are
# kept as they are. Usage: scripts/fault-matrix.sh [TSV] [OUT]
set -euo pipefail

tsv=${1:-app/target/fault-matrix.tsv}
out=${2:-docs/faults.md}
[ -s "$tsv" ] || { printf 'fault-matrix: no cells in %s; run the fault tests first\n' "$tsv" >&2; exit 1; }

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if [ -f "$out" ]; then awk '/^## Real processes$/ { exit } { print }' "$out" > "$tmp"; fi
{
  printf '## Real processes\n\n'
  printf 'Written by `scripts/fault-matrix.sh` from the fault ITs of one run (%s).\n' "$(date -u +%Y-%m-%d)"
  printf 'Each row: the migration phase a fault hit, the fault injected into real processes, the end state\n'
  printf 'the test checked (VM on exactly one host, inventory matching, guest self-checks clean, no lock,\n'
  printf 'no QEMU or image leaked), and the test that proves it.\n\n'
  printf '| phase | fault | outcome | test |\n|---|---|---|---|\n'
  sort -u "$tsv" | awk -F '\t' '{ printf "| %s | %s | %s | `%s` |\n", $1, $2, $3, $4 }'
} >> "$tmp"
cp "$tmp" "$out"
printf 'fault-matrix: wrote %s (%s cells)\n' "$out" "$(sort -u "$tsv" | wc -l)" >&2
