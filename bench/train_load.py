"""Thirty students training at once (issue 12 §3): do everyone else's clicks stay fast?

Run ``.venv/bin/python bench/train_load.py`` (about 3 minutes). Prints figures and never
asserts; the tables are also written to ``bench/results/train_load.md`` (git-ignored).

Method
------
For each configuration of the training queue a fresh server is started (``bench/_common.py``:
``streamlit run app.py`` with the project's config on a free port of 127.0.0.1) with
``GATESCOPE_TRAIN_SLOTS`` (``ui/training.py``) set: the server's default (cores − 1, the
variable unset), then ``--trainers`` slots, i.e. no queue at all. Each server is driven by
browser-like websocket clients (``bench/_common.py``), all in one asyncio loop:

0. The teacher opens each page once and moves ``w_H`` 16 → 12 → 16 on the clicked pages: the
   lessons both clickers alternate between are computed, as in a rehearsed class.
1. ``--clickers`` sessions (in turn on Step through, Gates over time, Vanishing gradients) and
   ``--trainers`` sessions on the Train page open (a few at a time: the first-load burst is
   ``bench/load.py``'s subject). Trainer k opens ``Train?seed=k`` (k = 1..N: distinct runs,
   none shared with another learner) and types the step budget (``--steps``, H 16, the
   adding problem at lag 20, the three cells: the page's defaults otherwise).
2. Baseline: every clicker moves ``w_H`` 16 ↔ 12 after a think time uniform in
   [``--think-min``, ``--think-max``] s, again and again, for ``--baseline`` seconds; nobody
   trains. Latency = rerun sent → final ``script_finished``.
3. Training: every trainer presses ▶ Train (``train_start``: a ``trigger_value`` in the rerun)
   at the same instant while the clickers go on clicking, until the last trainer's page has
   redrawn with its finished run. A click counts for this phase when it was sent between the
   press and that moment.

Trainers: time to finish = press → final ``script_finished`` (the run's ``st.rerun`` redraw
included). No server feature reports the queue: each trainer's training is read from what its
page shows while the rerun runs (``_common.WatchedSession``): the queue's "you are number N in
line" alert and the progress bars. A run trains from its first redraw with a step taken to its
last redraw of the first script run (a run redraws every 10 steps, so this misses the first
chunk of each run); the most runs training at once is the largest number of these intervals
that overlap. The completed budget is read from the progress bars of the page drawn after the
run (every cell at 100 %); a run replayed from another learner's instead of trained would be
said by the page and is counted.

Errors: connect failures, disconnects, timeouts, exception elements, ``st.error`` boxes, a
final ``script_finished`` other than success; and a click that found no ``w_H`` widget. The
client runs on the same 2 cores as the server: its parsing of 60 sessions' messages competes
with the server, as a classroom's browsers would not.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _common as c  # noqa: E402
from _common import Shown  # noqa: E402

CLICK_PAGES = [(label, path) for _, label, path in c.PAGES
               if label in ("Step through", "Gates over time", "Vanishing gradients")]  # fmt: skip
CLICK_KEY, CLICK_VALUES = "w_H", (16, 12)
TRAIN_PATH = "Train"
IN_LINE = re.compile(r"you are number (\d+) in line")
REPLAYED = "their run was replayed"  # ui.training.REUSED_TEXT
P95_TARGET = 1.0
CONNECT_AT_ONCE = 6  # sessions opening their page at the same time during the set-up


@dataclass
class Click:
    sent: float
    seconds: float
    ok: bool
    errors: list[str] = field(default_factory=list)


@dataclass
class Trainer:
    session: c.WatchedSession
    seed: int
    result: c.RunResult | None = None
    pressed: float = float("nan")
    finished: float = float("nan")
    errors: list[str] = field(default_factory=list)

    def training_interval(self) -> tuple[float, float] | None:
        """(first, last) arrival of a progress bar with a step taken, in the first run."""
        times = [s.at for s in self.session.shown
                 if s.kind == "progress" and s.run == 0 and s.value > 0]  # fmt: skip
        return (min(times), max(times)) if times else None

    def positions(self) -> list[int]:
        return [int(m.group(1)) for s in self.session.shown if s.kind == "alert"
                for m in [IN_LINE.search(s.text)] if m]  # fmt: skip

    def final_bars(self) -> dict[str, Shown]:
        """Each cell's progress bar as the page drawn after the run left it (the last one of
        each cell: the page draws its bars "ready" before drawing the finished run)."""
        return {s.text.split(":", 1)[0]: s for s in self.session.shown
                if s.kind == "progress" and s.run >= 1}  # fmt: skip

    def completed(self) -> bool:
        """Every cell's bar at 100 % on the page drawn after the run."""
        bars = self.final_bars()
        return bool(bars) and all(s.value == 100 for s in bars.values())

    def outcome(self) -> str:
        """What the page drawn after the run says of a run short of its budget."""
        if self.result is None:
            return "never pressed"
        if not self.final_bars():
            return f"no page drawn after the run (final status {self.result.status or '–'})"
        return "; ".join(s.text for s in self.final_bars().values())

    def replayed(self) -> bool:
        return any(s.kind == "alert" and REPLAYED in s.text for s in self.session.shown)


