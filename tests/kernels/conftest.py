"""Kernel tests run the compiled kernels whatever the size of their data
(``NEUROHEAT_KERNELS=numba``); a test sets ``numpy`` for the reference run."""

from __future__ import annotations

import pytest

from neuroheat import kernels


@pytest.fixture(autouse=True)
def compiled_kernels(monkeypatch):
    monkeypatch.setenv(kernels.ENV, "numba")
