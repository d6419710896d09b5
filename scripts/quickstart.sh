#!/usr/bin/env bash
# The README's main job: Multi30k En→De from raw text to a running translation server.
#   1. prepare Multi30k task 1 into data/multi30k (downloaded by URL; MULTI30K_FROM=DIR takes
#      local files train/val/test_2016_flickr.{en,de} instead, e.g. on a machine without internet)
#   2. train the small ResMLP (configs/mt/multi30k-en-de-small.json) within TRAIN_MINUTES of wall
#      time (default 20) in runs/multi30k-en-de-small-<minutes>min: the number of updates and the
#      LR schedule are fitted to the budget, so the same TRAIN_MINUTES again resumes an interrupted
#      run and another TRAIN_MINUTES trains a new run in its own folder
#   3. average the run's last (up to 5) checkpoints (`mt average`), tune the length penalty of the
#      best and of the average on the validation set (`mt tune`), keep the better of the two
#      and write serve.json in the run folder naming it
#   4. evaluate it on test_2016 (sacreBLEU and chrF, beam 4)
#   5. serve it on http://127.0.0.1:$PORT (default 8080): the page at /, POST /translate,
#      WebSocket /translate/stream; Ctrl-C (SIGINT/SIGTERM) stops it gracefully
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${TRAIN_MINUTES:-20}
port=${PORT:-8080}
host=${HOST:-127.0.0.1}
case "$minutes" in ''|*[!0-9.]*) echo "quickstart: TRAIN_MINUTES must be a number of minutes, got '$minutes'" >&2; exit 2 ;; esac
resmlp() { node dist/cli/main.js "$@"; }

from=()
[ -n "${MULTI30K_FROM:-}" ] && from=(--from "$MULTI30K_FROM")
echo "== 1/5 Multi30k En-De → data/multi30k"
resmlp mt multi30k --out data/multi30k --src en --tgt de "${from[@]}"

run=runs/multi30k-en-de-small-${minutes}min
echo "== 2/5 training within ${minutes} min ($run; resumes if it exists)"
resmlp mt train --config configs/mt/multi30k-en-de-small.json --out "$run" --time-budget "$(awk "BEGIN{print $minutes*60}")"

echo "== 3/5 checkpoint averaging and length penalty, chosen on validation (data/multi30k/valid)"
candidates=(best)
n=$(find "$run" -maxdepth 1 -name 'checkpoint_[0-9]*.safetensors' | wc -l)
last=$(( n < 5 ? n : 5 ))
if [ "$last" -ge 2 ]; then
  resmlp mt average --run "$run" --last "$last" --out "$run/checkpoint_avg.safetensors"
  candidates+=(avg)
fi
chosen=""; chosen_bleu=-1
for c in "${candidates[@]}"; do
  bleu=$(resmlp mt tune --checkpoint "$run/checkpoint_$c.safetensors" --out "$run/checkpoint_${c}_tuned.safetensors" \
    --src data/multi30k/valid.src.txt --ref data/multi30k/valid.tgt.txt --lenpen 0.8,1,1.3,1.6,2 --beam 4 --json |
    tail -n 1 | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).best.bleu))')
  echo "   $c: validation BLEU $bleu with its tuned length penalty"
  if awk "BEGIN{exit !($bleu > $chosen_bleu)}"; then chosen=$c; chosen_bleu=$bleu; fi
done
ckpt="$run/checkpoint_${chosen}_tuned.safetensors"
printf '{\n  "extends": "../../configs/serve/multi30k-en-de.json",\n  "models": { "en-de": { "checkpoint": "%s" } }\n}\n' "$ckpt" > "$run/serve.json"
echo "   serving and evaluating $ckpt"

echo "== 4/5 test_2016 (beam 4)"
raw=${MULTI30K_FROM:-data/multi30k-raw}   # the original references, not the cleaned copies
resmlp mt eval --checkpoint "$ckpt" \
  --src "$raw/test_2016_flickr.en" --ref "$raw/test_2016_flickr.de" --beam 4

echo "== 5/5 serving on http://${host}:${port}  (page: /, API: POST /translate, stream: /translate/stream)"
exec node dist/cli/main.js serve --config "$run/serve.json" --port "$port" --host "$host"
