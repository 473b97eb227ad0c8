#!/usr/bin/env bash
# Build the wheel with `python -m build`, install it into a fresh venv (torch CPU first), and
# run `neuroheat demo` from outside the source tree. Usage: bash scripts/check_wheel.sh [DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip build
"$work/venv/bin/python" -m build --wheel --outdir "$work/dist" "$root" >/dev/null
"$work/venv/bin/pip" install -q torch==2.13.0
"$work/venv/bin/pip" install -q "$(ls "$work"/dist/neuroheat-*.whl)[demo]"
cd "$work"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$work/venv/bin/neuroheat" demo "$work/demo_output"
ls "$work/demo_output"
