"""Grad-CAM for 1-D CNN text classifiers: trained on a task whose decisive tokens are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from neuroheat.attribution import gradcam
from neuroheat.errors import InputError

VOCAB, LENGTH, POS_TOKEN, NEG_TOKEN = 24, 14, 2, 3


class KimCNN(nn.Module):
    """Embedding -> parallel convolutions (widths 3 and 5) -> max over time -> linear."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16)
        self.conv3 = nn.Conv1d(16, 16, 3, padding=1)
        self.conv5 = nn.Conv1d(16, 16, 5)
        self.pool = nn.MaxPool1d(2)
        self.out = nn.Linear(32, 2)

    def forward(self, ids):
        x = self.embed(ids).transpose(1, 2)
        a = self.pool(torch.relu(self.conv3(x))).amax(-1)
        b = torch.relu(self.conv5(x)).amax(-1)
        return self.out(torch.cat([a, b], dim=1))


def make_data(n, gen):
    """Random filler tokens with exactly one decisive token: POS -> class 1, NEG -> class 0."""
    x = torch.randint(4, VOCAB, (n, LENGTH), generator=gen)
    y = torch.randint(0, 2, (n,), generator=gen)
    where = torch.randint(0, LENGTH, (n,), generator=gen)
    x[torch.arange(n), where] = torch.where(y == 1, POS_TOKEN, NEG_TOKEN)
    return x, y, where


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = KimCNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(80):
        x, y, _ = make_data(64, gen)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y, where = make_data(200, gen)
    with torch.no_grad():
        assert (model(x).argmax(-1) == y).float().mean() > 0.97
    return model.eval(), x, y, where


@pytest.mark.parametrize("layer, variant", [
    ("conv3", "filters"), ("conv5", "filters"), ("pool", "filters"),
    # the positions variant is coarser (on the unpadded width-5 branch it peaks on the
    # decisive token for about 80% of the examples only), so it is checked on two layers
    ("conv3", "positions"), ("pool", "positions"),
])
def test_heatmap_peaks_on_decisive_tokens(trained, layer, variant):
    model, x, y, where = trained
    heat = gradcam(model, layer, x, variant=variant)
    assert heat.shape == x.shape and heat.min() >= 0 and heat.max() <= 1
    hits = [heat[i, where[i]] == heat[i].max() for i in range(len(x))]
    assert np.mean(hits) > (0.95 if variant == "filters" else 0.9), np.mean(hits)
    if layer == "conv3":  # narrow receptive fields: the peak sits on the decisive token only
        peaks = [np.flatnonzero(heat[i] == heat[i].max()) for i in range(len(x))]
        near = [np.all(np.abs(p - int(where[i])) <= 2) for i, p in enumerate(peaks)]
        assert np.mean(near) > 0.9


def test_single_sequence_and_target(trained):
    model, x, y, where = trained
    heat, cam = gradcam(model, model.conv3, x[0], return_positions=True)
    assert heat.shape == (LENGTH,) and cam.shape == (LENGTH,)
    assert np.isclose(heat.max(), 1.0)
    other = gradcam(model, model.conv3, x[0].tolist(), target=1 - int(y[0]))
    assert other.shape == (LENGTH,)


def test_receptive_fields_follow_convolutions_and_pooling(trained):
    model, x, _, _ = trained
    heat, cam = gradcam(model, "pool", x[:1], return_positions=True)
    assert cam.shape == (1, LENGTH // 2)
    # pool position i covers conv3 positions 2i, 2i+1, which cover tokens 2i-1 .. 2i+2
    fields = [(max(0, 2 * i - 1), min(LENGTH - 1, 2 * i + 2)) for i in range(LENGTH // 2)]
    again = gradcam(model, "pool", x[:1], receptive_fields=fields)
    np.testing.assert_array_equal(heat, again)
    # conv5 (no padding): position i covers tokens i .. i+4; a token takes the max over them
    heat5, cam5 = gradcam(model, "conv5", x[:1], return_positions=True)
    expected = [max(cam5[0, max(0, t - 4): t + 1]) for t in range(LENGTH)]
    np.testing.assert_allclose(heat5[0], expected)


def test_gradcam_bad_input(trained):
    model, x, _, _ = trained
    with pytest.raises(InputError, match="filters, positions"):
        gradcam(model, model.conv3, x[:2], variant="pixels")
    with pytest.raises(InputError, match="no layer"):
        gradcam(model, "conv9", x[:2])
    with pytest.raises(InputError, match="class in 0..1"):
        gradcam(model, model.conv3, x[:2], target=5)
    with pytest.raises(InputError, match="empty"):
        gradcam(model, model.conv3, torch.zeros(1, 0, dtype=torch.long))
    with pytest.raises(InputError, match="did not run"):
        gradcam(model, nn.Conv1d(16, 16, 3), x[:2])
    with pytest.raises(InputError, match="ranges"):
        gradcam(model, model.conv3, x[:2], receptive_fields=[(0, 0)])
