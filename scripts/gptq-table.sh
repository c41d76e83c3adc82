#!/usr/bin/env bash
# Issue "GPTQ-PB quantizer": PB-LLM's settings on SmolLM2 (calibration: 32 windows of 1024 tokens
# of the shared calibration text, seed 0; xnor, high_bit 8), evaluated with the reference protocol
# (WikiText-2 test, 16 windows of 2048; the PB layers dequantized to float, as PB-LLM evaluates, so
# the table measures the quantizer alone). Prints a markdown table with quantization time and peak RSS.
# Rows: GPTQ with Hessian saliency at each LOW_FRAC, the same with our binarization-error saliency
# (--salient error), then error saliency with our per-column scales (--column-scale), then at 0.9
# GPTQ with magnitude saliency and
# round-to-nearest with magnitude saliency (FULL=1: those two at every LOW_FRAC).
# Usage: scripts/gptq-table.sh [LOW_FRAC ...]   (default: 0.5 0.8 0.9 0.95)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bin=.build/release/pbllm-run
text=../shared/data/wikitext-2-raw-test.txt
calib=../shared/data/calibration-groups-merged.txt
out=${OUT:-/tmp/pbllm-gptq}; mkdir -p "$out"
fracs=("$@"); [ ${#fracs[@]} -gt 0 ] || fracs=(0.5 0.8 0.9 0.95)

ppl() { "$bin" perplexity -m "$1" -f "$text" --ctx 2048 --windows 16 --dequantize --json 2>/dev/null | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["ppl"])'; }
# convert NAME ARGS...: converts once, recording wall time (minutes) and peak RSS (MiB).
convert() {
    local name=$1; shift
    if [ ! -f "$out/$name.pbllm" ]; then
        /usr/bin/time -f "%e %M" -o "$out/$name.time" "$bin" convert smollm2-135m -o "$out/$name.pbllm" \
            --method xnor --high-bit 8 --report "$out/$name.json" "$@" 2>"$out/$name.log"
    fi
    read -r seconds kb < "$out/$name.time"
    printf "%.1f | %.0f" "$(python3 -c "print($seconds/60)")" "$(python3 -c "print($kb/1024)")"
}

echo "| salient | low_frac | GPTQ | ppl | quantize minutes | peak RSS MiB |"
echo "|---|---:|---|---:|---:|---:|"
row() {  # row SALIENT LOW_FRAC gptq|rtn [column-scale]
    local name="$3-$1-$2${4:+-$4}" args=(--salient "$1" --low-frac "$2") label=$1
    if [ "$3" = gptq ]; then args+=(--calib "$calib" --nsamples 32 --seqlen 1024 --seed 0); else args+=(--no-gptq); fi
    if [ "${4:-}" = column-scale ]; then args+=(--column-scale); label="$1 + column scales"; fi
    local t; t=$(convert "$name" "${args[@]}")
    echo "| $label | $2 | $([ "$3" = gptq ] && echo yes || echo "no (round-to-nearest)") | $(ppl "$out/$name.pbllm") | $t |"
}
for f in "${fracs[@]}"; do row hessian "$f" gptq; done
for f in "${fracs[@]}"; do row error "$f" gptq; done
for f in "${fracs[@]}"; do row error "$f" gptq column-scale; done
for f in "${fracs[@]}"; do
    if [ "${FULL:-0}" = 1 ] || [ "$f" = 0.9 ]; then row magnitude "$f" gptq; row magnitude "$f" rtn; fi
done
