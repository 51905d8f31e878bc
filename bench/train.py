"""Training benchmark: speed, the default three-cell run, and what each cell learns per lag.

Run ``.venv/bin/python bench/train.py``. Prints figures and never asserts; the whole bench is
bounded to about five minutes (every grid run has a time budget).

What is measured
----------------
* Training steps per second per cell at the default configuration (``TrainConfig()``: the
  adding problem at its default lag, H and batch), with NumPy's default BLAS threads (what the
  app gets unless told otherwise) and with ``OPENBLAS_NUM_THREADS=1`` (in a subprocess: the
  variable only works before NumPy loads).
* The default three-cell run (rnn, gru, lstm one after the other, as the Train page does it)
  with both thread settings: wall time against the 20 s target, and each cell's held-out error.
* The held-out error (MSE; cross-entropy and accuracy for recall) per cell and lag after the
  default budget, relative to the chance baseline, as a Markdown table, with one BLAS thread
  (runs are deterministic, so the threads change only the time). Each run is cut at
  ``RUN_BUDGET_S`` of training, which bounds the whole bench to about five minutes.

Everything is also written to ``bench/results/train.md`` (git-ignored).

``--orientation`` instead reruns the PyTorch orientation settings (batch 64, H 32, Adam 3e-3,
clip 1, forget bias 1, 600 steps, seeds 0-2, adding problem at lags 20 and 50; ~4 minutes).
"""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import ADDING, RECALL, TrainConfig, Trainer  # noqa: E402

CELLS = ("rnn", "gru", "lstm")
TARGET_S = 20.0
SPEED_STEPS = 30
ADDING_LAGS = (10, 20, 50, 100)
RECALL_LAGS = (10, 20, 50)
RUN_BUDGET_S = 20.0  # time budget of each grid run: the table notes runs it cut short
MARK = "<<single-thread part>>\n"
RESULTS = ROOT / "bench" / "results" / "train.md"


def steps_per_second(cell: str, config: TrainConfig) -> float:
    """Median rate of three blocks of SPEED_STEPS steps, after one warm-up step."""
    trainer = Trainer(dataclasses.replace(config, cell=cell, max_steps=1 + 3 * SPEED_STEPS))
    trainer.step(1)
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        trainer.step(SPEED_STEPS)
        rates.append(SPEED_STEPS / (time.perf_counter() - t0))
    return float(np.median(rates))


def speed_cells(config: TrainConfig) -> str:
    return " | ".join(f"{steps_per_second(c, config):.0f}" for c in CELLS)


def run(config: TrainConfig):
    """Train to the budget; return (result, wall seconds)."""
    t0 = time.perf_counter()
    trainer = Trainer(config)
    while not trainer.done:
        trainer.step(50)
    result = trainer.result()
    return result, time.perf_counter() - t0


def score(result) -> str:
    e = result.eval_after
    text = f"{e.loss:.3f} ({e.relative_loss:.2f})"
    if e.accuracy is not None:
        text = f"{e.loss:.2f} ({e.relative_loss:.2f}), acc {e.accuracy:.2f}"
    if result.status != "done":
        text += f" [{result.status} at {result.steps}]"
    return text


def grid(task, lags, base: TrainConfig, lines: list[str]) -> None:
    chance = f"chance {task.chance_loss:.3f}"
    if task.chance_accuracy is not None:
        chance += f", acc {task.chance_accuracy:.2f}"
    lines += [
        "",
        f"### {task.name}: held-out loss (loss / chance) after {base.max_steps} steps ({chance})",
        "",
        "| lag | T | " + " | ".join(CELLS) + " | seconds |",
        "|---:|---:|" + "---|" * len(CELLS) + "---:|",
    ]
    for lag in lags:
        cells, seconds = [], 0.0
        for cell in CELLS:
            config = dataclasses.replace(
                base, cell=cell, task=task, lag=lag, max_seconds=RUN_BUDGET_S
            )
            result, wall = run(config)
            cells.append(score(result))
            seconds += wall
        lines.append(f"| {lag} | {task.length(lag)} | " + " | ".join(cells) + f" | {seconds:.1f} |")
        print(lines[-1], flush=True)


