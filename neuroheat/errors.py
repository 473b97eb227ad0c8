"""Exception types. Every error caused by user input is a ``ValueError`` subclass.

The CLI turns any :class:`NeuroheatError` into one line on stderr and a non-zero exit.

Example:
    >>> from neuroheat.errors import InputError
    >>> issubclass(InputError, ValueError)
    True
"""

from __future__ import annotations


class NeuroheatError(Exception):
    """Base class of every error neuroheat raises on purpose."""


class InputError(NeuroheatError, ValueError):
    """Bad user input: the message names the problem and the fix."""


class ModelNotFoundError(InputError):
    """A model id or directory cannot be loaded offline."""


class UnsupportedModelError(InputError):
    """The model's architecture or head does not support the requested operation."""


class CorpusError(InputError):
    """The corpus cannot be read (bad encoding, wrong type, ...)."""


class StoreError(InputError):
    """A file is not a neuroheat store, is damaged, or is used inconsistently."""


class IncompleteStoreError(StoreError):
    """The store was not finished (interrupted extraction); resume it first."""


class ActivationRangeError(InputError):
    """An activation is not finite, or outside what the storage dtype holds (float16)."""


class OutputExistsError(InputError):
    """The output exists and neither overwrite nor resume was asked for."""


class StoreLockedError(StoreError):
    """Another live process is writing the same output (its host and pid are named)."""


class DiskSpaceError(StoreError):
    """The file system has too little space for the output (bytes needed and free are named)."""


class ExportError(NeuroheatError):
    """A figure cannot be converted: no converter is available, or the converter failed."""