def result_errors(what: str, r: c.RunResult) -> list[str]:
    return [f"{what}: {e}" for e in r.errors + r.error_alerts]


async def teacher(port: int, args) -> list[str]:
    errors = []
    for _, path in [*CLICK_PAGES, ("Train", TRAIN_PATH)]:
        s = c.Session(port, path, {}, msg_timeout=args.msg_timeout, run_timeout=args.run_timeout)
        try:
            r = await s.load()
            errors += result_errors(f"teacher {path}", r)
            if path != TRAIN_PATH and r.ok:
                for v in (*CLICK_VALUES[1:], CLICK_VALUES[0]):
                    errors += result_errors(f"teacher {path}", await s.change(CLICK_KEY, v))
        finally:
            await s.close()
    return errors


async def classroom(server: c.Server, args, rng: random.Random) -> dict:
    port = server.port
    out: dict = {"errors": [], "clicks": []}
    clickers = [
        c.WatchedSession(port, CLICK_PAGES[i % len(CLICK_PAGES)][1], {},
                  msg_timeout=args.msg_timeout, run_timeout=args.run_timeout)
        for i in range(args.clickers)
    ]  # fmt: skip
    trainers = [
        Trainer(c.WatchedSession(port, TRAIN_PATH, {"seed": str(k)},
                                 msg_timeout=args.msg_timeout, run_timeout=args.train_timeout),
                seed=k)
        for k in range(1, args.trainers + 1)
    ]  # fmt: skip

    # 1. Everyone opens the page, a few at a time; the trainers type their step budget.
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_clicker(s: c.WatchedSession) -> None:
        async with gate:
            out["errors"].extend(result_errors("clicker load", await s.load()))

    async def open_trainer(t: Trainer) -> None:
        async with gate:
            r = await t.session.load()
            t.errors += result_errors("trainer load", r)
            if r.ok:
                t.errors += result_errors(
                    "trainer steps", await c.set_int(t.session, "train_steps", args.steps)
                )

    t0 = time.perf_counter()
    await asyncio.gather(*map(open_clicker, clickers), *map(open_trainer, trainers))
    out["setup_s"] = time.perf_counter() - t0

    # 2. The clickers click until told to stop; the baseline runs first.
    stop = asyncio.Event()

    async def click_loop(s: c.WatchedSession, k: int) -> None:
        r = random.Random(f"{args.seed}-click-{k}")
        value_index = 0
        if s.ws is None:
            return
        await asyncio.sleep(r.uniform(0.0, args.think_max))  # arrivals spread from the start
        while not stop.is_set():
            value_index = 1 - value_index
            sent = time.perf_counter()
            res = await s.change(CLICK_KEY, CLICK_VALUES[value_index])
            s.shown.clear()  # only the trainers' pages are read
            out["clicks"].append(Click(sent, res.seconds, res.ok,
                                       result_errors("click", res)))  # fmt: skip
            try:
                await asyncio.wait_for(stop.wait(), r.uniform(args.think_min, args.think_max))
            except TimeoutError:
                pass

    loops = [asyncio.create_task(click_loop(s, k)) for k, s in enumerate(clickers)]
    t_base = time.perf_counter()
    await asyncio.sleep(args.baseline)

    # 3. Every trainer presses ▶ Train at the same instant.
    async def train(t: Trainer) -> None:
        t.session.shown.clear()
        t.pressed = time.perf_counter()
        t.result = await c.press(t.session, "train_start")
        t.finished = time.perf_counter()
        t.errors += result_errors("train", t.result)

    ready = [t for t in trainers if t.session.ws is not None and not t.errors]
    out["trainers_ready"] = len(ready)
    cpu0, t_press = server.cpu_seconds(), time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*map(train, ready)), args.train_timeout + 30)
    except TimeoutError:
        out["errors"].append("training phase: timeout")
    t_done = time.perf_counter()
    out["train_cpu"] = server.cpu_seconds() - cpu0
    stop.set()
    await asyncio.gather(*loops)
    await asyncio.gather(*(s.close() for s in clickers), *(t.session.close() for t in trainers))

    out.update(t_base=t_base, t_press=t_press, t_done=t_done, trainers=trainers)
    for t in trainers:
        out["errors"] += t.errors
    out["errors"] += [e for k in out["clicks"] for e in k.errors]
    return out


