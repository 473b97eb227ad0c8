#!/usr/bin/env bash
# Extract a corpus's activations with a SLURM job array, one shard per task, then merge.
#
#   MODEL=bert-base-cased CORPUS=corpus.txt OUTDIR=acts SHARDS=8 scripts/slurm_extract.sh
#
# Run on a login node, it submits an array of $SHARDS tasks (the #SBATCH lines below: one GPU
# each; edit them for your cluster) and a merge job that starts when every task succeeded.
# Task t runs `neuroheat extract ... --shard auto --resume`: the shard comes from
# SLURM_ARRAY_TASK_ID/COUNT, and a requeued or preempted task continues where it stopped.
# The merge writes $OUTDIR/acts.h5 (MERGE_ARGS=--virtual maps the shards instead of copying).
#
# Environment: MODEL, CORPUS, OUTDIR (required); SHARDS (default 4); EXTRACT_ARGS (more
# `neuroheat extract` options, e.g. "--layers 0-12 --aggregation average"); MERGE_ARGS;
# NEUROHEAT (command, default `neuroheat`). Modes: submit (default outside SLURM), task
# (default inside an array task), merge.
#
#SBATCH --job-name=neuroheat-extract
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --mem=32G
#SBATCH --time=12:00:00
#SBATCH --requeue
#SBATCH --output=neuroheat-%A_%a.out
set -euo pipefail

: "${MODEL:?set MODEL (Hub id cached offline, or a model directory)}"
: "${CORPUS:?set CORPUS (text file, one sentence per line)}"
: "${OUTDIR:?set OUTDIR (directory for the shards and the merged store)}"
NEUROHEAT=${NEUROHEAT:-neuroheat}
SHARDS=${SHARDS:-4}
EXTRACT_ARGS=${EXTRACT_ARGS:-}
MERGE_ARGS=${MERGE_ARGS:-}

mode=${1:-}
if [[ -z "$mode" ]]; then
    if [[ -n "${SLURM_ARRAY_TASK_ID:-}" ]]; then mode=task; else mode=submit; fi
fi

case "$mode" in
    submit)
        mkdir -p "$OUTDIR"
        self=$(readlink -f "${BASH_SOURCE[0]}")
        array=$(sbatch --parsable --array="0-$((SHARDS - 1))" --export=ALL "$self" task)
        array=${array%%;*}
        merge=$(sbatch --parsable --dependency="afterok:$array" --job-name=neuroheat-merge \
            --gres=none --cpus-per-task=1 --time=02:00:00 --export=ALL "$self" merge)
        echo "submitted extraction array $array ($SHARDS tasks) and merge job ${merge%%;*}"
        ;;
    task)
        mkdir -p "$OUTDIR"
        # shellcheck disable=SC2086  # EXTRACT_ARGS is a list of options
        $NEUROHEAT extract "$MODEL" "$CORPUS" "$OUTDIR/acts-shard{shard}of{num_shards}.h5" \
            --shard auto --resume --quiet $EXTRACT_ARGS
        ;;
    merge)
        # shellcheck disable=SC2086
        $NEUROHEAT merge "$OUTDIR/acts.h5" "$OUTDIR/acts-shard*of*.h5" --overwrite $MERGE_ARGS
        ;;
    *)
        echo "usage: $0 [submit|task|merge]" >&2
        exit 2
        ;;
esac
