"""Train a cell plus a linear readout on a long-term-dependency task, step by step.

The model is the engine's cell unrolled over the sequence with a linear readout on the last
hidden state, ``y = W_out h_T + b_out``. Every training step draws a fresh batch, runs exactly
:func:`engine.forward` and :func:`engine.backward` over the batch axis (``dL_dh`` is zero except
on the last step, where it is ``W_outᵀ dL/dy``), clips the global gradient norm and takes one
Adam step.

Built for a page that redraws while training runs::

    trainer = Trainer(TrainConfig(cell="lstm", lag=20))
    while not trainer.done:
        points = trainer.step(25)     # the new history points; stop between calls at will
        ...                           # redraw the curves
    result = trainer.result()         # params_before / params, evaluation before / after

or in one call: ``train(TrainConfig(...)) -> TrainResult``. Every run is bounded by
``max_steps`` (at most :data:`MAX_STEPS`) and optionally ``max_seconds`` of training time. A
non-finite loss or gradient, or a loss beyond :data:`DIVERGED_RATIO` times the chance baseline,
stops the run with ``status == "diverged"`` and leaves the last good parameters; it never
raises.

Reproducible: the cell's parameters come from ``init_params(seed=seed)``, the readout and the
training batches from generators seeded with ``(seed, k)``; the held-out batch is the same for
every seed and cell (:data:`EVAL_SEED`). The same configuration gives the same history bit for
bit (only a ``max_seconds`` budget can make a run stop earlier).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import InputError
from .sequence import CELLS, backward, forward, init_params
from .tasks import ADDING, MAX_LAG, Task, make_batch

__all__ = [
    "DIVERGED_RATIO",
    "EVAL_SEED",
    "MAX_STEPS",
    "AdamState",
    "BatchGrads",
    "Evaluation",
    "StepRecord",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "adam_init",
    "adam_step",
    "batch_gradients",
    "clip_by_global_norm",
    "history_columns",
    "init_readout",
    "log_softmax",
    "mse_loss",
    "predict",
    "readout_backward",
    "readout_forward",
    "train",
    "xent_loss",
]

MAX_STEPS = 20_000
"""The most steps any run may take."""

MAX_HIDDEN, MAX_BATCH, MAX_EVAL = 512, 4096, 20_000
"""Bounds on the hidden size, the training batch and the held-out batch."""

DIVERGED_RATIO = 1e4
"""A loss this many times the chance baseline counts as diverged, like NaN or inf: Adam moves a
weight by at most about lr per step, so a huge learning rate blows the loss up without ever
producing a non-finite number."""

EVAL_SEED = 1997
"""Seed of the held-out batch: the same sequences score every cell and every training seed."""

# --------------------------------------------------------------------------------------------
# Readout and losses
# --------------------------------------------------------------------------------------------


def init_readout(hidden_size: int, output_size: int, *, seed=0) -> dict:
    """A linear readout initialised like ``torch.nn.Linear``: U(-1/√H, 1/√H).

    Returns
    -------
    dict
        ``weight`` (O, H), ``bias`` (O,).
    """
    rng = np.random.default_rng(seed)
    k = 1.0 / math.sqrt(hidden_size)
    return {
        "weight": rng.uniform(-k, k, size=(output_size, hidden_size)),
        "bias": rng.uniform(-k, k, size=output_size),
    }


def readout_forward(h_last: np.ndarray, readout: dict) -> np.ndarray:
    """Outputs of the readout: ``y = h_T W_outᵀ + b_out``, (B, H) -> (B, O)."""
    return h_last @ readout["weight"].T + readout["bias"]


def readout_backward(dy: np.ndarray, h_last: np.ndarray, readout: dict):
    """Backward pass of :func:`readout_forward`.

    Parameters
    ----------
    dy : ndarray (B, O)
        dL/dy.
    h_last : ndarray (B, H)
        The input of the readout, the last hidden state.
    readout : dict

    Returns
    -------
    dh_last : ndarray (B, H)
        dL/dh_T = dy W_out: the only nonzero row of ``dL_dh`` for BPTT.
    dreadout : dict
        ``weight`` (O, H) = dyᵀ h_T, ``bias`` (O,) = Σ_b dy.
    """
    dh_last = dy @ readout["weight"]  # the gradient that enters the sequence at its last step
    return dh_last, {"weight": dy.T @ h_last, "bias": dy.sum(axis=0)}


def mse_loss(y: np.ndarray, targets: np.ndarray):
    """Mean squared error over the batch and the outputs, and its gradient.

    Parameters
    ----------
    y, targets : ndarray (B, O)

    Returns
    -------
    loss : float
        L = mean (y - target)².
    dy : ndarray (B, O)
        dL/dy = 2 (y - target) / (B·O).
    """
    diff = y - targets
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable log-softmax over the last axis (no overflow for any finite input)."""
    shifted = logits - np.max(logits, axis=-1, keepdims=True)  # largest logit becomes 0
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def xent_loss(logits: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy of integer labels under softmax(logits), and its gradient.

    Parameters
    ----------
    logits : ndarray (B, K)
    labels : ndarray (B,) int

    Returns
    -------
    loss : float
        L = -mean_b log softmax(logits_b)[label_b].
    dlogits : ndarray (B, K)
        dL/dlogits = (softmax - onehot(label)) / B.
    """
    B = len(labels)
    logp = log_softmax(logits)
    rows = np.arange(B)
    dlogits = np.exp(logp)  # softmax
    dlogits[rows, labels] -= 1.0
    return float(-np.mean(logp[rows, labels])), dlogits / B


def predict(cell: str, params: dict, readout: dict, xs, *, nonlinearity="tanh") -> np.ndarray:
    """The model's outputs (B, O) for inputs (B, T, D): the readout of the last hidden state."""
    trace = forward(cell, params, xs, nonlinearity=nonlinearity)
    return readout_forward(trace.h[:, -1], readout)


def _task_loss(task, y, targets):
    """(loss, accuracy or None, dL/dy) of a task's outputs."""
    if task.loss == "mse":
        loss, dy = mse_loss(y, targets)
        return loss, None, dy
    loss, dy = xent_loss(y, targets)
    return loss, float(np.mean(np.argmax(y, axis=-1) == targets)), dy


@dataclass(frozen=True, eq=False)
class BatchGrads:
    """Loss and exact gradients of one batch (see :func:`batch_gradients`).

    Attributes
    ----------
    loss : float
    accuracy : float or None
        Recall only: the fraction of the batch whose largest logit is the label.
    params : dict[str, ndarray] or None
        dL/d(cell parameters), keyed like them; None when the loss is not finite.
    readout : dict[str, ndarray] or None
        dL/dW_out (O, H) as ``weight``, dL/db_out (O,) as ``bias``.
    grad_first : float
        Mean over the batch of ‖∂L_b/∂h_0‖ (L_b: sequence b's own loss; L = mean_b L_b).
    grad_last : float
        Mean over the batch of ‖∂L_b/∂h_T‖, the gradient where it enters the sequence.
    """

    loss: float
    accuracy: float | None
    params: dict | None
    readout: dict | None
    grad_first: float
    grad_last: float


def batch_gradients(
    cell: str, params: dict, readout: dict, task, xs, targets, *, nonlinearity="tanh"
) -> BatchGrads:
    """Loss of the model on a batch and its exact gradients, through ``engine.backward``.

    Parameters
    ----------
    cell : {"rnn", "gru", "lstm"}
    params : dict
        The cell's parameters.
    readout : dict
        ``weight`` (O, H), ``bias`` (O,).
    task : Task
        Chooses the loss: mean squared error or cross-entropy.
    xs : ndarray (B, T, D)
    targets : ndarray (B, O) float or (B,) int
    nonlinearity : {"tanh", "relu"}

    Returns
    -------
    BatchGrads

    Equations::

        y = W_out h_T + b_out                  readout of the last state
        dL_dh[t] = 0 for t < T,  dL_dh[T] = W_outᵀ dL/dy
        (cell gradients) = BPTT of Σ_t <dL_dh[t], h_t>
    """
    trace = forward(cell, params, xs, nonlinearity=nonlinearity)
    h_last = trace.h[:, -1]
    y = readout_forward(h_last, readout)
    loss, accuracy, dy = _task_loss(task, y, targets)
    if not (math.isfinite(loss) and np.all(np.isfinite(dy))):
        return BatchGrads(loss, accuracy, None, None, math.nan, math.nan)
    dh_last, dreadout = readout_backward(dy, h_last, readout)
    dL_dh = np.zeros_like(trace.h)
    dL_dh[:, -1] = dh_last  # the loss sees only the last step
    grads = backward(trace, dL_dh)
    B = len(xs)  # L = mean_b L_b, so ∂L_b/∂h = B ∂L/∂h
    grad_first = float(B * np.mean(np.linalg.norm(grads.h0, axis=-1)))
    grad_last = float(B * np.mean(np.linalg.norm(dh_last, axis=-1)))
    return BatchGrads(loss, accuracy, dict(grads.params), dreadout, grad_first, grad_last)


# --------------------------------------------------------------------------------------------
# Optimiser
# --------------------------------------------------------------------------------------------


def _global_norm(arrays) -> float:
    """sqrt(Σ ‖g‖²) without overflow: BPTT saturates an exploding gradient at 1e100, whose
    square is inf, yet its norm is finite and clipping must still work."""
    arrays = list(arrays)
    scales = [float(np.max(np.abs(g), initial=0.0)) for g in arrays]
    if any(math.isnan(m) for m in scales):
        return math.nan
    scale = max(scales, default=0.0)
    if scale in (0.0, math.inf):
        return scale
    return scale * math.sqrt(sum(float(np.sum((g / scale) ** 2)) for g in arrays))


def clip_by_global_norm(grads: dict, max_norm: float | None):
    """Scale all gradients together so that their joint L2 norm is at most ``max_norm``.

    Parameters
    ----------
    grads : dict[str, ndarray]
    max_norm : float or None
        None (or inf) leaves the gradients unchanged.

    Returns
    -------
    clipped : dict[str, ndarray]
        New arrays; unchanged when the norm is within the limit or not finite.
    norm : float
        The global norm before clipping, sqrt(Σ ‖g‖²).
    """
    norm = _global_norm(grads.values())
    if max_norm is None or not max_norm < norm < math.inf:  # NaN or inf: left to the caller
        return dict(grads), norm
    scale = max_norm / norm  # the direction is kept, only the length shrinks
    return {k: g * scale for k, g in grads.items()}, norm


@dataclass(frozen=True, eq=False)
class AdamState:
    """Adam's moment estimates after ``t`` steps (read-only arrays, keyed like the params)."""

    t: int
    m: dict
    v: dict


def adam_init(params: dict) -> AdamState:
    """Zero moments for every parameter."""
    zeros = {k: np.zeros_like(p) for k, p in params.items()}
    return AdamState(0, zeros, {k: z.copy() for k, z in zeros.items()})


def adam_step(
    params: dict,
    grads: dict,
    state: AdamState,
    lr: float,
    *,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
):
    """One Adam update (Kingma & Ba 2015, PyTorch's ``torch.optim.Adam`` without weight decay).

    Parameters
    ----------
    params, grads : dict[str, ndarray]
        Same keys and shapes.
    state : AdamState
    lr : float
    betas : (float, float)
    eps : float

    Returns
    -------
    params : dict[str, ndarray]
        New arrays; the inputs are not modified.
    state : AdamState

    Equations::

        m = β1 m + (1 - β1) g                  first moment
        v = β2 v + (1 - β2) g²                 second moment
        p = p - lr · m̂ / (√v̂ + eps),   m̂ = m / (1 - β1^t),  v̂ = v / (1 - β2^t)
    """
    b1, b2 = betas
    t = state.t + 1
    c1, c2 = 1.0 - b1**t, 1.0 - b2**t  # bias corrections of the zero-initialised moments
    new_params, m, v = {}, {}, {}
    for k, p in params.items():
        g = grads[k]
        m[k] = b1 * state.m[k] + (1.0 - b1) * g  # running mean of the gradient
        v[k] = b2 * state.v[k] + (1.0 - b2) * g * g  # running mean of its square
        new_params[k] = p - lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + eps)  # per-weight step
    return new_params, AdamState(t, m, v)