def measure(name: str, slots: int | None, args) -> dict:
    server = c.Server(log_name=f"train_load_{'default' if slots is None else slots}")
    if slots is None:
        server.env.pop("GATESCOPE_TRAIN_SLOTS", None)
    else:
        server.env["GATESCOPE_TRAIN_SLOTS"] = str(slots)
    load = c.load_average().split(" / ")[0]
    try:
        server.start()
    except RuntimeError as exc:
        return {"errors": [f"server: {exc}"], "clicks": [], "load": load}
    try:
        warm = asyncio.run(teacher(server.port, args))
        res = asyncio.run(classroom(server, args, random.Random(f"{args.seed}-{name}")))
        res["errors"] = warm + res["errors"]
        c.note_server(server, res, load)
    finally:
        server.stop()
    return res


def phases(r: dict) -> dict[str, list[Click]]:
    """The clicks sent during the baseline and during the training."""
    if "t_press" not in r:
        return {"baseline": [], "training": []}
    return {
        "baseline": [k for k in r["clicks"] if r["t_base"] <= k.sent < r["t_press"]],
        "training": [k for k in r["clicks"] if r["t_press"] <= k.sent <= r["t_done"]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trainers", type=int, default=30)
    ap.add_argument("--clickers", type=int, default=30)
    ap.add_argument("--steps", type=int, default=200, help="each trainer's step budget")
    ap.add_argument("--baseline", type=float, default=15.0, help="seconds of clicks alone")
    ap.add_argument("--think-min", type=float, default=2.0)
    ap.add_argument("--think-max", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-queue", action=argparse.BooleanOptionalAction, default=True,
                    help="also run with as many training slots as trainers")  # fmt: skip
    ap.add_argument("--msg-timeout", type=float, default=30.0)
    ap.add_argument("--run-timeout", type=float, default=60.0)
    ap.add_argument("--train-timeout", type=float, default=240.0)
    ap.add_argument("--out", default="train_load", help="results file: bench/results/OUT.md")
    args = ap.parse_args()
    args.trainers = max(1, min(args.trainers, 100))
    args.clickers = max(1, min(args.clickers, 100))
    args.steps = max(10, min(args.steps, 5000))

    from ui.training import slots_from_env

    default_slots = slots_from_env({})
    configs = [(f"queue: {default_slots} slot{'s' if default_slots != 1 else ''} "
                "(default, cores − 1)", None)]  # fmt: skip
    if args.no_queue:
        configs.append((f"no queue: {args.trainers} slots", args.trainers))
    emit, t_start = c.Report(), time.perf_counter()
    emit("# Thirty students training at once")
    emit()
    emit(f"- {c.machine_line()}")
    emit(
        f"- one fresh `streamlit run app.py` per configuration on 127.0.0.1, over the "
        f"websocket like a browser; {args.clickers} clickers (Step through, Gates over time, "
        f"Vanishing gradients in turn) move w_H 16 ↔ 12 after a think time uniform in "
        f"[{args.think_min:g}, {args.think_max:g}] s; {args.trainers} trainers on Train "
        f"(seed 1..{args.trainers}, {args.steps} steps, H 16, adding lag 20, RNN + GRU + "
        f"LSTM) press ▶ Train at the same instant after {args.baseline:g} s of clicks alone"
    )
    emit(
        "- click = rerun sent → final script_finished, p50 / p95 / max; baseline = clicks "
        "sent before the press, training = clicks sent between the press and the last "
        "trainer's redrawn page; trainers: press → final script_finished; most training "
        "at once = overlap of the runs' first-to-last progress redraws (read from the pages)"
    )
    emit()

    results = {}
    for name, slots in configs:
        print(f"{name} ...", flush=True)
        results[name] = r = measure(name, slots, args)
        ph = phases(r)
        print(f"  clicks baseline {c.fmt_lat([k.seconds for k in ph['baseline'] if k.ok])}, "
              f"training {c.fmt_lat([k.seconds for k in ph['training'] if k.ok])}, "
              f"errors {len(r['errors'])}", flush=True)  # fmt: skip

    emit(f"## Clickers' interaction latency ({args.clickers} sessions)")
    emit()
    rows = []
    for name, _ in configs:
        r = results[name]
        ph = phases(r)
        base = [k.seconds for k in ph["baseline"] if k.ok]
        during = [k.seconds for k in ph["training"] if k.ok]
        ratio = (c.percentile(during, 95) / c.percentile(base, 95)) if base and during else None
        for label, ks, xs in (("baseline (nobody trains)", ph["baseline"], base),
                              (f"while {r.get('trainers_ready', 0)} train", ph["training"],
                               during)):  # fmt: skip
            p95 = c.percentile(xs, 95)
            rows.append([
                name, label, str(len(ks)), c.fmt_lat(xs), str(sum(not k.ok for k in ks)),
                f"{ratio:.2f}" if ratio and ks is ph["training"] else "",
                f"{c.verdict(p95 <= P95_TARGET)} p95 ≤ {P95_TARGET:g} s" if xs else "–",
            ])  # fmt: skip
    emit("\n".join(c.md_table(
        ["configuration", "phase", "clicks", "p50 / p95 / max", "click errors",
         "p95 ÷ baseline p95", "target"], rows, align="llrrrrl")))  # fmt: skip
    emit()

    if len(configs) == 2:
        during = [[k.seconds for k in phases(results[n])["training"] if k.ok] for n, _ in configs]
        if all(during):
            p50s, p95s = ([c.percentile(xs, q) for xs in during] for q in (50, 95))
            emit(f"While they train, {configs[1][0]} ÷ {configs[0][0]}: clicks p50 "
                 f"{p50s[1] / p50s[0]:.1f}×, p95 {p95s[1] / p95s[0]:.1f}×.")  # fmt: skip
            emit()

    emit(f"## Trainers ({args.trainers} sessions, {args.steps} steps each)")
    emit()
    rows = []
    for name, _ in configs:
        r = results[name]
        ts: list[Trainer] = r.get("trainers", [])
        pressed = [t for t in ts if t.result is not None]
        done = [t.finished - t.pressed for t in pressed if t.result.ok]
        intervals = [iv for t in pressed if (iv := t.training_interval())]
        wait = [iv[0] - t.pressed for t in pressed if (iv := t.training_interval())]
        trained = [iv[1] - iv[0] for iv in intervals]
        positions = [p for t in pressed for p in t.positions()]
        span = r["t_done"] - r["t_press"] if "t_press" in r else float("nan")
        rows.append([
            name, f"{len(pressed)} / {len(ts)}", c.fmt_lat(done), c.fmt_s(span),
            f"{c.fmt_s(c.median(wait))} / {c.fmt_s(max(wait, default=float('nan')))}",
            c.fmt_s(c.median(trained)), str(c.max_overlap(intervals)),
            str(max(positions, default=0)),
            f"{sum(t.completed() for t in pressed)} / {sum(t.replayed() for t in pressed)}",
            str(sum(len(t.errors) for t in ts)),
            f"{r.get('train_cpu', float('nan')):.0f} s",
            f"{r.get('peak_rss', 0):.0f} MB", r["load"],
        ])  # fmt: skip
    emit("\n".join(c.md_table(
        ["configuration", "pressed", "time to finish p50 / p95 / max", "last one done after",
         "first redraw after: median / max", "training (median)", "most training at once",
         "longest line seen", "full budget / replayed", "trainer errors",
         "server CPU (training phase)", "peak RSS", "load avg"], rows)))  # fmt: skip
    emit()

    for name, _ in configs:
        seen: dict[str, int] = {}
        for t in results[name].get("trainers", []):
            if t.result is not None and not t.completed():
                short = f"run short of its budget: {t.outcome()}"
                seen[short] = seen.get(short, 0) + 1
        for e in results[name]["errors"]:
            seen[e] = seen.get(e, 0) + 1
        for e, k in seen.items():
            emit(f"- {name}: {k}× {e}")
    emit(f"Load average at end {c.load_average()}; bench wall time "
         f"{time.perf_counter() - t_start:.0f} s.")  # fmt: skip
    path = c.write_results(args.out, emit.lines)
    print(f"\n(written to {path.relative_to(c.ROOT)})")


if __name__ == "__main__":
    main()
