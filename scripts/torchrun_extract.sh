#!/usr/bin/env bash
# Extract a corpus on every GPU of this machine with torchrun, one shard per GPU, then merge.
#
#   scripts/torchrun_extract.sh MODEL CORPUS OUTPUT [neuroheat extract options...]
#
# torchrun starts NPROC workers (default: the number of visible GPUs, at least 1); each runs
# `neuroheat extract ... --shard auto`, which reads RANK/WORLD_SIZE for its shard and
# LOCAL_RANK for its GPU, and writes OUTPUT's shards next to it (acts.h5 ->
# acts-shard{rank}of{world}.h5). When all are done the shards are merged into OUTPUT
# (MERGE=copy, the default), mapped without copying (MERGE=virtual), or left (MERGE=none).
# Workers resume interrupted shards (--resume), so re-running the same command continues.
#
# Several nodes: set TORCHRUN_ARGS (replaces --standalone), e.g.
#   TORCHRUN_ARGS="--nnodes=2 --node-rank=$NODE --rdzv-backend=c10d --rdzv-endpoint=host0:29500"
# with MERGE=none on every node, and run `neuroheat merge OUTPUT 'acts-shard*of*.h5'` once
# all nodes are done (a node only waits for its own workers).
set -euo pipefail

if [[ $# -lt 3 ]]; then
    sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
model=$1 corpus=$2 output=$3
shift 3
PYTHON=${PYTHON:-python}
NPROC=${NPROC:-$($PYTHON -c 'import torch; print(max(1, torch.cuda.device_count()))')}
TORCHRUN=${TORCHRUN:-torchrun}
TORCHRUN_ARGS=${TORCHRUN_ARGS:---standalone}
MERGE=${MERGE:-copy}

dir=$(dirname "$output")
name=$(basename "$output")
stem=${name%.*}
ext=${name##*.}
[[ "$ext" == "$name" ]] && ext=h5
pattern="$dir/$stem-shard{shard}of{num_shards}.$ext"
mkdir -p "$dir"

# shellcheck disable=SC2086  # TORCHRUN_ARGS is a list of options
$TORCHRUN $TORCHRUN_ARGS --nproc-per-node="$NPROC" -m neuroheat extract \
    "$model" "$corpus" "$pattern" --shard auto --resume --device auto "$@"

case "$MERGE" in
    copy) $PYTHON -m neuroheat merge "$output" "$dir/$stem-shard*of$NPROC.$ext" --overwrite ;;
    virtual) $PYTHON -m neuroheat merge "$output" "$dir/$stem-shard*of$NPROC.$ext" --overwrite \
        --virtual ;;
    none) echo "shards: $dir/$stem-shard*of$NPROC.$ext" ;;
    *) echo "MERGE must be copy, virtual or none" >&2; exit 2 ;;
esac