def orientation() -> None:
    base = TrainConfig(batch_size=64, hidden_size=32, lr=3e-3, max_steps=600, max_seconds=None)
    print("PyTorch orientation settings: held-out MSE after 600 steps (chance 0.167)")
    for lag in (20, 50):
        for cell in CELLS:
            losses = []
            for seed in range(3):
                result, _ = run(dataclasses.replace(base, cell=cell, lag=lag, seed=seed))
                losses.append(result.eval_after.loss)
            print(f"lag {lag} {cell}: " + ", ".join(f"{x:.4f}" for x in losses), flush=True)


def three_cell_run(default: TrainConfig, label: str) -> list[str]:
    """The default run of each cell, one after the other, as the Train page does it."""
    total, parts = 0.0, []
    for cell in CELLS:
        result, wall = run(dataclasses.replace(default, cell=cell, max_seconds=None))
        total += wall
        parts.append(f"{cell} {wall:.1f} s ({score(result)})")
    verdict = "meets" if total <= TARGET_S else "misses"
    return [f"- BLAS threads {label}: **{total:.1f} s**, {verdict} the {TARGET_S:.0f} s target: "
            + ", ".join(parts)]  # fmt: skip


def single_thread_part(default: TrainConfig) -> list[str]:
    """Everything measured with one BLAS thread (run in a subprocess with the variable set)."""
    lines = [f"| 1 | {speed_cells(default)} |", "", "## The default three-cell run", ""]
    print(lines[0], flush=True)
    lines += three_cell_run(default, "1")
    print(lines[-1], flush=True)
    lines += ["", "## Held-out error per cell and lag (default settings, seed 0, 1 BLAS thread)"]
    grid(ADDING, ADDING_LAGS, default, lines)
    grid(RECALL, RECALL_LAGS, default, lines)
    return lines


def main() -> None:
    default = TrainConfig()
    if "--orientation" in sys.argv:
        orientation()
        return
    if "--single-thread-part" in sys.argv:
        print(MARK + "\n".join(single_thread_part(default)))
        return
    t_start = time.perf_counter()
    lines = [
        "# Training benchmark",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {np.__version__}; load average at the start "
        f"{os.getloadavg()[0]:.1f}.",
        f"Default run: {default.task.name}, lag {default.lag}, H {default.hidden_size}, batch "
        f"{default.batch_size}, Adam lr {default.lr:g}, clip {default.clip}, forget bias "
        f"{default.forget_bias}, {default.max_steps} steps, seed {default.seed}.",
        "",
        "## Training steps per second (default size)",
        "",
        "| BLAS threads | " + " | ".join(CELLS) + " |",
        "|---|" + "---:|" * len(CELLS),
        f"| default | {speed_cells(default)} |",
    ]
    print("\n".join(lines), flush=True)
    default_run = three_cell_run(default, "default")
    print(default_run[0], flush=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    child = subprocess.run(
        [sys.executable, __file__, "--single-thread-part"], env=env, text=True, timeout=600,
        stdout=subprocess.PIPE,
    )  # fmt: skip
    out = child.stdout
    part = out[out.index(MARK) + len(MARK) :].splitlines() if MARK in out else ["(failed)"]
    lines += [part[0], *part[1:4], default_run[0], *part[4:]]
    lines += [
        "",
        "Loss / chance: 1 is the chance baseline, 0 perfect (adding: chance MSE 1/6; recall: "
        f"log K and accuracy 1/K). Each grid run is cut at {RUN_BUDGET_S:.0f} s of training "
        "([timeout at n] = the steps it reached).",
        f"Whole bench: {time.perf_counter() - t_start:.0f} s.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[-2:]))
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
