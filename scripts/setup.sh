#!/usr/bin/env bash
# One command from a fresh Debian machine to a running model: installs the C libraries and the
# models, builds pbllm in release mode, then runs the default model on a chat prompt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

scripts/install-deps.sh
swift build -c release --product pbllm-run
bin=.build/release/pbllm-run

echo "== SmolLM2-135M-Instruct (float), greedy:" >&2
$bin run -m smollm2-135m --temp 0 -n 64 \
    -p $'<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n'
