"""The README's "Lenses and direct logit attribution" commands run as written (its Python
block runs in tests/test_readme.py, whose folder has the same tiny causal LM)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from neuroheat.cli import main
from tests.helpers import builders

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Lenses and direct logit attribution", 1)[1].split("\n## ", 1)[0]


def test_section_sits_before_where_things_live():
    assert README.index("## Lenses and direct logit attribution") < \
        README.index("## Where things live")
    assert "docs/figures/lens.png" in SECTION
    assert (Path(__file__).resolve().parents[2] / "docs" / "figures" / "lens.png").exists()


def test_commands_run_as_written(tmp_path, monkeypatch):
    model = builders.tiny_gpt2(tmp_path / "model", head="causal")
    (tmp_path / "path" / "to").mkdir(parents=True)
    (tmp_path / "path" / "to" / "gpt2").symlink_to(model, target_is_directory=True)
    (tmp_path / "corpus.txt").write_text("The quick brown fox jumps over the lazy dog .\n"
                                         "cats dogs birds\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    block = re.search(r"```bash\n(.*?)```", SECTION, flags=re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 4
    for line in lines:
        argv = shlex.split(line)
        assert argv[0] == "neuroheat" and main(argv[1:]) == 0, line
    for name in ("lens.svg", "lens.html", "dla.json", "dla.h5"):
        assert (tmp_path / name).exists()
