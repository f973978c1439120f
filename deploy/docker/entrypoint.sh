#!/bin/sh
# The container's entry point (Dockerfile, compose.yaml):
#   setup     bring the schema up to date; with DAILYPAPERS_LOAD_SAMPLE=1 and an empty store,
#             load the bundled sample of real papers and their vectors. Run once, before the rest.
#   serve     make this container's model files and search index (DATA_DIR is per container:
#             each app worker keeps its own copy of the derived index, docs/deploy.md), keep the
#             index caught up every DAILYPAPERS_INDEX_EVERY seconds (300) in the background, then
#             serve on 0.0.0.0:8000 with the arguments given.
#   anything else is a dailypapers command: schedule, status, digest send...
set -eu
sample=${DAILYPAPERS_SAMPLE_DIR:-/opt/dailypapers/sample}
role=${1:-serve}
[ $# -gt 0 ] && shift

case "$role" in
setup)
    dailypapers init
    papers=$(dailypapers stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["papers"])')
    if [ "${DAILYPAPERS_LOAD_SAMPLE:-0}" = 1 ] && [ "$papers" = 0 ]; then
        dailypapers import --quiet "$sample/hf_daily_papers.sample.jsonl.gz"
        dailypapers import --quiet "$sample/arxiv.sample.jsonl.gz"
        dailypapers vectors import "$sample/vectors.f16.npy" --ids "$sample/vectors.ids.txt"
    fi
    ;;
serve)
    dailypapers vectors export
    dailypapers index --quiet --no-embed
    every=${DAILYPAPERS_INDEX_EVERY:-300}
    (while sleep "$every"; do dailypapers index --quiet --no-embed || true; done) &
    exec dailypapers serve --host 0.0.0.0 --port "${DAILYPAPERS_PORT:-8000}" "$@"
    ;;
*)
    exec dailypapers "$role" "$@"
    ;;
esac
