"""Settings of probing as objects: :class:`ProbeConfig` (the probe and its data) and
:class:`Split` (test and development sentences), shared by the Python API and the CLI.

``neuroheat probe`` / ``neuroheat rank`` make their options from the fields (see
:mod:`neuroheat.cli.config_args`), so a setting is named once. Every probing function takes
``config=`` and ``split=``; the old keyword spellings (``Probe(l2=...)``,
``fit(test_fraction=0.2, balance=True)``, ``ablation(..., seed=1, recipe="neurox")``) still work
and are sorted into the two objects by :func:`resolve`.

Penalties: with neither ``l1`` nor ``l2`` given, the default recipe *selects* ``l2`` on a
development split carved from the training sentences (``Split.dev_fraction``, seeded; never
the test split) and uses ``l1 = 1e-5``; giving either fixes both (the other at ``1e-5``), and
the neurox recipe always uses them as given (NeuroX's defaults ``1e-5``).

Example:
    >>> cfg, split = resolve(None, None, {"l2": 0.01, "test_fraction": 0.2, "seed": 3})
    >>> cfg.l2, cfg.penalties(), split.test_fraction, split.seed_or(cfg.seed)
    (0.01, (1e-05, 0.01), 0.2, 3)
    >>> ProbeConfig().selects_penalty, ProbeConfig(recipe="neurox").penalties()
    (True, (1e-05, 1e-05))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from neuroheat.config import Config, option
from neuroheat.errors import InputError
from neuroheat.store.base import DEFAULT_CHUNK_MB

TASKS = ("classification", "regression")
RECIPES = ("default", "neurox")
#: l1 and l2 when not given (NeuroX's defaults) and not selected
DEFAULT_L1 = 1e-5
DEFAULT_L2 = 1e-5
#: MiB of selected rows kept in memory after the first pass (0: always stream)
DEFAULT_CACHE_MB = 256.0
#: L-BFGS iteration budget of the default recipe (see neuroheat.probing.training)
DEFAULT_MAX_ITER = 30
#: fraction of the training sentences held out to select the default probe's penalty
DEFAULT_DEV_FRACTION = 0.2

__all__ = ["DEFAULT_L1", "DEFAULT_L2", "RECIPES", "TASKS", "ProbeConfig", "Split", "resolve"]


@dataclass(frozen=True)
class ProbeConfig(Config):
    """Settings of a probe and of its training data (see each field's help)."""

    task: str = option("classification", "classification (default) or regression",
                       choices=TASKS)
    recipe: str = option("default", "default: full-batch L-BFGS, penalty selected on a "
                         "development split; neurox: NeuroX's Adam recipe", choices=RECIPES)
    l1: float | None = option(None, "L1 penalty (default 1e-5); giving --l1 or --l2 turns "
                              "the penalty selection off", type=float)
    l2: float | None = option(None, "penalty on the Frobenius norm of W (default: selected "
                              "on a development split by the default recipe, 1e-5 for "
                              "neurox)", type=float)
    epochs: int = option(10, "epochs of the neurox recipe")
    batch_size: int = option(32, "batch size of the neurox recipe")
    lr: float = option(1e-3, "Adam learning rate of the neurox recipe")
    max_iter: int = option(DEFAULT_MAX_ITER, "L-BFGS iteration budget (default 30; at most 5 "
                           "after a penalty selection, which warm-starts the fit)")
    seed: int = option(0, "seed of the split, balancing, probe and control task")
    device: str | None = option(None, "cpu (default) or cuda", metavar="DEVICE")
    balance: bool = option(False, "undersample the training rows of every class to the "
                           "rarest")
    standardize: bool = option(False, "centre and scale every column by the training split")
    chunk_mb: float = option(DEFAULT_CHUNK_MB, "MiB of float32 rows read per block", cli=False)
    cache_mb: float = option(DEFAULT_CACHE_MB, "MiB of rows kept in memory (0: stream)",
                             cli=False)

    def check(self) -> None:
        super().check()
        if any(v is not None and not float(v) >= 0 for v in (self.l1, self.l2)):
            raise InputError(f"l1 and l2 must be >= 0, got l1={self.l1}, l2={self.l2}")
        if int(self.max_iter) < 1 or int(self.epochs) < 0 or int(self.batch_size) < 1:
            raise InputError("max_iter and batch_size must be >= 1 and epochs >= 0, got "
                             f"{self.max_iter}, {self.batch_size}, {self.epochs}")
        if not float(self.chunk_mb) > 0:
            raise InputError(f"chunk_mb must be > 0, got {self.chunk_mb}")

    @property
    def selects_penalty(self) -> bool:
        """True when ``fit`` selects ``l2`` (default recipe, neither penalty given)."""
        return self.recipe == "default" and self.l1 is None and self.l2 is None

    def penalties(self) -> tuple[float, float]:
        """``(l1, l2)`` with the defaults filled in (``l2`` before any selection)."""
        return (DEFAULT_L1 if self.l1 is None else float(self.l1),
                DEFAULT_L2 if self.l2 is None else float(self.l2))


def _parse_range(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.split(":")
        try:
            if len(parts) != 2:
                raise ValueError
            return int(parts[0]), int(parts[1])
        except ValueError:
            raise InputError(f"--test-sentences takes START:STOP (e.g. 0:100), got {value!r}"
                             ) from None
    try:
        pair = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(f"test_sentences must be (start, stop), got {value!r}") from None
    if len(pair) != 2:
        raise InputError(f"test_sentences must be (start, stop), got {value!r}")
    return pair[0], pair[1]


@dataclass(frozen=True)
class Split(Config):
    """Which sentences are held out: the test split (``test_sentences`` = ``(start, stop)``,
    or a seeded ``test_fraction``), and the development split the default probe selects its
    penalty on (``dev_fraction`` of the *training* sentences). ``seed`` None: the probe's."""

    test_sentences: Any = option(None, "hold out sentences A..B-1 as the test split",
                                 metavar="A:B")
    test_fraction: float | None = option(None, "hold out a seeded random fraction F of the "
                                         "sentences", type=float, metavar="F")
    dev_fraction: float = option(DEFAULT_DEV_FRACTION, "fraction of the training sentences "
                                 "the default probe holds out to select its penalty",
                                 metavar="F")
    seed: int | None = option(None, "seed of the split (default: the probe's)", cli=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test_sentences", _parse_range(self.test_sentences))

    def check(self) -> None:
        super().check()
        if self.test_sentences is not None and self.test_fraction is not None:
            raise InputError("give either test_sentences=(start, stop) (--test-sentences) or "
                             "test_fraction= (--test-fraction), not both")
        if not 0.0 < float(self.dev_fraction) < 1.0:
            raise InputError(f"dev_fraction must be between 0 and 1 (exclusive), got "
                             f"{self.dev_fraction}")

    @property
    def has_test(self) -> bool:
        """Whether a test split is asked for."""
        return self.test_sentences is not None or self.test_fraction is not None

    def seed_or(self, default: int) -> int:
        """The split's seed, or ``default`` (the probe's) when it has none."""
        return int(default if self.seed is None else self.seed)

    def to_json(self, seed: int) -> dict[str, Any]:
        """The ``split`` entry of RESULT.json / RANK.json."""
        return {"test_sentences": None if self.test_sentences is None
                else list(self.test_sentences),
                "test_fraction": self.test_fraction, "seed": self.seed_or(seed),
                "dev_fraction": self.dev_fraction}


_CONFIG_NAMES = frozenset(f.name for f in dataclasses.fields(ProbeConfig))
_SPLIT_NAMES = frozenset(f.name for f in dataclasses.fields(Split)) - {"seed"}


def resolve(config: ProbeConfig | None, split: Split | None, legacy: dict[str, Any], *,
            where: str = "probing") -> tuple[ProbeConfig, Split]:
    """``config`` and ``split`` with the keyword settings ``legacy`` sorted into them
    (``seed`` goes to the config, which the split follows); an unknown name is an InputError."""
    if config is not None and not isinstance(config, ProbeConfig):
        raise InputError(f"config must be a ProbeConfig, got {type(config).__name__}")
    if split is not None and not isinstance(split, Split):
        raise InputError(f"split must be a Split, got {type(split).__name__}")
    unknown = sorted(set(legacy) - _CONFIG_NAMES - _SPLIT_NAMES)
    if unknown:
        raise InputError(f"{where}: unknown setting {', '.join(unknown)}; valid: "
                         f"{', '.join(sorted(_CONFIG_NAMES | _SPLIT_NAMES))}")
    cfg = ProbeConfig.build(config, **{k: v for k, v in legacy.items() if k in _CONFIG_NAMES})
    spl = Split.build(split, **{k: v for k, v in legacy.items() if k in _SPLIT_NAMES})
    return cfg, spl
