"""PNG/vector-PDF export, the render command, and TransformersVisualizer on a tiny BERT."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pytest

from neuroheat.cli import main
from neuroheat.errors import InputError
from neuroheat.viz import save, visualize_activations
from tests.helpers import builders
from tests.helpers.raster import NS, needs_raster
from tests.helpers.stores import small_mixed_store


def _pdf_streams(data: bytes) -> list[bytes]:
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        raw = m.group(1)
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def assert_vector_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF")
    assert b"/Subtype /Image" not in data and b"/Subtype/Image" not in data
    ops = b"\n".join(_pdf_streams(data))
    # Path construction and fill operators: curves (c), lines (l), moves (m), fill (f).
    assert re.search(rb"[\d.]+ [\d.]+ m\b", ops) and re.search(rb" c\b", ops)
    assert re.search(rb"\bf\b", ops)


@needs_raster
@pytest.mark.parametrize("backend", ["rsvg", "cairosvg"])
def test_png_and_vector_pdf_export(tmp_path, monkeypatch, backend):
    if backend == "rsvg" and not shutil.which("rsvg-convert"):
        pytest.skip("rsvg-convert not installed")
    if backend == "cairosvg":
        pytest.importorskip("cairosvg")
    monkeypatch.setenv("NEUROHEAT_SVG_BACKEND", backend)
    dwg = visualize_activations(["مرحبا", "world", "中文"], [1.0, -0.5, 0.3], colorbar=True)
    png = dwg.save(tmp_path / "f.png", scale=2)
    pdf = dwg.save(tmp_path / "f.pdf")
    svg = dwg.save(tmp_path / "f.svg")
    from PIL import Image

    w, h = Image.open(png).size
    assert w == pytest.approx(2 * float(dwg["width"]), abs=2)
    assert_vector_pdf(pdf.read_bytes())
    ET.parse(svg)
    with pytest.raises(InputError, match="must end in"):
        save(dwg, tmp_path / "f.jpg")


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return small_mixed_store(tmp_path_factory.mktemp("store"))


@needs_raster
def test_render_from_store(store_path, tmp_path, capsys):
    path, sents, acts = store_path
    out = tmp_path / "one.svg"
    assert main(["render", str(path), "--sentence", "1", "--layer", "2", "--neuron", "5",
                 "-o", str(out), "--darken", "1"]) == 0
    root = ET.parse(out).getroot()
    vals = [float(g.get("data-activation")) for g in root.findall(".//s:g[@class='nh-token']", NS)]
    np.testing.assert_allclose(vals, acts[1][:, 2, 5], rtol=1e-6)
    for suffix in (".png", ".pdf"):
        out = tmp_path / f"many{suffix}"
        assert main(["render", str(path), "--sentences", "0,2", "--layer", "1", "--neuron", "3",
                     "-o", str(out), "--rtl", "--filter", "top_tokens", "--char-limit", "20",
                     "--font-size", "14", "--colorbar", "--title", "auto"]) == 0
        assert out.stat().st_size > 1000
    assert_vector_pdf((tmp_path / "many.pdf").read_bytes())
    # Errors: one line, exit 2.
    assert main(["render", str(path), "--sentence", "9", "--layer", "1", "--neuron", "0",
                 "-o", str(tmp_path / "x.svg")]) == 2
    assert "sentences 0..2" in capsys.readouterr().err
    assert main(["render", str(path), "--sentence", "0", "--layer", "1", "--neuron", "99",
                 "-o", str(tmp_path / "x.svg")]) == 2
    assert "neurons 0..7" in capsys.readouterr().err
    assert main(["render", str(path), "--sentence", "0", "--layer", "1", "--neuron", "0",
                 "-o", str(tmp_path / "one.svg")]) == 2  # exists, no --force
    assert "--force" in capsys.readouterr().err


def test_render_takes_a_store_glob(store_path, tmp_path):
    path, sents, acts = store_path
    out = tmp_path / "glob.svg"
    assert main(["render", str(path.parent / "act*.h5"), "--sentence", "1", "--layer", "2",
                 "--neuron", "5", "-o", str(out)]) == 0
    root = ET.parse(out).getroot()
    vals = [float(g.get("data-activation")) for g in root.findall(".//s:g[@class='nh-token']", NS)]
    np.testing.assert_allclose(vals, acts[1][:, 2, 5], rtol=1e-6)


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    return builders.tiny_bert(tmp_path_factory.mktemp("viz-models") / "bert")


@needs_raster
def test_render_from_model(bert, tmp_path):
    out = tmp_path / "m.pdf"
    assert main(["render", str(bert), "--text", "the quick brown fox", "--layer", "2",
                 "--neuron", "4", "-o", str(out)]) == 0
    assert_vector_pdf(out.read_bytes())
    assert main(["render", str(bert), "--sentence", "0", "--layer", "2", "--neuron", "4",
                 "-o", str(tmp_path / "x.svg")]) == 2
