"""The one extraction runner: corpus shard -> locked, resumable, checkpointed store.

Dense sites and SAE latents differ only in a :class:`~neuroheat.extract.strategy.Strategy`
(what a batch computes, how it is written, what the store records); the steps below exist
once: read the shard's lines, take the output's lock, refuse an existing output unless
``resume``/``overwrite``, load the model, plan batches, record the settings, open the store
(on ``--resume``: check every setting that must agree and the stored layers) or create it
(its space reserved), continue from the checkpoint of the same plan, run the batches with the
device and the writer overlapped (:mod:`neuroheat.extract.overlap`), and finalize. When
anything fails after the store is opened, its writer is closed (written rows flushed, files
and memory maps released) before the error goes on.

Example:
    >>> from neuroheat.extract.dense import DenseStrategy
    >>> extract("all-MiniLM-L6-v2", "corpus.txt", Path("acts.h5"), cfg, DenseStrategy())  # doctest: +SKIP
    PosixPath('acts.h5')
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat import kernels
from neuroheat.errors import InputError, StoreError
from neuroheat.extract import align
from neuroheat.extract.config import ExtractConfig
from neuroheat.extract.corpus import Corpus, corpus_checksum, open_corpus
from neuroheat.extract.overlap import run_overlapped, writer_beside
from neuroheat.extract.plan import plan_digest, plan_units
from neuroheat.extract.shard import (
    auto_device,
    default_shard,
    parse_shard,
    plan_block,
    plan_in_blocks,
    resolve_shard,
)
from neuroheat.extract.strategy import Strategy
from neuroheat.store.lock import StoreLock

log = logging.getLogger(__name__)
#: values of a plan from which extraction runs the compiled statistics and gathers (they save
#: ~8 ns a value against numba's 0.5-1 s import in a fresh process: docs/bounds/extraction.md)
EXTRACT_MIN_VALUES = 2**22

__all__ = ["DEFAULT_BATCH_TOKENS", "default_batch_tokens", "extract", "plan_corpus",
           "run_extraction"]

# Padded tokens per forward pass when not given. Measured with scripts/bench_extract.py on
# 2 CPU cores: 1024 -> 5,900 words/s, 2048 -> 5,700, 4096 -> 5,000, 8192 -> 4,200 (smaller
# batches stay in cache); GPUs want large batches to saturate.
DEFAULT_BATCH_TOKENS = {"cpu": 1024, "cuda": 16384}

# What --resume must agree on: the config's match fields plus what the corpus and shard fix.
_SETTINGS = ("model", *ExtractConfig.fields_where("match"), "corpus_sha256", "sentence_start",
             "sentence_stop", "num_sentences_total")


def default_batch_tokens(device: Any) -> int:
    """The padded-token budget used when ``batch_tokens`` is None, by device type.

    Example:
        >>> default_batch_tokens("cpu")
        1024
    """
    return DEFAULT_BATCH_TOKENS.get(getattr(device, "type", str(device)), 4096)


def extract(model: Any, corpus: Corpus, output: Path, cfg: ExtractConfig, strategy: Strategy
            ) -> Path:
    """Extract this process's shard of ``corpus`` into ``output`` (see the module docstring);
    returns the shard's output path. The output is locked for the whole run.

    Example:
        >>> extract("gpt2", "corpus.txt", Path("acts.h5"), ExtractConfig(), DenseStrategy())  # doctest: +SKIP
        PosixPath('acts.h5')
    """
    shard = cfg.shard if cfg.shard is not None else default_shard()
    sharded = parse_shard(shard)[1] > 1
    lines = open_corpus(corpus, cache_index=sharded,
                        index_dir=output.parent if output.parent.is_dir() else None,
                        text_field=cfg.text_field)
    spec = resolve_shard(shard, lines.bounds, parts=cfg.plan_shards)
    block = plan_block(lines.num_sentences, cfg.plan_block)
    output = spec.output_path(output)
    with StoreLock(output):  # from the first check to the last byte: one writer per store
        run_extraction(model, lines, spec, block, output, cfg, strategy)
    return output


def run_extraction(model: Any, lines: Any, spec: Any, block: int, output: Path,
                   cfg: ExtractConfig, strategy: Strategy) -> None:
    """Extract the sentences of shard ``spec`` of ``lines`` into ``output`` (lock held).

    Example:
        >>> run_extraction("gpt2", lines, spec, 1024, Path("lat.h5"), cfg, LatentStrategy())  # doctest: +SKIP
    """
    strategy.check(cfg)
    if output.exists() and not (cfg.resume or cfg.overwrite):
        raise InputError(f"{output} exists; pass --overwrite to replace it or --resume to "
                         "continue an interrupted extraction")
    strategy.load(cfg)
    loaded = prepare_model(model, cfg)
    strategy.bind(loaded, cfg)
    contexts = None
    if cfg.units == "tokens":
        contexts, encoded, specials, units = plan_tokens(loaded, lines, spec, block, cfg)
    else:
        words = lines.read(spec.start, spec.stop)
        encoded, specials, units = plan_corpus(
            loaded, words, cfg.aggregation, cfg.include_special_tokens, cfg.batch_tokens,
            cfg.max_length, first_line=spec.start + 1, block=block, parts=spec.parts)
    runner = strategy.runner(loaded, encoded, specials, cfg.aggregation, cfg.dtype,
                             spec.start + 1)
    settings = _settings(loaded, strategy, cfg, lines, spec, block)
    writer = _open(output, encoded, strategy, cfg, settings, loaded, legacy_checksum=lambda:
                   corpus_checksum(lines.read(0, lines.num_sentences)))
    if writer is None:
        return
    try:
        if contexts is not None:  # (on --resume: the same records again)
            from neuroheat.store.records import write_records

            write_records(output, contexts.token_ids, contexts.sources)
        _run(runner, units, encoded, writer, strategy, cfg, loaded)
    except BaseException:
        writer.close()
        raise
    strategy.report(output, len(encoded), sum(len(e.rows) for e in encoded))


def plan_tokens(loaded: Any, lines: Any, spec: Any, block: int, cfg: ExtractConfig
                ) -> tuple[Any, list[Any], Any, list[Any]]:
    """Token units: the contexts of the shard's documents and their batches,
    ``(contexts, encoded, specials, units)`` (see :mod:`neuroheat.extract.tokens`).

    Example:
        >>> ctx, encoded, specials, units = plan_tokens(loaded, lines, spec, 1024, cfg)  # doctest: +SKIP
    """
    from neuroheat.extract.tokens import make_contexts, no_specials, plan_contexts

    limit = min(cfg.max_length or loaded.max_length, loaded.max_length)
    n = int(cfg.context_tokens)
    if n > limit:
        raise InputError(f"--context-tokens {n} exceeds the model's limit of {limit} tokens; "
                         f"use --context-tokens {limit} or less")
    batch_tokens = cfg.batch_tokens or default_batch_tokens(loaded.device)
    if batch_tokens < 1:
        raise InputError(f"batch_tokens must be positive, got {batch_tokens}")
    contexts = make_contexts(loaded.tokenizer, lines.texts(spec.start, spec.stop), n,
                             concatenate=cfg.concatenate, first_row=spec.start,
                             parts=spec.parts)
    units = plan_contexts(contexts, start=spec.start, stop=spec.stop, block=block,
                          parts=spec.parts or None, n_special=0, capacity=limit,
                          batch_tokens=batch_tokens, causal=loaded.causal)
    return contexts, contexts.encoded, no_specials(), units


def prepare_model(model: Any, cfg: ExtractConfig) -> Any:
    """Load ``model`` as ``cfg`` asks (seeded random weights, device, dtype, placement).

    Example:
        >>> prepare_model("gpt2", ExtractConfig(device="cpu")).device  # doctest: +SKIP
        device(type='cpu')
    """
    from neuroheat.model.loading import load_model

    if cfg.random_weights:
        import torch

        torch.manual_seed(cfg.seed)
    device = cfg.device if cfg.device_map else auto_device(cfg.device)
    return load_model(model, "base", device=device, random_weights=cfg.random_weights,
                      revision=cfg.revision, trust_remote_code=cfg.trust_remote_code,
                      model_dtype=cfg.model_dtype, device_map=cfg.device_map,
                      attn_implementation=cfg.attn_implementation)


def plan_corpus(loaded: Any, words: Sequence[Sequence[str]], aggregation: str,
                include_special: bool, batch_tokens: int | None, max_length: int | None, *,
                first_line: int = 1, block: int | None = None,
                parts: Sequence[int] | None = None) -> tuple[list[Any], Any, list[Any]]:
    """Encode ``words`` (corpus lines from ``first_line``) and plan their batches:
    ``(encoded, specials, units)``; batches never cross plan ``block`` s when one is given.

    Example:
        >>> encoded, specials, units = plan_corpus(loaded, [["a", "b"]], "last", False, 256, None)  # doctest: +SKIP
        >>> units[0].sentences  # doctest: +SKIP
        [0]
    """
    if batch_tokens is None:
        batch_tokens = default_batch_tokens(loaded.device)
    if batch_tokens < 1:
        raise InputError(f"batch_tokens must be positive, got {batch_tokens}")
    encoded = align.encode_corpus(loaded.tokenizer, words, aggregation,
                                  include_special_tokens=include_special,
                                  first_line=first_line) if words else []  # an empty shard
    specials = align.special_tokens(loaded.tokenizer)
    n_special = len(specials.prefix) + len(specials.suffix)
    limit = min(max_length or loaded.max_length, loaded.max_length)
    # The budget is the budget: a window longer than it still runs, alone in its batch (the
    # planner never splits a window), so long-context models (limits of 128k tokens) keep
    # small batches instead of one budget the size of their context.
    kwargs = dict(n_special=n_special, capacity=limit - n_special,
                  batch_tokens=batch_tokens, causal=loaded.causal)
    if block:  # batches never cross plan blocks: shards replay a single run's batches exactly
        units = plan_in_blocks(encoded, start=first_line - 1, block=block,
                               parts=parts or None, **kwargs)
    else:
        units = plan_units(encoded, **kwargs)
    return encoded, specials, units


def _settings(loaded: Any, strategy: Strategy, cfg: ExtractConfig, lines: Any, spec: Any,
              block: int) -> dict[str, Any]:
    """The store's attributes: the settings actually used, then the strategy's own."""
    used = ExtractConfig.build(
        cfg, include_special_tokens=bool(cfg.include_special_tokens),
        batch_tokens=int(cfg.batch_tokens or default_batch_tokens(loaded.device)),
        max_length=int(min(cfg.max_length or loaded.max_length, loaded.max_length)),
        random_weights=bool(cfg.random_weights), seed=int(cfg.seed), plan_block=block,
        plan_shards=int(cfg.plan_shards or spec.count), revision=cfg.revision or "", saes=(),
        context_tokens=int(cfg.context_tokens or 0), concatenate=bool(cfg.concatenate))
    settings = {
        "model": loaded.name,
        **{k: getattr(used, k) for k in ExtractConfig.fields_where("record")},
        "corpus_sha256": lines.checksum,
        "corpus_format": lines.format_name,
        "corpus_files": [p.name for p in lines.files],
        "corpus_file_sha256": list(lines.file_sha256),
        "sentence_start": spec.start, "sentence_stop": spec.stop,
        "num_sentences_total": lines.num_sentences, "shard_index": spec.index,
        "num_shards": spec.count, "tokenizer": type(loaded.tokenizer).__name__,
        "model_type": loaded.config.model_type, "num_model_layers": loaded.num_layers,
        "sites": ",".join(str(strategy.sites.site(loaded.model, lay))
                          for lay in strategy.layers),
        "match_settings": ",".join([*ExtractConfig.fields_where("match"),
                                    *strategy.extra_match]),
        # what was actually used: "auto" resolved, a loaded model's own dtype and attention
        "model_dtype": loaded.dtype,
        "attn_implementation": str(getattr(loaded.config, "_attn_implementation", None) or ""),
    }
    settings.update(strategy.settings(loaded, cfg))
    return settings


# Settings added with corpus readers and token units: a store without them used these values.
_BEFORE_ROWS = {"text_field": "text", "units": "words", "context_tokens": "0",
                "concatenate": "False"}


def _legacy_match(key: str, have: Any, settings: dict[str, Any], legacy_checksum: Any) -> bool:
    """Whether a store written before plan parts (no ``plan_shards``) agrees after all: it was
    planned in one part, and its corpus checksum was taken over the parsed words."""
    if key == "plan_shards":
        return have is None and int(settings[key]) == 1
    if key == "corpus_sha256":
        return str(have) == legacy_checksum()
    return False


def _open(output: Path, encoded: Sequence[Any], strategy: Strategy, cfg: ExtractConfig,
          settings: dict[str, Any], loaded: Any, legacy_checksum: Any) -> Any | None:
    """A writer: of the existing store on ``--resume`` (None when it is complete already),
    else of a new store."""
    if output.exists() and cfg.resume:
        writer = strategy.open(output)
        if writer is None:
            raise StoreError(f"{output} is not a {strategy.store_noun}; cannot resume it (use "
                             "--overwrite to replace it)")
        try:
            return _check_resume(writer, output, strategy, settings, legacy_checksum)
        except BaseException:
            writer.close()
            raise
    untok, base = [], 0
    for e in encoded:
        untok.extend(base + u for u in e.untokenized)
        base += len(e.rows)
    return strategy.create(output, [e.rows for e in encoded], untok, settings, cfg, loaded)


def _check_resume(writer: Any, output: Path, strategy: Strategy, settings: dict[str, Any],
                  legacy_checksum: Any) -> Any | None:
    legacy = "plan_shards" not in writer.attrs
    for key in (*_SETTINGS, *strategy.extra_match):
        have = writer.attrs.get(key)
        if str(have) == str(settings[key]) or (
                legacy and _legacy_match(key, have, settings, legacy_checksum)):
            continue
        if have is None and _BEFORE_ROWS.get(key) == str(settings[key]):
            continue
        raise StoreError(
            f"cannot resume {output}: its {key} is {have!r} but this run has "
            f"{settings[key]!r}; use the same settings or --overwrite")
    if [int(x) for x in writer.layers] != list(strategy.layers):
        raise StoreError(f"cannot resume {output}: it stores layers {writer.layers}, this run "
                         f"asks for {list(strategy.layers)}; use the same {strategy.layers_hint} "
                         "or --overwrite")
    if bool(writer.attrs.get("complete")):
        log.info("%s is already complete; nothing to resume", output)
        writer.close()
        return None
    return writer


def _run(runner: Any, units: Sequence[Any], encoded: Sequence[Any], writer: Any,
         strategy: Strategy, cfg: ExtractConfig, loaded: Any) -> None:
    """Continue from a checkpoint of this plan, compute the remaining units on the device
    while a writer thread writes finished ones in order, then finalize."""
    from tqdm.auto import tqdm

    digest = plan_digest(units)
    state = writer.load_checkpoint() if cfg.resume else None
    done = 0
    if state is not None and str(state.get("plan_digest")) == digest:
        done = int(state["units_done"])
        strategy.start(state, loaded)
        log.info("resuming %s: %d of %d batches already written", writer.path, done,
                 len(units))
    else:
        if state is not None:
            log.warning("progress file of %s does not match this plan; starting over",
                        writer.path)
            strategy.restart(writer)
        strategy.start(None, loaded)
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e.rows) for e in encoded], out=offsets[1:])
    bar = tqdm(total=sum(u.n_rows for u in units), initial=sum(u.n_rows for u in units[:done]),
               unit="word", disable=cfg.quiet or not sys.stderr.isatty(), desc=strategy.desc,
               smoothing=0.1)

    def save(units_done: int) -> None:
        writer.checkpoint(dict(strategy.state(), units_done=np.int64(units_done),
                               plan_digest=np.str_(digest)))

    def consume(res: Any) -> None:
        strategy.write(writer, res, offsets)
        strategy.add(res)

    # the compiled statistics and gathers when the whole plan (not what a resume has left:
    # the same choice, the same statistics) is large enough to pay for numba's import: they
    # save ~8 ns a value (float64 copy, var_mean, aminmax, index_add_), so from 2**22 values
    compiled = kernels.prepare(sum(u.n_rows for u in units) * getattr(writer, "width", 1)
                               * len(getattr(writer, "layers", [0])), EXTRACT_MIN_VALUES,
                               anyway=False)
    if hasattr(runner, "compiled"):
        runner.compiled = compiled
    overlap = writer_beside(loaded.device)
    if hasattr(runner, "defer"):  # a CPU core beside the model: it also casts and sums up
        runner.defer = overlap and getattr(loaded.device, "type", str(loaded.device)) == "cpu"
    run_overlapped(units, done, produce=runner.run, consume=consume, save=save,
                   checkpoint_seconds=cfg.checkpoint_seconds, bar=bar, path=writer.path,
                   name=strategy.thread, overlap=overlap)
    strategy.finalize(writer)
