"""Units: the neurons an intervention acts on, written ``SITE:INDEX``.

``mlp.3:17`` is neuron 17 of ``mlp.3``; ``SITE:5,17``, ``SITE:0-63`` (inclusive) and
``SITE:all`` name several; ``sae.resid.3:1234`` is latent 1234 of the SAE (given with
``--sae DIR``) that reads ``resid.3``. Indices are checked against the site's width.

Example:
    >>> expand_spec("mlp.2:0-2,7", 10)
    ('mlp.2', [0, 1, 2, 7])
    >>> str(Unit("mlp.2", 5))
    'mlp.2:5'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from neuroheat.errors import InputError

SAE_PREFIX = "sae."
FORM = "write SITE:INDEX, SITE:5,17, SITE:0-63 or SITE:all (e.g. mlp.3:17, sae.resid.3:1234)"


@dataclass(frozen=True)
class Unit:
    """One neuron: ``site`` (``"mlp.2"`` or ``"sae.resid.3"``) and its ``index``."""

    site: str
    index: int

    def __str__(self) -> str:
        return f"{self.site}:{self.index}"

    @property
    def is_latent(self) -> bool:
        """Whether this is an SAE latent (``sae.SITE:INDEX``)."""
        return self.site.startswith(SAE_PREFIX)

    @property
    def model_site(self) -> str:
        """The model site the unit changes (an SAE latent's is the site its SAE reads)."""
        return self.site[len(SAE_PREFIX):] if self.is_latent else self.site


def split_spec(spec: str) -> tuple[str, str]:
    """``"mlp.2:5,7"`` -> ``("mlp.2", "5,7")`` (one-line error showing the form)."""
    site, sep, rest = str(spec).strip().rpartition(":")
    if not sep or not site or not rest.strip():
        raise InputError(f"cannot read unit {spec!r}; {FORM}")
    return site.strip(), rest.strip()


def expand_spec(spec: str, width: int) -> tuple[str, list[int]]:
    """The site and the indices of ``spec`` for a site ``width`` wide."""
    site, rest = split_spec(spec)
    if rest.lower() == "all":
        return site, list(range(width))
    out: list[int] = []
    for part in rest.split(","):
        lo, dash, hi = part.strip().partition("-")
        try:
            first = int(lo)
            last = int(hi) if dash else first
        except ValueError:
            raise InputError(f"cannot read unit {spec!r}: {part!r} is not an index or a range "
                             f"a-b; {FORM}") from None
        if last < first:
            raise InputError(f"unit {spec!r}: range {part!r} runs backwards; write low-high")
        for i in range(first, last + 1):
            if not 0 <= i < width:
                raise InputError(f"unit {spec!r}: index {i} is outside {site} (width {width}: "
                                 f"0..{width - 1})")
            out.append(i)
    return site, out


def parse_units(specs: str | Sequence[str], width_of: Callable[[str], int]) -> list[Unit]:
    """Every unit of ``specs`` in the order given (duplicates dropped); ``width_of(site)``
    gives a site's width and raises for an unknown site.

    Example:
        >>> [str(u) for u in parse_units(["mlp.1:3", "mlp.1:0-1"], lambda s: 8)]
        ['mlp.1:3', 'mlp.1:0', 'mlp.1:1']
    """
    if isinstance(specs, str):
        specs = [specs]
    if not specs:
        raise InputError(f"no units given; {FORM}")
    out: dict[Unit, None] = {}
    for spec in specs:
        site, indices = expand_spec(spec, width_of(split_spec(spec)[0]))
        for i in indices:
            out.setdefault(Unit(site, i), None)
    return list(out)
