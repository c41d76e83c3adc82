#!/usr/bin/env bash
# Installs what pbllm needs on a Debian machine and fetches the models of models.txt.
# Idempotent: installed packages and verified model files are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenblas-dev libzstd-dev pkg-config hyperfine)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 scripts/fetch-models.py "$@"
