"""The explain-and-score loop: examples, then ``concurrency`` neurons in flight, written as
they finish.

Each neuron runs explainer → detection → fuzzing → simulation (the scorers asked for) in
one worker thread; ``concurrency`` workers run at once (a local model batches the prompts
of all workers). A neuron whose requests keep failing, or whose answer is unreadable, is
recorded with its ``error`` and the run goes on. EXPLAIN.json is rewritten atomically as
neurons finish (at most twice a second, and at the end); ``resume`` keeps the finished
neurons of an existing file and redoes the missing and failed ones only.

Example:
    >>> import neuroheat.autointerp as ai
    >>> res = ai.explain("acts.h5", "EXPLAIN.json", units="3:0-9",
    ...                  endpoint="http://127.0.0.1:8000/v1")        # doctest: +SKIP
    >>> print(res.summary())                                        # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from neuroheat.autointerp import scorers as S
from neuroheat.autointerp.clients import Client, NoLogprobs, RequestFailed, make_client
from neuroheat.autointerp.clients.http import check_endpoint
from neuroheat.autointerp.config import ExplainConfig
from neuroheat.autointerp.examples import NeuronExamples, select_examples
from neuroheat.autointerp.result import ExplainResult
from neuroheat.errors import InputError

log = logging.getLogger("neuroheat")

__all__ = ["explain", "parse_units"]

#: settings a resumed run must share with the file it continues
RESUME_MATCH = ("explain_examples", "score_examples", "non_activating", "examples_per_prompt",
                "window", "seed", "scorers", "model")


def parse_units(spec: Any, layers: list[int], width: int) -> dict[int, list[int]]:
    """``{layer: [neurons]}`` of ``"L:N,L:N-M,L:all"`` (or a list of ``(layer, neuron)``),
    checked against the store's ``layers`` and ``width``.

    Example:
        >>> parse_units("3:5,3:0-1,4:2", [3, 4], 8)
        {3: [5, 0, 1], 4: [2]}
    """
    items: list[tuple[int, Any]] = []
    if isinstance(spec, str):
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            if ":" not in part:
                if items and "-" not in part and part.isdigit():  # "3:5,7" = 3:5 and 3:7
                    items.append((items[-1][0], part))
                    continue
                raise InputError(f"--units {spec!r}: {part!r} is not LAYER:NEURON (e.g. 3:17, "
                                 "3:0-9 or 3:all)")
            layer, neuron = part.split(":", 1)
            items.append((_int(layer, spec), neuron.strip()))
    else:
        items = [(int(a), str(b)) for a, b in spec]
    out: dict[int, list[int]] = {}
    for layer, neuron in items:
        if layer not in layers:
            raise InputError(f"--units: layer {layer} is not in the store; stored layers: "
                             f"{', '.join(map(str, layers))}")
        if neuron == "all":
            chosen = list(range(width))
        elif "-" in neuron[1:]:
            a, b = neuron.split("-", 1)
            chosen = list(range(_int(a, spec), _int(b, spec) + 1))
        else:
            chosen = [_int(neuron, spec)]
        for n in chosen:
            if not 0 <= n < width:
                raise InputError(f"--units: neuron {n} is out of range; the store has "
                                 f"{width} neurons per layer (0-{width - 1})")
        out.setdefault(layer, [])
        out[layer] += [n for n in chosen if n not in out[layer]]
    return out


def _int(text: str, spec: Any) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"--units {spec!r}: {text!r} is not a number") from None


def _resolve_units(store: Any, config: ExplainConfig) -> dict[int, list[int]]:
    from neuroheat.store import open_store

    with open_store(store) as src:
        layers, width = list(src.layers), int(src.width)
        if config.units is not None:
            return parse_units(config.units, layers, width)
        return {layer: list(range(width)) for layer in src.check_layers(config.layers)}


def _previous(output: Path, config: ExplainConfig, settings: dict[str, Any]) -> dict:
    """Finished records of an existing OUTPUT (resume), keyed by (layer, neuron)."""
    old = ExplainResult.load(output)
    for key in RESUME_MATCH:
        a, b = old.settings.get(key), settings.get(key)
        if a is not None and b is not None and a != b:
            raise InputError(f"--resume: {output} was made with {key}={a!r}, this run has "
                             f"{b!r}; use the same settings or another output")
    return {(r["layer"], r["neuron"]): r for r in old.neurons
            if not r.get("error") and r.get("explanation") is not None}


class _Run:
    """One run's shared state: records, the output file, the simulation switch."""

    def __init__(self, output: Path, settings: dict[str, Any], records: dict) -> None:
        self.output, self.settings, self.records = output, settings, records
        self.lock = threading.Lock()
        self.simulate = "simulation" in settings["scorers"]
        self.last_write = 0.0
        self.dirty = False

    def result(self) -> ExplainResult:
        return ExplainResult(self.settings, list(self.records.values()))

    def finish(self, record: dict[str, Any], force: bool = False) -> None:
        with self.lock:
            if record:
                self.records[(record["layer"], record["neuron"])] = record
                self.dirty = True
            now = time.monotonic()
            if force or (self.dirty and now - self.last_write >= 0.5):
                self.result().save(self.output)
                self.last_write, self.dirty = now, False


