"""The README's Python and CLI examples run as written (in a folder holding the files they
name: ``corpus.txt``, a tiny masked-LM at ``path/to/bert-mlm`` and a tiny causal LM at
``path/to/gpt2``; MiniLM is the bundled one)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from neuroheat.cli import main
from neuroheat.corpora import pydoc_sentences
from tests.helpers import builders

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
CLI_EXAMPLES = re.search(r"run as written in `tests/test_readme.py`.*?\n\n```bash\n(.*?)```",
                         README, flags=re.S)


@pytest.fixture(scope="module")
def mlm(tmp_path_factory):
    return builders.tiny_bert(tmp_path_factory.mktemp("readme-model") / "bert-mlm", head="mlm",
                              max_positions=64)


@pytest.fixture(scope="module")
def causal(tmp_path_factory):
    return builders.tiny_gpt2(tmp_path_factory.mktemp("readme-causal") / "gpt2", head="causal")


@pytest.fixture
def workdir(tmp_path, monkeypatch, mlm, minilm, causal):
    sentences = pydoc_sentences(24)
    (tmp_path / "corpus.txt").write_text("\n".join(" ".join(s) for s in sentences),
                                         encoding="utf-8")
    # a word property for the probing examples: capitalised, punctuation or other
    (tmp_path / "labels.txt").write_text("\n".join(
        " ".join("CAP" if w[:1].isupper() else "PUNCT" if not w[:1].isalnum() else "LOW"
                 for w in s) for s in sentences), encoding="utf-8")
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "bert-mlm").symlink_to(mlm, target_is_directory=True)
    (tmp_path / "path" / "to" / "gpt2").symlink_to(causal, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_has_the_examples():
    assert len(PYTHON_BLOCKS) >= 2 and CLI_EXAMPLES is not None


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_python_examples_run(workdir, index):
    exec(compile(PYTHON_BLOCKS[index], f"README.md python block {index}", "exec"), {})


def test_cli_examples_run(workdir, capsys):
    lines = [line for line in CLI_EXAMPLES.group(1).splitlines() if line.strip()]
    for line in lines:
        argv = shlex.split(line)
        assert argv[0] == "neuroheat"
        assert main(argv[1:]) == 0, line
    assert (workdir / "neuron.svg").exists() and (workdir / "cat.json").exists()
