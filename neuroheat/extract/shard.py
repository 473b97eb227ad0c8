"""Deterministic sentence shards: ``--shard I/N`` splits the corpus into N contiguous ranges.

Example:
    >>> spec = resolve_shard((1, 4), 10)
    >>> spec.start, spec.stop
    (2, 5)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from neuroheat.errors import InputError

ShardSpec = tuple[int, int] | str | None


@dataclass(frozen=True)
class Shard:
    index: int
    count: int
    start: int
    stop: int

    def output_path(self, path: Path) -> Path:
        """The output of this shard (unchanged when there is only one shard)."""
        if self.count == 1:
            return path
        return path.with_name(f"{path.stem}-shard{self.index}of{self.count}{path.suffix}")


def parse_shard(spec: ShardSpec) -> tuple[int, int]:
    """``(index, count)`` from ``(i, n)`` or ``"i/n"``; ``None`` means one shard."""
    if spec is None:
        return 0, 1
    if isinstance(spec, str):
        try:
            i_text, n_text = spec.split("/")
            index, count = int(i_text), int(n_text)
        except ValueError:
            raise InputError(f"shard {spec!r} is not of the form I/N (e.g. 0/4)") from None
    else:
        index, count = (int(x) for x in spec)
    if count < 1 or not 0 <= index < count:
        raise InputError(f"shard {index}/{count} is out of range: use 0 <= I < N")
    return index, count


def resolve_shard(spec: ShardSpec, num_sentences: int) -> Shard:
    """The sentence range of a shard: ``[i*N//n, (i+1)*N//n)``."""
    index, count = parse_shard(spec)
    return Shard(index, count, index * num_sentences // count,
                 (index + 1) * num_sentences // count)
