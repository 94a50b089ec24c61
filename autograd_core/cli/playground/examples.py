"""Formulas from the textbook chapter (``shared/seeds``), for the playground's
example list and practice mode. Each is ``(title, formula, values, source)``."""

from __future__ import annotations

EXAMPLES: tuple[tuple[str, str, dict[str, float], str], ...] = (
    ("Automatic differentiation: f(x; w, b) = 1/(exp(-(wx+b))+1)",
     "1/(exp(-(x*w+b))+1)", {"x": 1.0, "w": 0.0, "b": 0.0},
     "《神经网络与深度学习》, 计算图与自动微分 (h1 … h6, at x=1, w=0, b=0)"),
    ("One sigmoid neuron per layer, four layers, with a loss",
     "(sigmoid(w4*sigmoid(w3*sigmoid(w2*sigmoid(w1*x+b1)+b2)+b3)+b4) - y)**2",
     {"x": 1.0, "w1": 0.5, "b1": 0.1, "w2": 0.5, "b2": 0.1, "w3": 0.5, "b3": 0.1,
      "w4": 0.5, "b4": 0.1, "y": 1.0},
     "梯度消失与梯度爆炸, y_i = σ(w_i·x_i + b_i), eq. (1)-(2): |σ'(z)·w| ≤ 1/4 per layer"),
    ("Exploding gradients: w = 100, biases chosen so every z = 0",
     "sigmoid(w2*sigmoid(w1*a0+b1)+b2)", {"a0": 1.0, "w1": 100.0, "b1": -100.0,
                                          "w2": 100.0, "b2": -50.0},
     "消失的梯度问题: w_j = 100, b_j = -100·a_(j-1), so every w·σ'(z) = 100 · 1/4 = 25"),
    ("A deep composite F(x) = f2(f1(x)·θ1 + b)·θ2 + b and its squared loss",
     "(g - (tanh(tanh(x*t1+b)*t2+b)))**2", {"x": 0.5, "t1": 0.8, "t2": 1.2, "b": 0.1, "g": 1.0},
     "梯度更新规则: F(x) = f_n(…f_2(f_1(x)·θ_1 + b)·θ_2 + b…), Loss = ‖g(x) − F(x)‖²"),
    ("tanh written with exp", "(exp(x)-exp(-x))/(exp(x)+exp(-x))", {"x": 0.5},
     "激活函数: tanh(x) = (exp(x) − exp(−x)) / (exp(x) + exp(−x)), f'(x) = 1 − f(x)²"),
    ("Softplus, whose derivative is the logistic function", "log(1+exp(x))", {"x": 0.0},
     "激活函数: softplus(x) = log(1 + exp(x)), f'(x) = 1/(1 + exp(−x))"),
    ("ReLU at its kink", "relu(x*w+b)", {"x": 1.0, "w": 1.0, "b": -1.0},
     "激活函数: ReLU(x) = max(0, x), f'(x) = I(x > 0)"),
)


def as_json() -> list[dict[str, object]]:
    """The examples as JSON-ready dicts (the page's list)."""
    return [{"title": t, "formula": f, "values": dict(v), "source": s} for t, f, v, s in EXAMPLES]
