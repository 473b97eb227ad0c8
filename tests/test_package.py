"""Package-level behaviour: cheap import, lazy API, CLI dispatcher."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import neuroheat as nh


def test_import_is_cheap_and_side_effect_free():
    code = ("import sys, neuroheat, neuroheat.analysis, neuroheat.viz, neuroheat.store, "
            "neuroheat.kernels; "
            "print(sorted(m for m in ('torch', 'transformers', 'numba') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_top_level_names():
    for name in ("open_store", "write_store", "extract_activations", "saliency", "gradcam",
                 "Saliency", "merge_stores", "import_neurox", "export_neurox", "load_model"):
        assert callable(getattr(nh, name)), name
    assert nh.analysis.top_words and nh.viz.visualize_activations


def test_cli_survives_a_closed_pipe(tmp_path):
    """Closing the output pipe early (`neuroheat ... | head`) is not an error."""
    rng = np.random.default_rng(0)
    words = [[f"w{i % 97}" for i in range(400)] for _ in range(5)]
    store = nh.write_store(tmp_path / "s.h5", words, [rng.normal(size=(400, 2, 512))] * 5)
    proc = subprocess.Popen([sys.executable, "-m", "neuroheat", "top-words", str(store), "--all",
                             "--csv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Broken pipe" not in err and "Traceback" not in err


def test_version_and_help():
    out = subprocess.run([sys.executable, "-m", "neuroheat", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == f"neuroheat {nh.__version__}"
    out = subprocess.run([sys.executable, "-m", "neuroheat", "--help"], capture_output=True,
                         text=True, check=True)
    for command in ("extract", "info", "top-words", "render", "saliency", "merge", "demo"):
        assert command in out.stdout
