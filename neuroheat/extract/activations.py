"""Extract word-level activations of a corpus into a store, batched, resumable, shardable.

Example:
    >>> import neuroheat as nh
    >>> nh.extract_activations("all-MiniLM-L6-v2", "corpus.txt", "acts.h5")  # doctest: +SKIP
    PosixPath('acts.h5')
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError, StoreError
from neuroheat.extract import align
from neuroheat.extract.config import ExtractConfig
from neuroheat.extract.corpus import Corpus, corpus_checksum, open_corpus, read_corpus
from neuroheat.extract.overlap import run_overlapped
from neuroheat.extract.plan import plan_digest, plan_units
from neuroheat.extract.shard import (
    auto_device,
    default_shard,
    parse_shard,
    plan_in_blocks,
    resolve_shard,
)
from neuroheat.extract.shard import plan_block as _plan_block
from neuroheat.layerspec import select_layers
from neuroheat.model.loading import load_model
from neuroheat.model.sites import get_site_kind
from neuroheat.store import StoreWriter
from neuroheat.store.lock import StoreLock
from neuroheat.store.stats import RunningStats

log = logging.getLogger(__name__)

# Padded tokens per forward pass when not given. Measured with scripts/bench_extract.py on
# 2 CPU cores: 1024 -> 5,900 words/s, 2048 -> 5,700, 4096 -> 5,000, 8192 -> 4,200 (smaller
# batches stay in cache); GPUs want large batches to saturate.
DEFAULT_BATCH_TOKENS = {"cpu": 1024, "cuda": 16384}


def default_batch_tokens(device: Any) -> int:
    """The padded-token budget used when ``batch_tokens`` is None, by device type."""
    return DEFAULT_BATCH_TOKENS.get(getattr(device, "type", str(device)), 4096)
# What --resume must agree on: the config's match fields plus what the corpus and shard fix.
_SETTINGS = ("model", *ExtractConfig.fields_where("match"), "corpus_sha256", "sentence_start",
             "sentence_stop", "num_sentences_total")


def _prepare(model: Any, cfg: ExtractConfig) -> Any:
    if cfg.random_weights:
        import torch

        torch.manual_seed(cfg.seed)
    device = cfg.device if cfg.device_map else auto_device(cfg.device)
    return load_model(model, "base", device=device, random_weights=cfg.random_weights,
                      revision=cfg.revision, trust_remote_code=cfg.trust_remote_code,
                      model_dtype=cfg.model_dtype, device_map=cfg.device_map,
                      attn_implementation=cfg.attn_implementation)


def activations_for_words(
    model: Any,
    sentences: Sequence[Sequence[str]] | Sequence[str],
    *,
    layers: Sequence[int] | str | None = None,
    aggregation: str = "last",
    component: str = "hidden",
    include_special_tokens: bool = False,
    batch_tokens: int | None = None,
    device: str | None = None,
) -> list[np.ndarray]:
    """Activations of a few sentences in memory: float32 ``[n_words, n_layers, width]`` each.

    Same alignment, windows and layer numbering as :func:`extract_activations`.

    Example:
        >>> arrs = activations_for_words(loaded, [["The", "cat"]], layers=[0, 6])  # doctest: +SKIP
        >>> arrs[0].shape
        (2, 2, 384)
    """
    loaded = load_model(model, "base", device=device)
    words = read_corpus(list(sentences))
    comp = get_site_kind(component)
    chosen = select_layers(comp.layers(loaded.model), layers)
    runner, units, encoded = _build(loaded, comp, chosen, words, aggregation,
                                    include_special_tokens, batch_tokens, "float32", None)
    out: list[np.ndarray] = [np.zeros((0, len(chosen), comp.width(loaded.model)), np.float32)
                             for _ in words]
    for unit in units:
        res = runner.run(unit)
        rows = res.numpy()
        for k, s in enumerate(unit.sentences):
            out[s] = np.array(rows[res.row_starts[k]:res.row_starts[k + 1]], dtype=np.float32)
    return out


def _build(loaded, comp, layers, words, aggregation, include_special, batch_tokens, dtype,
           max_length, first_line=1, block=None, parts=None):
    from neuroheat.extract.pipeline import UnitRunner

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
        units = plan_in_blocks(encoded, start=first_line - 1, block=block, parts=parts,
                               **kwargs)
    else:
        units = plan_units(encoded, **kwargs)
    runner = UnitRunner(loaded, comp, layers, encoded, specials, aggregation, dtype,
                        first_line=first_line)
    return runner, units, encoded


def extract_activations(
    model: Any,
    corpus: Corpus,
    output: str | os.PathLike,
    config: ExtractConfig | None = None,
    **options: Any,
) -> Path:
    """Extract activations of every word of ``corpus`` into the store ``output``.

    Args:
        model: Hub id, local directory or ``(model, tokenizer)``; loaded offline-first.
        corpus: text file (one sentence per line), iterable of strings or of word lists.
        config: an :class:`~neuroheat.extract.config.ExtractConfig`; keyword ``options``
            (its field names) override it. The main ones:

            - ``layers``: layers to keep (0 = embeddings), e.g. ``[0, 6]`` or ``"1-4"``;
            - ``aggregation``: ``first``, ``last`` (NeuroX default), ``average`` or ``none``;
            - ``dtype``: ``float16`` (default) or ``float32``;
            - ``component``: a site kind, ``hidden`` (residual stream) or ``mlp``;
            - ``saes``: SAE folders (or ``"SITE=DIR"``, or ``nh.sae.load_sae`` objects):
              store their latents instead, sparsely (:mod:`neuroheat.extract.latents`);
            - ``model_dtype``: ``auto`` (checkpoint dtype on CUDA, float32 on CPU),
              ``float32``, ``bfloat16`` or ``float16``, recorded as the store's
              ``model_dtype``; ``device_map`` (``auto``/``balanced``/``sequential``, needs
              ``accelerate``) spreads a big model over the GPUs; ``attn_implementation``
              is passed to transformers;
            - ``batch_tokens``: padded-token budget of one forward pass (default 1024 on CPU,
              16384 on CUDA; longer windows always fit);
            - ``resume`` / ``overwrite``: continue an interrupted run / replace the output;
            - ``shard``: ``(index, count)``, ``"I/N"`` or ``"auto"`` (torchrun / SLURM;
              also used, with a warning, when a launcher started several processes and
              no shard is given); a shard reads and tokenises only its own lines;
            - ``plan_shards`` / ``plan_block``: the corpus is cut into ``plan_shards``
              balanced parts (default: the shard count) and each part into blocks of
              ``plan_block`` sentences; batches never cross a block, so N merged shards
              equal one run with ``plan_shards=N`` bit for bit
              (:mod:`neuroheat.extract.shard`).

    One process writes a store: the output is locked for the whole run
    (:class:`~neuroheat.store.lock.StoreLock`), and its space is reserved when it is created.

    Returns:
        The path of the complete store.

    Example:
        >>> extract_activations("bert-base-cased", "corpus.txt", "acts.h5", layers="0-4")  # doctest: +SKIP
    """
    cfg = ExtractConfig.build(config, **options)
    output = Path(output)
    shard = cfg.shard if cfg.shard is not None else default_shard()
    sharded = parse_shard(shard)[1] > 1
    lines = open_corpus(corpus, cache_index=sharded,
                        index_dir=output.parent if output.parent.is_dir() else None)
    spec = resolve_shard(shard, lines.bounds, parts=cfg.plan_shards)
    block = _plan_block(lines.num_sentences, cfg.plan_block)
    output = spec.output_path(output)
    with StoreLock(output):  # from the first check to the last byte: one writer per store
        if cfg.saes:  # SAE latents: a sparse store (neuroheat.extract.latents)
            from neuroheat.extract.latents import extract_latents

            extract_latents(model, lines, spec, block, output, cfg)
        else:
            _extract(model, lines, spec, block, output, cfg)
    return output


def _extract(model: Any, lines: Any, spec: Any, block: int, output: Path, cfg: ExtractConfig
             ) -> None:
    if output.exists() and not (cfg.resume or cfg.overwrite):
        raise InputError(f"{output} exists; pass --overwrite to replace it or --resume to "
                         "continue an interrupted extraction")
    words = lines.read(spec.start, spec.stop)
    loaded = _prepare(model, cfg)
    comp = get_site_kind(cfg.component)
    chosen = select_layers(comp.layers(loaded.model), cfg.layers)
    runner, units, encoded = _build(loaded, comp, chosen, words, cfg.aggregation,
                                    cfg.include_special_tokens, cfg.batch_tokens, cfg.dtype,
                                    cfg.max_length, first_line=spec.start + 1, block=block,
                                    parts=spec.parts)
    used = ExtractConfig.build(
        cfg, include_special_tokens=bool(cfg.include_special_tokens),
        batch_tokens=int(cfg.batch_tokens or default_batch_tokens(loaded.device)),
        max_length=int(min(cfg.max_length or loaded.max_length, loaded.max_length)),
        random_weights=bool(cfg.random_weights), seed=int(cfg.seed), plan_block=block,
        plan_shards=int(cfg.plan_shards or spec.count), revision=cfg.revision or "")
    settings = {
        "model": loaded.name, **{k: getattr(used, k) for k in ExtractConfig.fields_where("record")},
        "corpus_sha256": lines.checksum,
        "sentence_start": spec.start, "sentence_stop": spec.stop,
        "num_sentences_total": lines.num_sentences, "shard_index": spec.index,
        "num_shards": spec.count, "tokenizer": type(loaded.tokenizer).__name__,
        "model_type": loaded.config.model_type, "num_model_layers": loaded.num_layers,
        "sites": ",".join(str(comp.site(loaded.model, lay)) for lay in chosen),
        "match_settings": ",".join(ExtractConfig.fields_where("match")),
        # what was actually used: "auto" resolved, a loaded model's own dtype and attention
        "model_dtype": loaded.dtype,
        "attn_implementation": str(getattr(loaded.config, "_attn_implementation", None) or ""),
    }
    width = comp.width(loaded.model)
    writer = _open_writer(output, encoded, chosen, width, cfg.dtype, settings,
                          resume=cfg.resume, overwrite=cfg.overwrite,
                          legacy_checksum=lambda: corpus_checksum(
                              lines.read(0, lines.num_sentences)))
    if writer is None:
        return
    digest = plan_digest(units)
    state = writer.load_checkpoint() if cfg.resume else None
    done, stats = 0, RunningStats.empty((len(chosen), width))
    if state is not None and str(state.get("plan_digest")) == digest:
        done = int(state["units_done"])
        stats = RunningStats.from_dict(state)
        log.info("resuming %s: %d of %d batches already written", output, done, len(units))
    elif state is not None:
        log.warning("progress file of %s does not match this plan; starting over", output)
    _run(runner, units, done, stats, writer, digest, quiet=cfg.quiet,
         checkpoint_seconds=cfg.checkpoint_seconds)
    log.info("wrote %s: %d sentences, %d rows, layers %s", output, len(words),
             sum(len(e.rows) for e in encoded), chosen)


def _legacy_match(key: str, have: Any, settings: dict[str, Any], legacy_checksum: Any) -> bool:
    """Whether a store written before plan parts (no ``plan_shards``) agrees after all: it was
    planned in one part, and its corpus checksum was taken over the parsed words."""
    if key == "plan_shards":
        return have is None and int(settings[key]) == 1
    if key == "corpus_sha256":
        return str(have) == legacy_checksum()
    return False


def _open_writer(output: Path, encoded, layers, width, dtype, settings, *, resume, overwrite,
                 legacy_checksum=None):
    if output.exists() and resume:
        writer = StoreWriter(output) if _is_store(output) else None
        if writer is None:
            raise StoreError(f"{output} is not a neuroheat store; cannot resume it (use "
                             "--overwrite to replace it)")
        legacy = "plan_shards" not in writer.attrs and legacy_checksum is not None
        for key in _SETTINGS:
            have = writer.attrs.get(key)
            if str(have) == str(settings[key]) or (
                    legacy and _legacy_match(key, have, settings, legacy_checksum)):
                continue
            raise StoreError(
                f"cannot resume {output}: its {key} is {have!r} but this run has "
                f"{settings[key]!r}; use the same settings or --overwrite")
        if [int(x) for x in writer.layers] != list(layers):
            raise StoreError(f"cannot resume {output}: it stores layers {writer.layers}, this run "
                             f"asks for {list(layers)}; use the same --layers or --overwrite")
        if bool(writer.attrs.get("complete")):
            log.info("%s is already complete; nothing to resume", output)
            writer.close()
            return None
        return writer
    rows = [e.rows for e in encoded]
    untok, base = [], 0
    for e in encoded:
        untok.extend(base + u for u in e.untokenized)
        base += len(e.rows)
    return StoreWriter.create(output, rows, layers=layers, width=width, dtype=dtype,
                              attrs=settings, untokenized=untok, overwrite=overwrite or resume)


def _is_store(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") in ("neuroheat-activations", b"neuroheat-activations")
    except OSError:
        return False


def _run(runner, units, done, stats, writer, digest, *, quiet, checkpoint_seconds):
    """Compute units on the device while a writer thread stores finished ones in order."""
    from tqdm.auto import tqdm

    total = sum(u.n_rows for u in units)
    bar = tqdm(total=total, initial=sum(u.n_rows for u in units[:done]), unit="word",
               disable=quiet or not sys.stderr.isatty(), desc="extract", smoothing=0.1)
    merged = {"stats": stats}
    writer_offsets = _sentence_offsets(runner.encoded)

    def save(units_done: int) -> None:
        state = merged["stats"].as_dict()
        state.update(units_done=np.int64(units_done), plan_digest=np.str_(digest))
        writer.checkpoint(state)

    def consume(res: Any) -> None:
        rows = res.numpy()
        for k, s in enumerate(res.unit.sentences):
            a, b = res.row_starts[k], res.row_starts[k + 1]
            start = int(writer_offsets[s])
            for pos in range(rows.shape[1]):
                writer.write(pos, start, rows[a:b, pos])
        merged["stats"] = merged["stats"].merge(res.stats)

    run_overlapped(units, done, produce=runner.run, consume=consume, save=save,
                   checkpoint_seconds=checkpoint_seconds, bar=bar, path=writer.path)
    writer.finalize(merged["stats"])


def _sentence_offsets(encoded) -> np.ndarray:
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e.rows) for e in encoded], out=offsets[1:])
    return offsets
