"""Drawing an nn model's loss graph summarised by module (left over from the nn issue):
nn.MLP(784, [30, 30, 10]) on one image, one box per neuron with its gradient norm."""

from __future__ import annotations

import math
import re
import shutil
import time

import pytest

import nn
from nn.experiments import load_images
from visualize import draw_graph, fmt_number, render


def _loss_of_one_image():
    X, y, _ = load_images(1)        # real MNIST image 0 when present, else the stand-in
    model = nn.MLP(784, [30, 30, 10], activation="sigmoid", output_activation="sigmoid", seed=0)
    loss = nn.losses.binary_cross_entropy(model(X[0]), int(y[0]))
    loss.backward()
    return model, loss


def test_collapsed_module_drawing_has_one_box_per_neuron_with_its_gradient_norm():
    model, loss = _loss_of_one_image()
    src = draw_graph(loss, group_by="module", collapse=True).source
    boxes = re.findall(r"<B>(layers\.\d+\.neurons\.\d+)</B>.*?‖∇params‖ ([^<]+)</TD>.*?shape=box3d",
                       src)
    assert len(boxes) == 30 + 30 + 10
    assert len({name for name, _ in boxes}) == 70
    for name, shown in boxes:
        _, li, _, ni = name.split(".")
        neuron = model.layers[int(li)].neurons[int(ni)]
        norm = math.sqrt(math.fsum(p.grad ** 2 for p in neuron.parameters()))
        assert shown == fmt_number(norm)
    # one dashed cluster per layer holds its neurons
    assert src.count("subgraph cluster") >= 3


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_collapsed_module_drawing_renders_png_in_seconds(tmp_path):
    _, loss = _loss_of_one_image()
    t = time.perf_counter()
    path = render(loss, tmp_path / "mlp.png", group_by="module", collapse=True)
    elapsed = time.perf_counter() - t
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    assert elapsed < 30.0  # a sanity bound for "seconds", not a benchmark
