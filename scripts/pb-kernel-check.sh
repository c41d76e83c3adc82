#!/usr/bin/env bash
# Issue "packed PB format": round-to-nearest PB conversions of SmolLM2 evaluated twice — on the
# sign-bit kernels and dequantized back to float (--dequantize) — beside the float model, with the
# reference protocol (WikiText-2 test, 16 windows of 2048). Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bin=.build/release/pbllm-run
text=../shared/data/wikitext-2-raw-test.txt
out=${OUT:-/tmp/pbllm-check}; mkdir -p "$out"
ppl() { "$bin" perplexity "$@" -f "$text" --ctx 2048 --windows 16 --json 2>/dev/null | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["ppl"])'; }

echo "| model | kernels | dequantized to float | packed / float |"
echo "|---|---:|---:|---:|"
if [ "${SKIP_FLOAT:-0}" != 1 ]; then f=$(ppl -m smollm2-135m); echo "| float (Q4_1 GGUF dequantized) | $f | $f | 1 |"; fi
for frac in 0.5 0.9; do
    file="$out/smollm2-xnor-rtn-$frac.pbllm"
    [ -f "$file" ] || "$bin" convert smollm2-135m -o "$file" --method xnor --low-frac "$frac" --high-bit 8 --salient magnitude --no-gptq 2>/dev/null
    a=$(ppl -m "$file"); b=$(ppl -m "$file" --dequantize)
    echo "| PB xnor RTN low_frac $frac | $a | $b | $(python3 -c "print('%.4f' % ($a/$b))") |"
done
