"""What a site is: a kind of activation (``hidden``, ``mlp``, ...), a layer and a width.

A :class:`SiteKind` knows which layer numbers exist for a model, how wide one vector is, and
how to *tap* a forward pass: a context manager that hooks the model, says which extra forward
arguments it needs, and returns each requested layer's ``[batch, tokens, width]`` tensor.
Extraction, saliency neuron targets and the demo all read activations through taps.

Example:
    >>> str(Site("mlp", 5))
    'mlp.5'
    >>> Site.parse("hidden.0")
    Site(kind='hidden', layer=0, width=None)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from neuroheat.errors import InputError
from neuroheat.model.hooks import run_until_stopped


@dataclass(frozen=True)
class Site:
    """Where activations come from: ``kind`` at ``layer``; ``width`` once a model is known."""

    kind: str
    layer: int
    width: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}.{self.layer}"

    @classmethod
    def parse(cls, text: str) -> Site:
        """``"mlp.5"`` -> ``Site("mlp", 5)``; the error shows the expected form."""
        kind, sep, layer = str(text).rpartition(".")
        if not sep or not kind or not layer.lstrip("-").isdigit():
            raise InputError(f"cannot read site {text!r}; write KIND.LAYER, e.g. hidden.3 or "
                             "mlp.5")
        return cls(kind, int(layer))


@dataclass
class Tap:
    """One forward pass's view of a site kind: call ``module(**inputs, **kwargs)``, then
    ``values(outputs)`` gives one ``[batch, tokens, width]`` tensor per requested layer."""

    module: Any
    kwargs: dict[str, Any]
    values: Callable[[Any], list[Any]]
    exit: AbstractContextManager | None = field(default=None, repr=False)


class SiteKind:
    """Base of every site kind (one module per kind in :mod:`neuroheat.model.sites`)."""

    name: str = ""
    description: str = ""

    def layers(self, model: Any) -> list[int]:
        """Layer numbers this kind has in ``model`` (a Hugging Face module)."""
        raise NotImplementedError

    def width(self, model: Any) -> int:
        """Width of one activation vector."""
        raise NotImplementedError

    def tap(self, model: Any, layers: Sequence[int], *, stop: bool = False
            ) -> AbstractContextManager[Tap]:
        """Hook ``model`` for ``layers``; with ``stop``, blocks after the deepest never run."""
        raise NotImplementedError

    def site(self, model: Any, layer: int) -> Site:
        return Site(self.name, int(layer), self.width(model))

    def hook_point(self, model: Any, layer: int) -> tuple[Any, str]:
        """``(module, "input"|"output")`` whose tensor is this kind at ``layer``: where
        :mod:`neuroheat.model.edits` writes. Kinds that are not one module's tensor refuse."""
        from neuroheat.errors import UnsupportedModelError

        raise UnsupportedModelError(f"site kind {self.name!r} cannot be edited; edit one of "
                                    "mlp, resid, attn_out, mlp_out")


def read_sites(kind: SiteKind, model: Any, input_ids: Any, attention_mask: Any,
               layers: Sequence[int], select: tuple[Any, Any] | None = None) -> Any:
    """``[batch, tokens, len(layers), width]`` activations of ``kind`` at ``layers``; with
    ``select=(batch_index, token_index)`` only those positions, ``[n, len(layers), width]``
    (gathered per layer before stacking: no copy of the padded batch)."""
    import torch

    with kind.tap(model, layers, stop=True) as tap:
        out = run_until_stopped(tap.module, input_ids=input_ids, attention_mask=attention_mask,
                                **tap.kwargs)
        values = tap.values(out)
    device = values[0].device  # with a device map, layers may sit on different GPUs
    if select is None:
        return torch.stack([v.to(device) for v in values], dim=2)
    b, t = select
    return torch.stack([v[b.to(v.device), t.to(v.device)].to(device) for v in values], dim=1)


def iter_layers(layers: Sequence[int]) -> Iterator[tuple[int, int]]:
    """``(slot, layer)`` pairs of a layer selection."""
    return enumerate(int(x) for x in layers)
