"""Extract SAE latents of a corpus into a sparse store (``extract_activations(..., saes=[...])``).

Same corpus reading, alignment, plan, shards, lock and resume as dense extraction
(:func:`~neuroheat.extract.activations.extract_activations` hands over here once it has the
shard's lines and holds the output's lock); the runner is
:class:`~neuroheat.extract.latent_runner.LatentRunner` and the writer
:class:`~neuroheat.store.sparse_writer.SparseStoreWriter`. The stored layers are the SAEs'
base-site layers, named ``sae.<site>`` in ``sites``; the SAEs' records (format, hook, site,
widths, weight fingerprint) are the ``saes`` attribute, and the fingerprints must agree for
``--resume`` and between shards.

Example:
    >>> nh.extract_activations(llama, "corpus.txt", "lat.h5", saes=["saes/blocks.6.hook_resid_post"])  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import InputError, StoreError
from neuroheat.extract import align
from neuroheat.extract.config import ExtractConfig
from neuroheat.extract.overlap import run_overlapped
from neuroheat.extract.plan import plan_digest, plan_units
from neuroheat.extract.shard import auto_device, plan_in_blocks
from neuroheat.model.loading import load_model
from neuroheat.sae.formats import load_saes
from neuroheat.sae.sites import LatentSites
from neuroheat.store.sparse_reader import SparseStore
from neuroheat.store.sparse_writer import SparseStoreWriter
from neuroheat.store.stats import RunningStats

log = logging.getLogger(__name__)

# the dense extraction's defaults (extract/activations.py DEFAULT_BATCH_TOKENS)
_BATCH_TOKENS = {"cpu": 1024, "cuda": 16384}
_RESUME_KEYS = ("model", *ExtractConfig.fields_where("match"), "corpus_sha256",
                "sentence_start", "sentence_stop", "num_sentences_total", "sae_fingerprints")


def extract_latents(model: Any, lines: Any, spec: Any, block: int, output: Path,
                    cfg: ExtractConfig) -> None:
    """Extract the latents of ``cfg.saes`` for the sentences of shard ``spec`` of ``lines``.

    Example:
        >>> extract_latents(llama, lines, spec, 1024, Path("lat.h5"), cfg)   # doctest: +SKIP
    """
    _check_options(cfg, output)
    saes = load_saes(list(cfg.saes))
    if cfg.random_weights:
        import torch

        torch.manual_seed(cfg.seed)
    device = cfg.device if cfg.device_map else auto_device(cfg.device)
    loaded = load_model(model, "base", device=device, random_weights=cfg.random_weights,
                        revision=cfg.revision, trust_remote_code=cfg.trust_remote_code,
                        model_dtype=cfg.model_dtype, device_map=cfg.device_map,
                        attn_implementation=cfg.attn_implementation)
    bound = LatentSites(loaded.model, saes)
    words = lines.read(spec.start, spec.stop)
    batch_tokens = int(cfg.batch_tokens or _BATCH_TOKENS.get(loaded.device.type, 4096))
    max_length = int(min(cfg.max_length or loaded.max_length, loaded.max_length))
    runner, units, encoded = _plan(loaded, bound, words, cfg, batch_tokens, max_length,
                                   spec, block)
    settings = _settings(loaded, bound, cfg, lines, spec, block, batch_tokens, max_length)
    writer = _open(output, encoded, bound, cfg, settings)
    if writer is None:
        return
    shape = (len(bound.layers), bound.width())
    digest = plan_digest(units)
    state = writer.load_checkpoint() if cfg.resume else None
    done, stats, active = 0, RunningStats.empty(shape), np.zeros(shape, np.int64)
    if state is not None and str(state.get("plan_digest")) == digest:
        done, stats, active = int(state["units_done"]), RunningStats.from_dict(state), \
            state["active"].astype(np.int64)
        log.info("resuming %s: %d of %d batches already written", output, done, len(units))
    elif state is not None:
        log.warning("progress file of %s does not match this plan; starting over", output)
        writer.truncate([0] * len(bound.layers))
    _run(runner, units, done, stats, active, writer, digest, quiet=cfg.quiet,
         checkpoint_seconds=cfg.checkpoint_seconds)
    log.info("wrote %s: %d sentences, SAE latents at %s", output, len(words),
             ", ".join(bound.names))
    _log_dead(output, bound)


def _check_options(cfg: ExtractConfig, output: Path) -> None:
    if cfg.layers is not None:
        raise InputError("--layers does not apply with --sae: the stored layers are the SAEs' "
                         "sites")
    if cfg.component != "hidden":
        raise InputError(f"--component {cfg.component} does not apply with --sae: each SAE's "
                         "hook names its site (give SITE=DIR to choose one)")
    if output.exists() and not (cfg.resume or cfg.overwrite):
        raise InputError(f"{output} exists; pass --overwrite to replace it or --resume to "
                         "continue an interrupted extraction")


def _settings(loaded, bound, cfg, lines, spec, block, batch_tokens, max_length
              ) -> dict[str, Any]:
    """The store's attributes: what was used (as dense extraction records it) plus the SAEs."""
    used = ExtractConfig.build(
        cfg, include_special_tokens=bool(cfg.include_special_tokens), batch_tokens=batch_tokens,
        max_length=max_length, random_weights=bool(cfg.random_weights), seed=int(cfg.seed),
        plan_block=block, plan_shards=int(cfg.plan_shards or spec.count),
        revision=cfg.revision or "", saes=())
    records = bound.describe()
    return {
        "model": loaded.name,
        **{k: getattr(used, k) for k in ExtractConfig.fields_where("record") if k != "saes"},
        "component": "sae", "corpus_sha256": lines.checksum,
        "sentence_start": spec.start, "sentence_stop": spec.stop,
        "num_sentences_total": lines.num_sentences, "shard_index": spec.index,
        "num_shards": spec.count, "tokenizer": type(loaded.tokenizer).__name__,
        "model_type": loaded.config.model_type, "num_model_layers": loaded.num_layers,
        "sites": ",".join(bound.names), "saes": records,
        "sae_fingerprints": ",".join(r["fingerprint"] for r in records),
        "match_settings": ",".join([*ExtractConfig.fields_where("match"), "sae_fingerprints"]),
        "model_dtype": loaded.dtype,
        "attn_implementation": str(getattr(loaded.config, "_attn_implementation", None) or ""),
    }


