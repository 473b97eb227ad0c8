"""Where and in what precision a model's weights live: ``model_dtype`` and ``device_map``.

``model_dtype`` is the dtype the weights are loaded in (and the model computes in):
``auto`` takes the checkpoint's own dtype (``config.dtype`` / ``config.torch_dtype``) when
the model runs on CUDA and float32 on CPU (CPUs compute half precision slowly). A
``device_map`` (``auto``, ``balanced`` or ``sequential``) spreads a model over every visible
GPU (and CPU memory after them) through ``accelerate``; such a model is never moved as a
whole, and its inputs go to the device of its input embeddings (:func:`input_device`).

Example:
    >>> resolve_model_dtype("auto", {"torch_dtype": "bfloat16"}, "cpu")
    torch.float32
    >>> resolve_model_dtype("auto", {"torch_dtype": "bfloat16"}, "cuda")
    torch.bfloat16
    >>> resolve_model_dtype("float16", {}, "cpu")
    torch.float16
"""

from __future__ import annotations

import importlib.util
from typing import Any

from neuroheat.errors import InputError, UnsupportedModelError

MODEL_DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICE_MAPS = ("auto", "balanced", "sequential")


def checkpoint_dtype(config: Any) -> str | None:
    """The dtype a checkpoint was saved in, from its config (``None`` when it does not say)."""
    for key in ("dtype", "torch_dtype"):
        value = config.get(key) if isinstance(config, dict) else getattr(config, key, None)
        if value is not None:
            return str(value).removeprefix("torch.")
    return None


def resolve_model_dtype(model_dtype: str | None, config: Any, device_type: str) -> Any:
    """The ``torch.dtype`` to load weights in (see the module docstring for ``auto``)."""
    import torch

    name = model_dtype or "auto"
    if name not in MODEL_DTYPES:
        raise InputError(f"unknown model dtype {name!r}; choose one of {', '.join(MODEL_DTYPES)}")
    if name == "auto":
        saved = checkpoint_dtype(config) if device_type == "cuda" else None
        name = saved if saved in MODEL_DTYPES else "float32"
    return getattr(torch, name)


def check_device_map(device_map: str | None) -> None:
    """Refuse an unknown device map, and a device map without ``accelerate`` installed."""
    if device_map is None:
        return
    if device_map not in DEVICE_MAPS:
        raise InputError(f"unknown device map {device_map!r}; choose one of "
                         f"{', '.join(DEVICE_MAPS)}")
    if importlib.util.find_spec("accelerate") is None:
        raise UnsupportedModelError(f"--device-map {device_map} spreads the model with the "
                                    "accelerate package, which is not installed; run `pip "
                                    "install accelerate`")


def is_dispatched(model: Any) -> bool:
    """Whether the model is spread over devices by accelerate (it has an ``hf_device_map``)."""
    return bool(getattr(model, "hf_device_map", None))


def input_device(model: Any) -> Any:
    """Where inputs go: the device of the input embeddings (their execution device when
    accelerate offloads them)."""
    import torch

    embeddings = model.get_input_embeddings()
    hook = getattr(embeddings, "_hf_hook", None)
    execution = getattr(hook, "execution_device", None)
    if execution is not None:
        return torch.device(execution if not isinstance(execution, int) else f"cuda:{execution}")
    weight = getattr(embeddings, "weight", None)
    if weight is not None and weight.device.type != "meta":
        return weight.device
    return next(p.device for p in model.parameters() if p.device.type != "meta")


def dtype_name(model: Any) -> str:
    """The dtype the model computes in, e.g. ``"bfloat16"``."""
    dtype = getattr(model, "dtype", None)
    if dtype is None:
        dtype = next(model.parameters()).dtype
    return str(dtype).removeprefix("torch.")
