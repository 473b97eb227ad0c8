"""Deterministic sentence shards: ``--shard I/N`` splits the corpus into N contiguous ranges.

A shard is given explicitly (``(i, n)`` or ``"i/n"``) or detected with ``"auto"`` from the
launcher's environment:

- torchrun / ``torch.distributed``: ``RANK`` and ``WORLD_SIZE``;
- SLURM job arrays: ``SLURM_ARRAY_TASK_ID`` with ``SLURM_ARRAY_TASK_COUNT`` or
  ``SLURM_ARRAY_TASK_MIN``/``SLURM_ARRAY_TASK_MAX`` (and ``SLURM_ARRAY_TASK_STEP``);
- ``srun`` tasks (``SLURM_PROCID``/``SLURM_STEP_NUM_TASKS``, set by ``srun`` only: a batch
  script of a multi-task job runs one process and must not take a fraction) when torchrun
  variables are absent.

Several levels combine: in a SLURM array whose tasks each run torchrun with W workers, task t
and rank r form shard ``t * W + r`` of ``T * W``.

**Balanced shards.** The corpus is cut into ``plan_shards`` *parts* of about equal weight
(the bytes of each line plus one: a proxy for tokens that needs no tokenizer, only the line
index; see :func:`balanced_cuts`), every part non-empty when there are at least as many
sentences as parts; shard ``i`` of ``N`` takes parts ``[i*P//N, (i+1)*P//N)``. ``plan_shards``
defaults to the number of shards, so each shard is one part.

**Why merged shards equal one process, to the bit.** A batched forward pass is only
reproducible to the last bit when it sees the *same batch*: BLAS kernels and attention change
their summation order with the batch shape. neuroheat therefore sorts and batches sentences
inside fixed *plan blocks*: each part is split into blocks of ``plan_block`` sentences from its
first sentence, and batches never cross a block. A shard then runs exactly the forward passes
that a single process with the same ``plan_shards`` and ``plan_block`` runs for its sentences,
so merged shards are bitwise equal to that single run. Both settings are recorded in the store
(match fields: resume and merge check them).

Example:
    >>> spec = resolve_shard((1, 4), np.arange(11))     # 10 sentences of equal weight
    >>> spec.start, spec.stop
    (2, 5)
    >>> balanced_cuts(np.array([0, 100, 101, 102, 103]), 4).tolist()  # one long line
    [0, 1, 2, 3, 4]
    >>> block_edges([0, 10], 4)
    [0, 4, 8, 10]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError

log = logging.getLogger(__name__)

ShardSpec = tuple[int, int] | str | None

# Plan block size, measured on pydoc sentences with MiniLM's tokenizer (padded / real tokens at
# batch_tokens=4096): one global pool 1.08, blocks of 4096 1.08, 1024 1.20, 256 1.49. Small
# pools pad more, so blocks are at least 1024 sentences (a corpus of up to 1024 sentences is
# planned exactly as before, in one pool) and grow to 4096 for big corpora.
PLAN_BLOCK_MIN = 1024
PLAN_BLOCK_MAX = 4096
PLAN_BLOCKS_TARGET = 64   # aim for at least this many blocks, so up to 64 shards stay balanced
PLAN_BLOCK_ENV = "NEUROHEAT_PLAN_BLOCK"  # override, e.g. to shard a small corpus


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``: sentences ``start:stop``, made of the plan parts whose
    edges are ``parts`` (corpus sentence numbers, ``parts[0] == start``)."""

    index: int
    count: int
    start: int
    stop: int
    parts: tuple[int, ...] = ()

    def output_path(self, path: str | os.PathLike) -> Path:
        """The output of this shard.

        ``{shard}`` and ``{num_shards}`` in the path are replaced by the shard index and
        count; without them a ``-shard{I}of{N}`` suffix goes before the extension (nothing
        changes for a single shard).
        """
        text = str(path)
        if "{shard}" in text or "{num_shards}" in text:
            return Path(text.replace("{shard}", str(self.index))
                        .replace("{num_shards}", str(self.count)))
        path = Path(text)
        if self.count == 1:
            return path
        return path.with_name(f"{path.stem}-shard{self.index}of{self.count}{path.suffix}")


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InputError(f"environment variable {name}={value!r} is not an integer; fix the "
                         "launcher or pass --shard I/N explicitly") from None


def _slurm_array(env: Mapping[str, str]) -> tuple[int, int] | None:
    task = _env_int(env, "SLURM_ARRAY_TASK_ID")
    if task is None:
        return None
    lo, hi = _env_int(env, "SLURM_ARRAY_TASK_MIN"), _env_int(env, "SLURM_ARRAY_TASK_MAX")
    step = _env_int(env, "SLURM_ARRAY_TASK_STEP") or 1
    count = _env_int(env, "SLURM_ARRAY_TASK_COUNT")
    lo = 0 if lo is None else lo
    if count is None:
        if hi is None:
            raise InputError("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor "
                             "SLURM_ARRAY_TASK_MIN/MAX are; pass --shard I/N explicitly")
        count = (hi - lo) // step + 1
    index, rem = divmod(task - lo, step)
    if rem or not 0 <= index < count:
        raise InputError(
            f"SLURM array task {task} is not one of {count} evenly spaced tasks starting at "
            f"{lo}; submit a contiguous array such as --array=0-{count - 1}, or pass --shard I/N")
    return index, count


