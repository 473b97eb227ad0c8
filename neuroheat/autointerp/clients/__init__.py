"""Clients that answer prompts: a local model through transformers, or an OpenAI-compatible
server on loopback.

Example:
    >>> from neuroheat.autointerp.clients import check_endpoint
    >>> check_endpoint("http://127.0.0.1:8000/v1")
    'http://127.0.0.1:8000/v1'
"""

from __future__ import annotations

from typing import Any

from neuroheat.autointerp.clients.base import Client, NoLogprobs, RequestFailed
from neuroheat.autointerp.clients.http import HTTPClient, check_endpoint

__all__ = ["Client", "HTTPClient", "LocalClient", "NoLogprobs", "RequestFailed",
           "check_endpoint", "make_client"]


def __getattr__(name: str) -> Any:
    if name == "LocalClient":  # imports torch only when asked for
        from neuroheat.autointerp.clients.local import LocalClient

        return LocalClient
    raise AttributeError(name)


def make_client(config: Any) -> Client:
    """The client an :class:`~neuroheat.autointerp.config.ExplainConfig` names."""
    if config.endpoint is not None:
        return HTTPClient(config.endpoint, model=config.model_name,
                          api_key_env=config.api_key_env, allow_remote=config.allow_remote,
                          timeout=config.timeout, retries=config.retries, seed=config.seed)
    from neuroheat.autointerp.clients.local import LocalClient

    return LocalClient(config.explainer_model, device=config.device,
                       batch_size=config.batch_size)
