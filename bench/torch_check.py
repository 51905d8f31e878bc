"""The engine against PyTorch's autograd, to 1e-12, when torch is installed.

Run ``.venv/bin/python bench/torch_check.py``. torch is never a requirement of the app: without
it the script says so and exits 0 (``pip install torch==2.13.0`` into the venv to run it).

What is compared, in float64, batch B = 3, T = 40, D = 5, H = 8, random h0 (and c0):
* ``torch.nn.RNN`` (tanh and relu), ``torch.nn.GRU`` and ``torch.nn.LSTM``, loaded with
  ``module.load_state_dict(engine.to_pytorch(cell, params))``: the states h_t, and the
  gradients of L = Σ_t <w_t, h_t> (plus Σ_b <v_b, c_T> for the LSTM, the engine's ``dL_dc`` on
  the last step, torch's c_n) with respect to every parameter, the inputs and h0 (and c0);
* the GRU with the reset gate before the product (``gru_reset="before"``, Cho 2014 / Keras
  ``reset_after=False``), which torch.nn.GRU does not implement: written here with torch
  operations, one line per equation, differentiated by autograd.

Each line prints the largest difference relative to the largest magnitude of torch's array
(‖engine − torch‖_max / ‖torch‖_max). Exit status 1 when one exceeds 1e-12, else 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402

TOLERANCE = 1e-12
B, T, D, H = 3, 40, 5, 8
CASES = (("rnn", "tanh"), ("rnn", "relu"), ("gru", "after"), ("gru", "before"), ("lstm", ""))


def case(cell, seed=0):
    """Parameters, inputs (B, T, D), initial states (B, H) and the loss weights w (and v)."""
    rng = np.random.default_rng(seed)
    params = engine.init_params(cell, D, H, seed=seed, recurrent_scale=1.5)
    xs = rng.standard_normal((B, T, D))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w, v = rng.standard_normal((B, T, H)), rng.standard_normal((B, H))
    return params, xs, h0, c0, w, v


def engine_side(cell, variant, params, xs, h0, c0, w, v):
    lstm = cell == "lstm"
    trace = engine.forward(
        cell, params, xs, h0=h0, c0=c0 if lstm else None,
        nonlinearity=variant if cell == "rnn" else "tanh",
        gru_reset=variant if cell == "gru" else "after",
    )  # fmt: skip
    dL_dc = None
    if lstm:  # a loss on the last cell state only: torch returns c_T as c_n
        dL_dc = np.zeros_like(trace.c)
        dL_dc[:, -1] = v
    grads = engine.backward(trace, w, dL_dc)
    out = {"h": trace.h, "dx": grads.x, "dh0": grads.h0, **grads.params}
    if lstm:
        out["dc0"] = grads.c0
    return out


def torch_side(torch, cell, variant, params, xs, h0, c0, w, v):
    def leaf(a):  # a torch copy of a NumPy array that collects its gradient
        return torch.tensor(a, dtype=torch.float64, requires_grad=True)

    x, h_init, c_init = leaf(xs), leaf(h0), leaf(c0)
    w, v = torch.from_numpy(w), torch.from_numpy(v)
    if cell == "gru" and variant == "before":
        p = {name: leaf(a) for name, a in params.items()}
        h = gru_reset_before(torch, p, x, h_init)
        extra = 0.0
    else:
        kind = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell]
        options = {"nonlinearity": variant} if cell == "rnn" else {}
        m = kind(D, H, batch_first=True, **options).double()
        state = engine.to_pytorch(cell, params)
        m.load_state_dict({k: torch.from_numpy(a) for k, a in state.items()})
        if cell == "lstm":
            h, (_, c_n) = m(x, (h_init[None], c_init[None]))
            extra = (c_n[0] * v).sum()
        else:
            h, _ = m(x, h_init[None])
            extra = 0.0
        p = {name: getattr(m, f"{name}_l0") for name in params}
    ((h * w).sum() + extra).backward()
    out = {"h": h.detach().numpy(), "dx": x.grad.numpy(), "dh0": h_init.grad.numpy()}
    out.update({name: p[name].grad.numpy() for name in params})
    if cell == "lstm":
        out["dc0"] = c_init.grad.numpy()
    return out


def gru_reset_before(torch, p, x, h):
    """The reset-before GRU in torch operations (batch_first x (B, T, D)); autograd does BPTT."""
    W_ir, W_iz, W_in = p["weight_ih"].chunk(3)
    W_hr, W_hz, W_hn = p["weight_hh"].chunk(3)
    b_ir, b_iz, b_in = p["bias_ih"].chunk(3)
    b_hr, b_hz, b_hn = p["bias_hh"].chunk(3)
    hs = []
    for step in range(x.shape[1]):
        x_t = x[:, step]
        r = torch.sigmoid(x_t @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
        z = torch.sigmoid(x_t @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
        n = torch.tanh(x_t @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
        h = (1 - z) * n + z * h
        hs.append(h)
    return torch.stack(hs, dim=1)


def main() -> int:
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing compared (pip install torch==2.13.0 to check).")
        return 0
    torch.set_num_threads(1)
    print(f"engine vs torch {torch.__version__} autograd, float64, B={B} T={T} D={D} H={H}")
    print("max |engine − torch| / max |torch| per array; tolerance", f"{TOLERANCE:g}")
    worst = 0.0
    for cell, variant in CASES:
        inputs = case(cell)
        ours = engine_side(cell, variant, *inputs)
        theirs = torch_side(torch, cell, variant, *inputs)
        errors = {
            k: float(np.max(np.abs(ours[k] - theirs[k])) / max(np.max(np.abs(theirs[k])), 1e-300))
            for k in theirs
        }
        worst = max(worst, *errors.values())
        label = f"{cell} {variant}".strip()
        row = "  ".join(f"{k} {e:.1e}" for k, e in errors.items())
        verdict = "ok" if max(errors.values()) <= TOLERANCE else "MISMATCH"
        print(f"{label:<11} {verdict:<8} {row}")
    print(f"largest: {worst:.2e} ({'within' if worst <= TOLERANCE else 'ABOVE'} {TOLERANCE:g})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