def _log_dead(output: Path, bound: LatentSites) -> None:
    """Log each SAE's active latents per word and dead latents (the first thing to know)."""
    with SparseStore(output) as store:
        for name, layer in zip(bound.names, bound.layers, strict=True):
            dead = int((store.active(layer) == 0).sum())
            log.info("%s: %.1f latents active per word; %d of %d never active on this corpus "
                     "(dead)", name, store.nnz(layer) / max(1, store.num_words), dead,
                     bound.width())


def _plan(loaded, bound, words, cfg, batch_tokens, max_length, spec, block):
    from neuroheat.extract.latent_runner import LatentRunner

    encoded = align.encode_corpus(loaded.tokenizer, words, cfg.aggregation,
                                  include_special_tokens=cfg.include_special_tokens,
                                  first_line=spec.start + 1) if words else []
    specials = align.special_tokens(loaded.tokenizer)
    n_special = len(specials.prefix) + len(specials.suffix)
    kwargs = dict(n_special=n_special, capacity=max_length - n_special,
                  batch_tokens=batch_tokens, causal=loaded.causal)
    if block:
        parts = getattr(spec, "parts", None) or None
        extra = {"parts": parts} if parts else {}
        units = plan_in_blocks(encoded, start=spec.start, block=block, **extra, **kwargs)
    else:
        units = plan_units(encoded, **kwargs)
    runner = LatentRunner(loaded, bound, encoded, specials, cfg.aggregation, cfg.dtype,
                          first_line=spec.start + 1)
    return runner, units, encoded


def _open(output: Path, encoded, bound, cfg, settings) -> SparseStoreWriter | None:
    if output.exists() and cfg.resume:
        try:
            writer = SparseStoreWriter(output)
        except (OSError, StoreError):
            raise StoreError(f"{output} is not a sparse neuroheat store; cannot resume it "
                             "(use --overwrite to replace it)") from None
        for key in _RESUME_KEYS:
            if str(writer.attrs.get(key)) != str(settings.get(key)):
                writer.close()
                raise StoreError(f"cannot resume {output}: its {key} is "
                                 f"{writer.attrs.get(key)!r} but this run has "
                                 f"{settings.get(key)!r}; use the same settings or --overwrite")
        if bool(writer.attrs.get("complete")):
            log.info("%s is already complete; nothing to resume", output)
            writer.close()
            return None
        return writer
    untok, base = [], 0
    for e in encoded:
        untok.extend(base + u for u in e.untokenized)
        base += len(e.rows)
    return SparseStoreWriter.create(output, [e.rows for e in encoded], layers=bound.layers,
                                    width=bound.width(), dtype=cfg.dtype, attrs=settings,
                                    untokenized=untok, overwrite=cfg.overwrite or cfg.resume,
                                    max_nnz=[s.k or 0 for s in bound.saes])


def _run(runner, units, done, stats, active, writer, digest, *, quiet, checkpoint_seconds):
    """Compute units on the device while a writer thread stages finished ones in order."""
    from tqdm.auto import tqdm

    bar = tqdm(total=sum(u.n_rows for u in units), initial=sum(u.n_rows for u in units[:done]),
               unit="word", disable=quiet or not sys.stderr.isatty(), desc="extract latents")
    merged = {"stats": stats, "active": active}

    def save(units_done: int) -> None:
        state = merged["stats"].as_dict()
        state.update(units_done=np.int64(units_done), plan_digest=np.str_(digest),
                     active=merged["active"])
        writer.checkpoint(state)

    def consume(res: Any) -> None:
        for pos, codes in enumerate(res.codes):
            writer.write_unit(pos, res.unit.sentences, res.row_starts, codes.row_nnz,
                              codes.indices, codes.values)
        merged["stats"] = merged["stats"].merge(res.stats)
        merged["active"] = merged["active"] + res.active

    try:
        run_overlapped(units, done, produce=runner.run, consume=consume, save=save,
                       checkpoint_seconds=checkpoint_seconds, bar=bar, path=writer.path,
                       name="neuroheat-latent-writer")
    except BaseException:
        writer.close()
        raise
    writer.finalize(merged["stats"], merged["active"])
