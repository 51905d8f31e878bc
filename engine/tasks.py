"""Synthetic long-term-dependency tasks whose lag sets how far back the answer lies.

Two tasks, each drawn deterministically from a NumPy generator, with the lag (the number of
steps the network must carry the decisive information) as the single difficulty knob:

* **adding** (Hochreiter & Schmidhuber 1997): two channels, random values and markers; the
  target is the sum of the two marked values (mean squared error).
* **recall**: remember the first symbol of the sequence through ``lag`` distractor symbols and
  name it at the end (cross-entropy, K classes).

Usage::

    xs, targets = make_batch(ADDING, lag=20, batch=64, rng=np.random.default_rng(0))
    xs.shape, targets.shape    # (64, 22, 2), (64, 1)
    ADDING.chance_loss         # 1/6: the MSE of always predicting the mean sum, 1

Every batch is a fresh draw from ``rng``: the same generator state gives the same batch.

Which task shows what (measured with ``engine.train`` defaults, seeds 0-4; ``bench/train.py``):
the adding problem separates the cells cleanly (lag 20: the tanh RNN stays at the chance MSE,
the GRU and the LSTM reach ~0.01 of it). Recall is a discrete memory, which a vanilla RNN can
hold in an attractor once it finds one; random distractors do not prevent that: at lag 50 the
RNN solved it on 1 seed and half-solved it on 3, the GRU solved 1, the LSTM (forget bias 1)
none within 600 steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .errors import InputError

__all__ = [
    "ADDING",
    "MARK",
    "MAX_LAG",
    "RECALL",
    "TASKS",
    "Task",
    "TaskSample",
    "make_batch",
    "sample",
]

MAX_LAG = 1000
"""The longest lag a task accepts (a bound on the work of one batch)."""

KINDS = ("adding", "recall")


@dataclass(frozen=True)
class Task:
    """A family of sequences whose lag sets the length of the dependency (hashable).

    Attributes
    ----------
    kind : {"adding", "recall"}
    n_classes : int
        Recall only: K, the size of the alphabet of the symbol to remember.
    n_distractors : int
        Recall only: M, the size of the separate alphabet of the distractors that follow it.

    Notes
    -----
    Layout of the adding problem: ``T = lag + head`` with ``head = max(2, lag // 10)``;
    input (T, 2):

    * channel 0: values u_t ~ U[0, 1), independent;
    * channel 1: markers, exactly two ones: the first at a uniform position in the first
      ``head`` steps, the second at a uniform position in steps ``head .. T-1``;
    * target (1,): the sum of the two marked values. The first marked value lies between
      ``lag`` and ``lag + head - 1`` steps before the last step, where the readout is.

    Layout of the recall task: ``T = lag + 1``; input (T, K + M), one-hot per step:

    * step 0: the symbol s ~ U{0..K-1} in channels 0..K-1;
    * steps 1..lag: distractors ~ U{0..M-1} in channels K..K+M-1 (random, so they keep
      perturbing the state; a constant blank lets even a vanilla RNN hold the symbol);
    * target: the class s, read out after the last distractor, exactly ``lag`` steps later.

    Chance baselines, the best a model can do without the long-range information. Adding:
    predicting the mean of the target, E[u_a + u_b] = 1, has MSE Var(u_a + u_b) = 2 · 1/12 =
    1/6 ≈ 0.1667 (a model that knows the second value but not the first gets
    Var(u_a) = 1/12 ≈ 0.083).
    Recall: predicting the uniform distribution has cross-entropy log K and accuracy 1/K.
    """

    kind: str
    n_classes: int = 4
    n_distractors: int = 4

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"Unknown task {self.kind!r}: choose one of {', '.join(KINDS)}.")
        K, M = self.n_classes, self.n_distractors
        if self.kind == "recall" and not (type(K) is type(M) is int and K >= 2 and M >= 1):
            raise InputError("The recall task needs at least 2 classes and 1 distractor symbol.")

    @property
    def name(self) -> str:
        """A short title for the learner."""
        return "Adding problem" if self.kind == "adding" else f"Recall 1 of {self.n_classes}"

    @property
    def input_size(self) -> int:
        """D: 2 for adding (value, marker), K + M for recall."""
        return 2 if self.kind == "adding" else self.n_classes + self.n_distractors

    @property
    def output_size(self) -> int:
        """The readout's width: 1 for adding, K logits for recall."""
        return 1 if self.kind == "adding" else self.n_classes

    @property
    def loss(self) -> str:
        """``"mse"`` for adding, ``"xent"`` (cross-entropy) for recall."""
        return "mse" if self.kind == "adding" else "xent"

    @property
    def chance_loss(self) -> float:
        """The loss of the best input-blind prediction: 1/6 (adding) or log K (recall)."""
        return 1.0 / 6.0 if self.kind == "adding" else math.log(self.n_classes)

    @property
    def chance_accuracy(self) -> float | None:
        """1/K for recall; None for adding (a regression)."""
        return None if self.kind == "adding" else 1.0 / self.n_classes

    def head(self, lag: int) -> int:
        """Adding: the number of leading steps that may hold the first marker (1 for recall)."""
        return max(2, lag // 10) if self.kind == "adding" else 1

    def length(self, lag: int) -> int:
        """T, the number of steps of a sequence at this lag."""
        return lag + self.head(lag)


ADDING = Task("adding")
RECALL = Task("recall")
TASKS = {"adding": ADDING, "recall": RECALL}
"""The tasks by kind, with their default sizes (recall: K = 4 classes, M = 4 distractors)."""


def _check_lag(lag):
    if isinstance(lag, bool) or not isinstance(lag, int | np.integer) or not 1 <= lag <= MAX_LAG:
        raise InputError(f"The lag must be a whole number from 1 to {MAX_LAG}; got {lag!r}.")
    return int(lag)


def make_batch(task: Task, lag: int, batch: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Draw a batch of sequences of a task.

    Parameters
    ----------
    task : Task
    lag : int
        Steps between the decisive input and the last step (see :class:`Task`), 1..MAX_LAG.
    batch : int
        B, the number of sequences.
    rng : numpy.random.Generator or int
        The source of randomness (an int seeds a fresh ``np.random.default_rng``).

    Returns
    -------
    xs : ndarray (B, T, D)
        float64 inputs, T = ``task.length(lag)``, D = ``task.input_size``.
    targets : ndarray (B, 1) float64 or (B,) int64
        adding: the sum of the two marked values; recall: the class of the first symbol.
    """
    lag = _check_lag(lag)
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise InputError(f"The batch size must be a whole number ≥ 1; got {batch!r}.")
    rng = np.random.default_rng(rng)
    B, T, head = int(batch), task.length(lag), task.head(lag)
    rows = np.arange(B)
    if task.kind == "adding":
        values = rng.random((B, T))  # channel 0: u_t ~ U[0, 1)
        first = rng.integers(0, head, size=B)  # the far marker, ≥ lag steps before the end
        second = rng.integers(head, T, size=B)  # the near marker, anywhere after the head
        markers = np.zeros((B, T))
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        xs = np.stack([values, markers], axis=-1)
        targets = (values[rows, first] + values[rows, second])[:, None]  # u_a + u_b
        return xs, targets
    K, M = task.n_classes, task.n_distractors
    symbol = rng.integers(0, K, size=B)  # what must be remembered
    distractors = rng.integers(0, M, size=(B, T - 1))  # a separate alphabet, never blank
    xs = np.zeros((B, T, K + M))
    xs[rows, 0, symbol] = 1.0
    xs[rows[:, None], np.arange(1, T), K + distractors] = 1.0
    return xs, symbol.astype(np.int64)


MARK = "▲"
"""Prefix of the label of a step the task's answer depends on (see :func:`sample`)."""


class TaskSample(NamedTuple):
    """One sequence of a task, labelled for a learner (see :func:`sample`).

    Attributes
    ----------
    xs : ndarray (T, D)
        The inputs, exactly as a training batch holds them.
    target : ndarray (1,) float64 or int
        adding: the sum of the two marked values; recall: the class of the first symbol.
    labels : tuple[str, ...]
        One per step. Adding: the value ``u_t`` with two decimals; recall: the symbol (``A``,
        ``B``... for the classes, ``a``, ``b``... for the distractors). The steps in
        ``marked`` carry the prefix :data:`MARK`.
    marked : tuple[int, ...]
        The steps the answer depends on: the two marked steps (adding), step 0 (recall).
    features : tuple[str, ...]
        One name per input channel (D).
    """

    xs: np.ndarray
    target: np.ndarray
    labels: tuple[str, ...]
    marked: tuple[int, ...]
    features: tuple[str, ...]


def _letter(k: int, upper: bool) -> str:
    """Symbol k as a letter (``A``/``a``...), or ``S12``/``s12`` beyond 26 symbols."""
    if k < 26:
        return chr((65 if upper else 97) + k)
    return f"{'S' if upper else 's'}{k}"


def sample(task: Task, lag: int, seed) -> TaskSample:
    """Draw one sequence of a task with a readable label per step.

    Parameters
    ----------
    task : Task
    lag : int
        1..MAX_LAG.
    seed : int or sequence of int
        Seeds ``np.random.default_rng``: the same seed gives the same sequence.

    Returns
    -------
    TaskSample
        The inputs (T, D) of :func:`make_batch` for a batch of one, its target, the labels
        and the marked steps.
    """
    xs, targets = make_batch(task, lag, 1, np.random.default_rng(seed))
    xs, target = xs[0], targets[0]
    if task.kind == "adding":
        marked = tuple(int(t) for t in np.flatnonzero(xs[:, 1]))  # the two marker steps
        words = [f"{u:.2f}" for u in xs[:, 0]]
        features = ("value u_t", "marker")
    else:
        K = task.n_classes
        features = tuple(f"symbol {_letter(k, True)}" for k in range(K))
        features += tuple(f"distractor {_letter(k, False)}" for k in range(task.n_distractors))
        marked = (0,)  # the symbol to recall
        hot = np.argmax(xs, axis=1)  # one-hot per step: classes first, then distractors
        words = [_letter(int(hot[0]), True)]
        words += [_letter(int(k) - K, False) for k in hot[1:]]
    labels = tuple(MARK + w if t in marked else w for t, w in enumerate(words))
    return TaskSample(xs, np.atleast_1d(target), labels, marked, features)
