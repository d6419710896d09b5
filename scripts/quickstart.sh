#!/usr/bin/env bash
# The README's main job: Multi30k En→De from raw text to a running translation server.
#   1. prepare Multi30k task 1 into data/multi30k (downloaded by URL; MULTI30K_FROM=DIR takes
#      local files train/val/test_2016_flickr.{en,de} instead, e.g. on a machine without internet)
#   2. train the small ResMLP (configs/mt/multi30k-en-de-small.json) for TRAIN_MINUTES of wall
#      time in total (default 20); a second run resumes the first and trains up to the new total
#   3. evaluate it on test_2016 (sacreBLEU and chrF, beam 4)
#   4. serve it on http://127.0.0.1:$PORT (default 8080): the page at /, POST /translate,
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
echo "== 1/4 Multi30k En-De → data/multi30k"
resmlp mt multi30k --out data/multi30k --src en --tgt de "${from[@]}"

echo "== 2/4 training for at most ${minutes} min in total (runs/multi30k-en-de-small; resumes if it exists)"
resmlp mt train --config configs/mt/multi30k-en-de-small.json --max-time "$(awk "BEGIN{print $minutes*60}")"

echo "== 3/4 test_2016 (beam 4)"
raw=${MULTI30K_FROM:-data/multi30k-raw}   # the original references, not the cleaned copies
resmlp mt eval --checkpoint runs/multi30k-en-de-small/checkpoint_best.safetensors \
  --src "$raw/test_2016_flickr.en" --ref "$raw/test_2016_flickr.de" --beam 4

echo "== 4/4 serving on http://${host}:${port}  (page: /, API: POST /translate, stream: /translate/stream)"
exec node dist/cli/main.js serve --config configs/serve/multi30k-en-de.json --port "$port" --host "$host"