def _one(client: Client, ex: NeuronExamples, config: ExplainConfig, run: _Run) -> dict:
    record: dict[str, Any] = {
        "layer": ex.layer, "neuron": ex.neuron, "explanation": None,
        "explain_examples": [{"sentence": e.sentence, "position": e.position,
                              "value": e.value} for e in ex.explain],
        "score_examples": [], "scores": {}, "error": None}
    kw = {"per_prompt": config.examples_per_prompt, "seed": config.seed,
          "max_tokens": min(config.max_new_tokens, 16 + 4 * config.examples_per_prompt)}
    try:
        if not ex.explain:
            raise RequestFailed("no activating example in the store (the neuron never "
                                "exceeds its median)")
        explanation = S.explain_neuron(client, ex, config.max_new_tokens)
        record["explanation"] = explanation
        for scorer in config.scorer_list:
            if scorer in ("detection", "fuzzing"):
                fn = S.detection if scorer == "detection" else S.fuzzing
                rows, metrics = fn(client, explanation, ex, **kw)
                record["score_examples"] += rows
                if metrics is not None:
                    record["scores"][scorer] = metrics
            elif run.simulate:
                try:
                    sim = S.simulation(client, explanation, ex)
                except NoLogprobs as exc:
                    with run.lock:
                        if run.simulate:
                            log.warning("simulation scorer skipped: %s", exc)
                        run.simulate = False
                    continue
                if sim is not None:
                    record["scores"]["simulation"] = sim
    except RequestFailed as exc:
        record["error"] = " ".join(str(exc).split())
    return record


def explain(store: Any, output: str | os.PathLike, config: ExplainConfig | None = None, *,
            client: Client | None = None, overwrite: bool = False,
            **overrides: Any) -> ExplainResult:
    """Explain and score neurons of ``store`` into ``output`` (EXPLAIN.json).

    ``config`` / ``**overrides``: the fields of :class:`ExplainConfig` (``units``,
    ``endpoint``, ``scorers``...); ``client``: an already made client (then the config's
    ``explainer_model`` / ``endpoint`` only name it). Returns the :class:`ExplainResult`.

    Example:
        >>> explain("acts.h5", "EXPLAIN.json", layers="3", explainer_model="path/to/model",
        ...         scorers="detection")                                    # doctest: +SKIP
    """
    config = ExplainConfig.build(config, **overrides)
    if client is None and config.explainer_model is None and config.endpoint is None:
        raise InputError("no explainer: pass --explainer-model DIR (a local model) or "
                         "--endpoint URL (an OpenAI-compatible server)")
    if config.endpoint is not None:  # refuse a remote host before anything else
        check_endpoint(config.endpoint, config.allow_remote)
    output = Path(output)
    settings = config.settings()
    records: dict = {}
    if output.exists() and not overwrite:
        if not config.resume:
            raise InputError(f"{output} exists; pass --resume to continue it or --overwrite "
                             "to replace it")
        records = _previous(output, config, settings)
    units = _resolve_units(store, config)
    pending = {layer: [n for n in ns if (layer, n) not in records]
               for layer, ns in units.items()}
    pending = {layer: ns for layer, ns in pending.items() if ns}
    todo = sum(len(ns) for ns in pending.values())
    log.info("explaining %d neurons (%d already done)", todo, len(records))
    own = client is None
    if client is None:
        client = make_client(config)
    if settings.get("model") is None:
        settings["model"] = getattr(client, "name", None) or None
    run = _Run(output, settings, records)
    try:
        examples = select_examples(store, pending, explain=config.explain_examples,
                                   activating=config.score_examples,
                                   non_activating=config.non_activating,
                                   window=config.window, seed=config.seed)
        workers = config.concurrency
        if hasattr(client, "batch_size"):
            workers = max(workers, int(client.batch_size))
        _pool(client, examples, config, run, workers)
        if settings.get("model") is None and getattr(client, "name", None):
            settings["model"] = client.name
        run.finish({}, force=True)
    finally:
        if own:
            client.close()
    result = run.result()
    log.debug("%s", result.summary())  # the CLI prints it
    return result


def _pool(client: Client, examples: dict, config: ExplainConfig, run: _Run,
          workers: int) -> None:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(examples), unit="neuron", desc="explain", disable=config.quiet,
               leave=False)
    try:
        with ThreadPoolExecutor(max_workers=workers,
                                thread_name_prefix="neuroheat-explain") as pool:
            futures = [pool.submit(_one, client, ex, config, run)
                       for _, ex in sorted(examples.items())]
            for fut in as_completed(futures):
                run.finish(fut.result())
                bar.update(1)
    finally:
        bar.close()
