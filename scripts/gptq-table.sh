#!/usr/bin/env bash
# Issue "GPTQ-PB quantizer": PB-LLM's settings on SmolLM2 (calibration: 32 windows of 1024 tokens
# of the shared calibration text, seed 0; xnor, high_bit 8), evaluated with the reference protocol
# (WikiText-2 test, 16 windows of 2048). Prints a markdown table with quantization time and peak RSS.
# Usage: scripts/gptq-table.sh [LOW_FRAC ...]   (default: 0.5 0.8 0.9 0.95)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bin=.build/release/pbllm-run
text=../shared/data/wikitext-2-raw-test.txt
calib=../shared/data/calibration-groups-merged.txt
out=${OUT:-/tmp/pbllm-gptq}; mkdir -p "$out"
fracs=("$@"); [ ${#fracs[@]} -gt 0 ] || fracs=(0.5 0.8 0.9 0.95)

ppl() { "$bin" perplexity -m "$1" -f "$text" --ctx 2048 --windows 16 --json 2>/dev/null | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["ppl"])'; }
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
for f in "${fracs[@]}"; do
    for salient in hessian magnitude; do
        t=$(convert "gptq-$salient-$f" --salient "$salient" --low-frac "$f" --calib "$calib" --nsamples 32 --seqlen 1024 --seed 0)
        echo "| $salient | $f | yes | $(ppl "$out/gptq-$salient-$f.pbllm") | $t |"
    done
    t=$(convert "rtn-magnitude-$f" --salient magnitude --low-frac "$f" --no-gptq)
    echo "| magnitude | $f | no (round-to-nearest) | $(ppl "$out/rtn-magnitude-$f.pbllm") | $t |"
done
