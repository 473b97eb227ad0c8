"""One parser for layer selections: ``None``/``"all"``, ints, ``"0,6"``, ``"1-4"``, ``"-1"``.

Used by the Python API and by every CLI command's ``--layers SPEC``. Pure Python: no torch.

Example:
    >>> parse_layers("0,2-4")
    [0, 2, 3, 4]
    >>> select_layers([0, 1, 2, 3], "-1")
    [3]
"""

from __future__ import annotations

from collections.abc import Sequence

from neuroheat.errors import InputError

LayerSpec = Sequence[int] | int | str | None


def parse_layers(spec: LayerSpec) -> list[int] | None:
    """The layer numbers of ``spec`` in the order given; ``None`` for "all layers".

    Accepts ``None``, ``"all"``, an int, a sequence of ints, or a string of comma-separated
    numbers and inclusive ranges (``"0,6"``, ``"1-4"``, ``"-1"`` for the last layer).
    """
    if spec is None:
        return None
    if isinstance(spec, int):
        return [int(spec)]
    if isinstance(spec, str):
        text = spec.strip()
        if text.lower() in ("all", ""):
            return None
        chosen: list[int] = []
        for part in text.split(","):
            part = part.strip()
            try:
                if "-" in part[1:]:
                    a, b = part[0] + part[1:].split("-", 1)[0], part[1:].split("-", 1)[1]
                    lo, hi = int(a), int(b)
                    if hi < lo:
                        raise InputError(f"layer range {part!r} is empty; write LOW-HIGH")
                    chosen.extend(range(lo, hi + 1))
                elif part:
                    chosen.append(int(part))
            except ValueError as exc:
                if isinstance(exc, InputError):
                    raise
                raise InputError(f"cannot read layers {spec!r}: {part!r} is not a number or "
                                 "a range; write e.g. 0,6 or 1-4 or all") from None
        return chosen
    try:
        return [int(x) for x in spec]
    except (TypeError, ValueError):
        raise InputError(f"cannot read layers {spec!r}; give ints, '0,6', '1-4' or 'all'") from None


def select_layers(available: Sequence[int], spec: LayerSpec) -> list[int]:
    """Validate ``spec`` against ``available`` layers; sorted, negatives count from the end."""
    available = list(available)
    chosen = parse_layers(spec)
    if chosen is None:
        return available
    out = []
    for lay in chosen:
        if lay < 0 and -len(available) <= lay:
            out.append(available[lay])
            continue
        if lay not in available:
            span = f"{available[0]}..{available[-1]}" if available else "none"
            raise InputError(f"layer {lay} does not exist; this model has layers {span}")
        out.append(lay)
    if len(set(out)) != len(out):
        raise InputError(f"layers {out} contain duplicates")
    return sorted(out)