def _workers(env: Mapping[str, str]) -> tuple[int, int] | None:
    for rank_var, size_var in (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS")):
        rank, size = _env_int(env, rank_var), _env_int(env, size_var)
        if rank is not None and size is not None:
            if size < 1 or not 0 <= rank < size:
                raise InputError(f"{rank_var}={rank} is out of range for {size_var}={size}")
            return rank, size
    return None


def detect_shard(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``(index, count)`` from torchrun / SLURM variables; ``(0, 1)`` when none are set.

    Example:
        >>> detect_shard({"RANK": "1", "WORLD_SIZE": "4"})
        (1, 4)
        >>> detect_shard({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1",
        ...               "SLURM_ARRAY_TASK_MAX": "4"})
        (2, 4)
    """
    env = os.environ if env is None else env
    index, count = 0, 1
    found = []
    for name, level in (("SLURM array", _slurm_array(env)), ("workers", _workers(env))):
        if level is not None:
            index, count = index * level[1] + level[0], count * level[1]
            found.append(name)
    if not found:
        log.info("--shard auto: no torchrun or SLURM variables found; running one shard")
    return index, count


def parse_shard(spec: ShardSpec, env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``(index, count)`` from ``(i, n)``, ``"i/n"`` or ``"auto"``; ``None`` means one shard."""
    if spec is None:
        return 0, 1
    if isinstance(spec, str):
        if spec.strip().lower() == "auto":
            return detect_shard(env)
        try:
            i_text, n_text = spec.split("/")
            index, count = int(i_text), int(n_text)
        except ValueError:
            raise InputError(f"shard {spec!r} is not of the form I/N (e.g. 0/4) or auto") from None
    else:
        try:
            index, count = (int(x) for x in spec)
        except (TypeError, ValueError):
            raise InputError(f"shard {spec!r} must be (index, count), 'I/N' or 'auto'") from None
    if count < 1 or not 0 <= index < count:
        raise InputError(f"shard {index}/{count} is out of range: use 0 <= I < N")
    return index, count


# Variables that say how many processes a launcher started; without --shard each of them would
# extract the whole corpus into the same file.
LAUNCHER_COUNTS = ("WORLD_SIZE", "SLURM_ARRAY_TASK_COUNT", "SLURM_STEP_NUM_TASKS",
                   "SLURM_NTASKS")


def default_shard(env: Mapping[str, str] | None = None) -> ShardSpec:
    """The shard to use when none is given: ``"auto"`` when a launcher started several
    processes (logged), else None (one process, the whole corpus).

    Example:
        >>> default_shard({"RANK": "1", "WORLD_SIZE": "2"}), default_shard({})
        ('auto', None)
    """
    env = os.environ if env is None else env
    several = {name: n for name in LAUNCHER_COUNTS if (n := _env_int(env, name) or 1) > 1}
    if not several:
        return None
    index, count = detect_shard(env)
    said = ", ".join(f"{k}={v}" for k, v in several.items())
    if count == 1:
        if "SLURM_NTASKS" in several and len(several) == 1:  # a batch script: one process
            return None
        raise InputError(f"{said} say several processes run, but which one this is is not "
                         "set (RANK / SLURM_ARRAY_TASK_ID / SLURM_PROCID); pass --shard I/N")
    log.warning("no --shard given but %s: extracting shard %d/%d (as --shard auto); pass "
                "--shard I/N to choose", said, index, count)
    return "auto"


def plan_block(num_sentences: int, override: int | None = None) -> int:
    """Sentences per plan block for a corpus of ``num_sentences``.

    ``override`` (or the ``NEUROHEAT_PLAN_BLOCK`` environment variable) sets it; otherwise it
    depends on the corpus size only, so every shard and a single run agree on it.

    Example:
        >>> plan_block(500), plan_block(200_000), plan_block(10**7), plan_block(500, 16)
        (1024, 3125, 4096, 16)
    """
    if override is None:
        override = _env_int(os.environ, PLAN_BLOCK_ENV)
    if override is not None:
        if int(override) < 1:
            raise InputError(f"plan block must be a positive number of sentences, got {override}")
        return int(override)
    target = -(-int(num_sentences) // PLAN_BLOCKS_TARGET)
    return int(min(PLAN_BLOCK_MAX, max(PLAN_BLOCK_MIN, target)))


def balanced_cuts(bounds: np.ndarray, parts: int) -> np.ndarray:
    """Sentence numbers ``[parts + 1]`` cutting a corpus into parts of about equal weight.

    ``bounds`` are cumulative sentence weights (``[num_sentences + 1]``, strictly increasing,
    e.g. a line index's byte offsets). Each cut is the sentence boundary nearest to its share
    of the total; then cuts are pushed apart so that every part holds at least one sentence
    when there are at least ``parts`` sentences (a part is never empty because of one long
    line). Only ``parts`` binary searches: a memory-mapped index is barely touched.

    Example:
        >>> balanced_cuts(np.array([0, 10, 20, 30, 40]), 2).tolist()
        [0, 2, 4]
    """
    n = len(bounds) - 1
    if parts < 1:
        raise InputError(f"cannot cut a corpus into {parts} parts")
    lo, total = int(bounds[0]), int(bounds[-1]) - int(bounds[0])
    targets = lo + (total * np.arange(parts + 1, dtype=np.int64)) // parts
    k = np.searchsorted(bounds, targets, side="left").clip(0, n)
    prev = (k - 1).clip(0, n)
    nearer = (k > 0) & (targets - np.asarray(bounds[prev]) <= np.asarray(bounds[k]) - targets)
    k = np.where(nearer, prev, k)
    k[0], k[-1] = 0, n
    if n >= parts:
        i = np.arange(parts + 1)
        k = np.minimum(np.maximum.accumulate(k - i), n - parts) + i
    return k.astype(np.int64)


def resolve_shard(spec: ShardSpec, bounds: np.ndarray, *, parts: int | None = None,
                  env: Mapping[str, str] | None = None) -> Shard:
    """The sentence range of a shard of the corpus with cumulative weights ``bounds``.

    The corpus is cut into ``parts`` balanced parts (default: the shard count; at least the
    shard count) and shard ``i`` of ``n`` takes parts ``[i*P//n, (i+1)*P//n)``. No shard is
    empty when the corpus has at least ``P`` sentences.

    Example:
        >>> resolve_shard("1/2", np.array([0, 10, 20, 30, 40]), parts=4).parts
        (2, 3, 4)
    """
    index, count = parse_shard(spec, env)
    parts = count if parts is None else int(parts)
    if parts < count:
        raise InputError(f"plan_shards {parts} is less than the {count} shards: each shard "
                         "needs at least one plan part; use --plan-shards {count} or more")
    cuts = balanced_cuts(bounds, parts)
    a, b = index * parts // count, (index + 1) * parts // count
    start, stop = int(cuts[a]), int(cuts[b])
    if count > 1 and start == stop:
        log.warning("shard %d/%d has no sentences: the corpus has only %d", index, count,
                    len(bounds) - 1)
    return Shard(index, count, start, stop, tuple(int(c) for c in cuts[a:b + 1]))


def block_edges(parts: Sequence[int], block: int) -> list[int]:
    """Plan block boundaries inside consecutive parts with edges ``parts``: each part is cut
    every ``block`` sentences from its own first sentence.

    Example:
        >>> block_edges([0, 5, 9], 3)
        [0, 3, 5, 8, 9]
    """
    block = max(1, int(block))
    edges = [int(parts[0])]
    for a, b in zip(parts[:-1], parts[1:], strict=True):
        edges.extend(range(int(a) + block, int(b), block))
        if int(b) > edges[-1]:
            edges.append(int(b))
    return edges


def plan_in_blocks(encoded: Sequence[Any], *, start: int, block: int,
                   parts: Sequence[int] | None = None, **plan_kwargs: Any) -> list[Any]:
    """Plan units inside each plan block, so any shard of whole parts replays the same batches.

    ``encoded`` holds the sentences ``start, start+1, ...`` of the corpus; ``parts`` are the
    edges of the plan parts it covers (default: one part from sentence 0, so blocks start at
    multiples of ``block``). Keyword arguments go to ``plan_units``.
    """
    from neuroheat.extract.plan import plan_units

    block = max(1, int(block))
    stop = start + len(encoded)
    if parts is None:
        cuts = [start] + list(range((start // block + 1) * block, stop, block)) + [stop]
    else:
        if int(parts[0]) != start or int(parts[-1]) != stop:
            raise ValueError(f"parts {parts[0]}..{parts[-1]} do not span {start}..{stop}")
        cuts = block_edges(parts, block)
    units: list[Any] = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if a == b:
            continue
        lo = a - start
        for unit in plan_units(encoded[lo:b - start], **plan_kwargs):
            unit.sentences = [s + lo for s in unit.sentences]
            unit.windows = [replace(w, sentence=w.sentence + lo) for w in unit.windows]
            units.append(unit)
    return units


def auto_device(device: str | None) -> str | None:
    """``"auto"`` under torchrun picks ``cuda:LOCAL_RANK`` (one GPU per local worker)."""
    if device not in (None, "auto") or os.environ.get("LOCAL_RANK") is None:
        return device
    import torch

    if not torch.cuda.is_available():
        return device
    local = _env_int(os.environ, "LOCAL_RANK") or 0
    return f"cuda:{local % torch.cuda.device_count()}"
