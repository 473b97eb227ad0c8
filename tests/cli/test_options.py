"""Shared CLI spellings: --overwrite (deprecated --force), --layers SPEC (deprecated --layer)."""

from __future__ import annotations

import argparse

import pytest

from neuroheat.cli.options import add_layers_argument, add_overwrite_argument, layers_of


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    add_layers_argument(p, legacy_layer=True)
    add_overwrite_argument(p)
    return p


def test_new_spellings():
    args = _parser().parse_args(["--layers", "0,2-3", "--overwrite"])
    assert layers_of(args) == [0, 2, 3] and args.overwrite
    assert layers_of(_parser().parse_args([])) is None


def test_old_spellings_warn_and_still_work(caplog):
    with pytest.warns(DeprecationWarning, match="--force is deprecated.*--overwrite"):
        args = _parser().parse_args(["--force"])
    assert args.overwrite
    with pytest.warns(DeprecationWarning, match="--layer is deprecated.*--layers SPEC"):
        args = _parser().parse_args(["--layer", "1", "--layer", "3"])
    assert layers_of(args) == [1, 3]


def test_cli_bug_keeps_its_traceback(monkeypatch, capsys):
    """Bad input is one line and exit 2; a plain ValueError is a bug and is not hidden."""
    import neuroheat.cli.cmd_info as info
    from neuroheat.cli import main

    assert main(["info", "/nonexistent/store.h5"]) == 2
    assert capsys.readouterr().err.count("\n") == 1

    def broken(args):
        raise ValueError("internal invariant")

    monkeypatch.setattr(info, "run", broken)
    with pytest.raises(ValueError, match="internal invariant"):
        main(["info", "x.h5"])