# --------------------------------------------------------------------------------------------
# Configuration, records, results
# --------------------------------------------------------------------------------------------


def _whole(value, name, lo, hi):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not lo <= value <= hi:
        raise InputError(f"{name} must be a whole number from {lo} to {hi}; got {value!r}.")


def _is_number(value):
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _positive(value, name, allow_none):
    if value is None and allow_none:
        return
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number; got {value!r}.")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (hashable: a cache key for the page).

    Attributes
    ----------
    cell : {"rnn", "gru", "lstm"}
    task : Task
        :data:`engine.tasks.ADDING` or a recall :class:`~engine.tasks.Task`.
    lag : int
        The dependency length of the task (see :class:`~engine.tasks.Task`).
    hidden_size : int
        H.
    batch_size : int
        Sequences per training step (a fresh batch each step).
    lr : float
        Adam's learning rate.
    clip : float or None
        Maximum global gradient norm (None: no clipping).
    max_steps : int
        The step budget, 1..MAX_STEPS.
    max_seconds : float or None
        The time budget: training time (inside :meth:`Trainer.step`) after which the run stops.
    seed : int
        Seeds the parameters, the readout and the training batches.
    forget_bias : float or None
        LSTM only: the forget gate's initial bias (``init_params(..., forget_bias=...)``).
    update_bias : float or None
        GRU only: the update gate's initial bias (``init_params(..., update_bias=...)``);
        None leaves PyTorch's initialisation.
    eval_size : int
        Sequences in the held-out batch.
    nonlinearity : {"tanh", "relu"}
        The vanilla RNN's activation.

    Notes
    -----
    The defaults were chosen by measurement (``bench/train.py``, seeds 0-4): on the adding
    problem at lag 20 the tanh RNN stays at the chance MSE (1.0-1.1 of it), the GRU is below
    0.01 of it by step 300 and the LSTM, after a plateau, by step 600. With Adam 3e-3 (the
    PyTorch orientation) the LSTM is still at 0.15-0.55 of chance after 600 steps, so the
    default is 1e-2. The three default runs take 7-14 s on 2 shared cores with one BLAS thread
    (``OPENBLAS_NUM_THREADS=1``), but 38-64 s with NumPy's default threads.
    """

    cell: str = "lstm"
    task: Task = ADDING
    lag: int = 20
    hidden_size: int = 32
    batch_size: int = 64
    lr: float = 1e-2
    clip: float | None = 1.0
    max_steps: int = 600
    max_seconds: float | None = 30.0
    seed: int = 0
    forget_bias: float | None = 1.0
    eval_size: int = 1000
    nonlinearity: str = "tanh"
    update_bias: float | None = None

    def __post_init__(self):
        if self.cell not in CELLS:
            raise InputError(f"Unknown cell {self.cell!r}: choose one of {', '.join(CELLS)}.")
        if not isinstance(self.task, Task):
            raise InputError(f"task must be a Task (e.g. engine.ADDING); got {self.task!r}.")
        _whole(self.lag, "The lag", 1, MAX_LAG)
        _whole(self.hidden_size, "The hidden size", 1, MAX_HIDDEN)
        _whole(self.batch_size, "The batch size", 1, MAX_BATCH)
        _whole(self.max_steps, "The step budget", 1, MAX_STEPS)
        _whole(self.eval_size, "The held-out batch size", 1, MAX_EVAL)
        _whole(self.seed, "The seed", 0, 2**63 - 1)
        _positive(self.lr, "The learning rate", False)
        _positive(self.clip, "The clipping norm", True)
        _positive(self.max_seconds, "The time budget", True)
        for name, bias in (("forget", self.forget_bias), ("update", self.update_bias)):
            if bias is not None and not (_is_number(bias) and math.isfinite(bias)):
                raise InputError(f"The {name} bias must be a finite number; got {bias!r}.")
        if self.nonlinearity not in ("tanh", "relu"):
            raise InputError(f"Unknown nonlinearity {self.nonlinearity!r}: choose tanh or relu.")


@dataclass(frozen=True)
class StepRecord:
    """One point of the training history.

    Attributes
    ----------
    step : int
        1-based number of the update this batch produced.
    loss : float
        Loss of the training batch before the update (NaN, inf or huge where the run diverged;
        that step's update is not applied).
    accuracy : float or None
        Fraction of the batch classified right (recall), None for a regression.
    grad_norm : float
        Global norm of all gradients before clipping.
    grad_first : float
        Mean over the batch of ‖∂L_b/∂h_0‖, the gradient of each sequence's own loss that
        reaches the state before the first input: how much the far past is taught.
    grad_last : float
        Mean over the batch of ‖∂L_b/∂h_T‖, the gradient where it enters (for the ratio).
    seconds : float
        Training time so far.
    """

    step: int
    loss: float
    accuracy: float | None
    grad_norm: float
    grad_first: float
    grad_last: float
    seconds: float


def history_columns(history) -> dict[str, np.ndarray]:
    """The history as columns for plotting: name -> ndarray (N,) (None accuracy -> NaN)."""
    names = ("step", "loss", "accuracy", "grad_norm", "grad_first", "grad_last", "seconds")
    cols = {n: np.array([getattr(r, n) for r in history], dtype=float) for n in names}
    cols["step"] = cols["step"].astype(np.int64)
    return cols


@dataclass(frozen=True)
class Evaluation:
    """Loss (and accuracy) on the held-out batch, beside the task's chance baseline."""

    loss: float
    accuracy: float | None
    chance_loss: float
    chance_accuracy: float | None

    @property
    def relative_loss(self) -> float:
        """loss / chance_loss: 1 is chance level, 0 is perfect."""
        return self.loss / self.chance_loss


@dataclass(frozen=True, eq=False)
class TrainResult:
    """A finished (or stopped) run.

    Attributes
    ----------
    config : TrainConfig
    status : {"ready", "running", "done", "timeout", "diverged"}
        Why it stopped: the step budget (``done``), the time budget (``timeout``) or a
        non-finite or exploded loss or gradient (``diverged``, at ``history[-1].step``).
    history : tuple[StepRecord, ...]
    params_before, params : dict[str, ndarray]
        The cell's parameters (the engine's four keys) at initialisation and now: pass them to
        :func:`engine.forward` / :func:`engine.jacobian_norms` for the figures.
    readout_before, readout : dict[str, ndarray]
        ``weight`` (O, H), ``bias`` (O,).
    eval_before, eval_after : Evaluation
        On the held-out batch, with the parameters before and after training.
    """

    config: TrainConfig
    status: str
    history: tuple
    params_before: dict
    params: dict
    readout_before: dict
    readout: dict
    eval_before: Evaluation
    eval_after: Evaluation
    seconds: float = field(default=0.0)

    @property
    def steps(self) -> int:
        """Number of history points (the last one is the divergence when ``diverged``)."""
        return len(self.history)

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"


# --------------------------------------------------------------------------------------------
# The training loop
# --------------------------------------------------------------------------------------------

_CELL_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _split(model):
    """The flat model dict -> (cell params, readout)."""
    cell = {k: model[k] for k in _CELL_KEYS}
    return cell, {"weight": model["weight_out"], "bias": model["bias_out"]}


def _frozen(d):
    out = {}
    for k, v in d.items():
        a = np.array(v)  # a private copy
        a.setflags(write=False)
        out[k] = a
    return out


def _all_finite(arrays):
    return all(np.all(np.isfinite(a)) for a in arrays)


class Trainer:
    """A training run that advances on demand (:meth:`step`) within a hard budget.

    Parameters
    ----------
    config : TrainConfig

    Attributes
    ----------
    config : TrainConfig
    status : str
        ``"ready"`` before the first step, ``"running"`` between steps, then ``"done"``,
        ``"timeout"`` or ``"diverged"``.
    history : list[StepRecord]
    seconds : float
        Training time spent inside :meth:`step` so far.
    """

    def __init__(self, config: TrainConfig):
        self.config = c = config
        task = c.task
        options = {
            "lstm": {"forget_bias": c.forget_bias},
            "gru": {"update_bias": c.update_bias},
        }.get(c.cell, {})
        cell_params = init_params(c.cell, task.input_size, c.hidden_size, seed=c.seed, **options)
        readout = init_readout(c.hidden_size, task.output_size, seed=[c.seed, 2])
        self._model = {**cell_params, "weight_out": readout["weight"], "bias_out": readout["bias"]}
        self._before = _split(_frozen(self._model))
        self._adam = adam_init(self._model)
        self._batches = np.random.default_rng([c.seed, 1])  # the stream of training batches
        self._eval = make_batch(task, c.lag, c.eval_size, [EVAL_SEED, 3])  # held out
        for a in self._eval:
            a.setflags(write=False)
        self._eval_before = None
        self.status = "ready"
        self.history: list[StepRecord] = []
        self.seconds = 0.0

    @property
    def done(self) -> bool:
        """True once the run stopped (budget or divergence): :meth:`step` does nothing more."""
        return self.status in ("done", "timeout", "diverged")

    @property
    def params(self) -> dict:
        """The cell's current parameters (copies)."""
        return _split(_frozen(self._model))[0]

    @property
    def eval_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The held-out (xs, targets), drawn from :data:`EVAL_SEED` (read-only): the same for
        every cell and seed at a given task, lag and size; sample sequences for the figures."""
        return self._eval

    def _one_step(self):
        """One update: (record, diverged). The parameters change only if everything is finite."""
        c = self.config
        xs, targets = make_batch(c.task, c.lag, c.batch_size, self._batches)
        cell_params, readout = _split(self._model)
        try:
            g = batch_gradients(
                c.cell, cell_params, readout, c.task, xs, targets, nonlinearity=c.nonlinearity
            )
        except (InputError, FloatingPointError, OverflowError):  # non-finite values anywhere
            g = BatchGrads(math.nan, None, None, None, math.nan, math.nan)
        norm = math.nan
        ok = g.params is not None and g.loss <= DIVERGED_RATIO * c.task.chance_loss  # NaN: False
        if ok:
            grads = {**g.params, "weight_out": g.readout["weight"], "bias_out": g.readout["bias"]}
            clipped, norm = clip_by_global_norm(grads, c.clip)
            ok = math.isfinite(norm)
            if ok:
                model, adam = adam_step(self._model, clipped, self._adam, c.lr)
                ok = _all_finite(model.values())  # the update itself may overflow
                if ok:
                    self._model, self._adam = model, adam
        record = StepRecord(
            step=len(self.history) + 1, loss=g.loss, accuracy=g.accuracy, grad_norm=norm,
            grad_first=g.grad_first, grad_last=g.grad_last, seconds=0.0,
        )  # fmt: skip
        return record, not ok

    def step(self, n: int = 1) -> tuple[StepRecord, ...]:
        """Advance up to ``n`` training steps, stopping early at the budget or on divergence.

        Parameters
        ----------
        n : int

        Returns
        -------
        tuple[StepRecord, ...]
            The new history points (empty once :attr:`done`).
        """
        c = self.config
        new = []
        with np.errstate(all="ignore"):  # divergence is detected from the values, not warned
            for _ in range(max(0, int(n))):
                if self.done:
                    break
                t0 = time.perf_counter()
                record, diverged = self._one_step()
                self.seconds += time.perf_counter() - t0
                record = replace(record, seconds=self.seconds)
                self.history.append(record)
                new.append(record)
                if diverged:
                    self.status = "diverged"
                elif len(self.history) >= c.max_steps:
                    self.status = "done"
                elif c.max_seconds is not None and self.seconds >= c.max_seconds:
                    self.status = "timeout"
                else:
                    self.status = "running"
        return tuple(new)

    def evaluate(self, params: dict | None = None, readout: dict | None = None) -> Evaluation:
        """Loss (and accuracy) on the held-out batch, with the current or the given parameters.

        A non-finite result (diverged parameters) comes back as NaN, never as an exception.
        """
        c = self.config
        cur_params, cur_readout = _split(self._model)
        params = cur_params if params is None else params
        readout = cur_readout if readout is None else readout
        xs, targets = self._eval
        with np.errstate(all="ignore"):
            try:
                y = predict(c.cell, params, readout, xs, nonlinearity=c.nonlinearity)
                loss, accuracy, _ = _task_loss(c.task, y, targets)
            except (InputError, FloatingPointError, OverflowError):
                loss, accuracy = math.nan, None
        return Evaluation(loss, accuracy, c.task.chance_loss, c.task.chance_accuracy)

    def result(self) -> TrainResult:
        """Snapshot of the run: history, parameters before and after, held-out evaluation."""
        if self._eval_before is None:
            self._eval_before = self.evaluate(*self._before)
        params, readout = _split(_frozen(self._model))
        return TrainResult(
            config=self.config, status=self.status, history=tuple(self.history),
            params_before=self._before[0], params=params, readout_before=self._before[1],
            readout=readout, eval_before=self._eval_before, eval_after=self.evaluate(),
            seconds=self.seconds,
        )  # fmt: skip


def train(config: TrainConfig, *, chunk: int = 50, on_step=None) -> TrainResult:
    """Run a whole training to its budget (or divergence) and return the result.

    Parameters
    ----------
    config : TrainConfig
    chunk : int
        Steps per call of :meth:`Trainer.step` between two ``on_step`` calls.
    on_step : callable, optional
        ``on_step(trainer, new_points)`` after each chunk (progress display).

    Returns
    -------
    TrainResult
    """
    trainer = Trainer(config)
    while not trainer.done:
        points = trainer.step(chunk)
        if on_step is not None:
            on_step(trainer, points)
    return trainer.result()
