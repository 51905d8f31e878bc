"""Classroom load test (issue #4 §5): N students open the same lesson link at once, then each
changes one setting.

Run ``.venv/bin/python bench/load.py`` (about 4 minutes; ``--sessions 30`` by default). Prints
figures and never asserts; the tables are also written to ``bench/results/load.md``
(git-ignored).

Method
------
For each page a fresh server is started here (``streamlit run app.py`` with the project's
``.streamlit/config.toml`` on a free port of 127.0.0.1, healthy on ``/_stcore/health``), and
driven by N browser-like clients (``bench/_common.py``: the page and ``/_stcore/health`` for
the ``_streamlit_xsrf`` cookie, the websocket with ``["streamlit", <xsrf token>]`` as
subprotocols and the cookie, then ``BackMsg.rerun_script``), all in one asyncio loop.

0. The teacher opens the link once (``--no-teacher`` skips it): the server has imported the
   app and computed the lesson, as when a teacher copies the share link from their own tab.
1. First load: the N sessions start together (one asyncio event releases them all): HTTP
   preflight, websocket, first run. Latency = from the first HTTP request to the final
   ``script_finished``.
2. Interaction: each student, after a think time drawn uniformly in [0, --spread] s (seeded),
   moves one widget: ``w_H`` from 16 to 12 (the Train page: the lag slider ``train_lag`` from
   20 to 30; it never presses Train). The rerun carries every widget's current value, as the
   browser sends them, and the hashes of the cached messages. Latency = from sending the rerun
   to its final ``script_finished``. ``--spread 0`` makes every student click at the same
   instant (the worst case).

Errors: connect failures, disconnects, timeouts (``--msg-timeout`` per message,
``--run-timeout`` per run, ``--total-timeout`` per phase), exception elements, ``st.error``
boxes, a final ``script_finished`` other than success. Peak RSS is the server process's VmHWM
(``/proc/<pid>/status``) at the end of the page. Runs/s is N first loads divided by the wall
time of phase 1 (the server's throughput under the burst).

``--baseline`` (on by default; ``--no-baseline`` skips it) repeats everything with
``--runner.postScriptGC true`` (Streamlit's default) and prints the ratios baseline / ours.

Targets with 30 sessions on this 2-core machine, on every page: 0 errors, first-load p95 ≤ 5 s,
interaction p95 ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

FIRST_P95_TARGET, INTERACTION_P95_TARGET = 5.0, 1.0
CHANGE = {"Train": ("train_lag", 30)}
DEFAULT_CHANGE = ("w_H", 12)
HARD_LIMIT_S = 600.0  # the whole bench stops starting new pages past this


async def classroom(server: c.Server, label: str, path: str, args, rng: random.Random) -> dict:
    port = server.port
    n = args.sessions
    key, value = CHANGE.get(label, DEFAULT_CHANGE)
    sessions = [
        c.Session(port, path, {}, msg_timeout=args.msg_timeout, run_timeout=args.run_timeout)
        for _ in range(n)
    ]
    out: dict = {"first": [], "interaction": [], "errors": [], "first_bytes": [], "int_bytes": []}

    # Phase 1: everyone at once.
    go = asyncio.Event()

    async def first(s: c.Session) -> c.RunResult:
        await go.wait()
        return await s.load()

    tasks = [asyncio.create_task(first(s)) for s in sessions]
    await asyncio.sleep(0.05)  # every task is parked on the event
    cpu0 = server.cpu_seconds()
    t0 = time.perf_counter()
    go.set()
    try:
        results = await asyncio.wait_for(asyncio.gather(*tasks), args.total_timeout)
    except TimeoutError:
        for t in tasks:
            t.cancel()
        results = [t.result() if t.done() and not t.cancelled() else None for t in tasks]
    out["phase1_s"] = time.perf_counter() - t0
    out["cpu_first"] = (server.cpu_seconds() - cpu0) / n
    for r in results:
        if r is None:
            out["errors"].append("first load: phase timeout")
            continue
        out["errors"] += [f"first load: {e}" for e in r.errors + r.error_alerts]
        if r.ok:
            out["first"].append(r.total_seconds)
            out["first_bytes"].append(r.nbytes)

    # Phase 2: each student changes the setting after a think time.
    delays = [rng.uniform(0.0, args.spread) for _ in sessions]

    async def interact(s: c.Session, delay: float) -> c.RunResult:
        if s.ws is None:
            return c.RunResult(errors=["not connected"])
        await asyncio.sleep(delay)
        return await s.change(key, value)

    cpu1 = server.cpu_seconds()
    t1 = time.perf_counter()
    tasks = [asyncio.create_task(interact(s, d)) for s, d in zip(sessions, delays, strict=True)]
    try:
        results = await asyncio.wait_for(asyncio.gather(*tasks), args.total_timeout + args.spread)
    except TimeoutError:
        for t in tasks:
            t.cancel()
        results = [t.result() if t.done() and not t.cancelled() else None for t in tasks]
    out["phase2_s"] = time.perf_counter() - t1
    out["cpu_interaction"] = (server.cpu_seconds() - cpu1) / n
    for r in results:
        if r is None:
            out["errors"].append("interaction: phase timeout")
            continue
        out["errors"] += [f"interaction: {e}" for e in r.errors + r.error_alerts]
        if r.ok:
            out["interaction"].append(r.seconds)
            out["int_bytes"].append(r.nbytes)
    await asyncio.gather(*(s.close() for s in sessions))
    return out


async def teacher(port: int, path: str, args) -> c.RunResult:
    s = c.Session(port, path, {}, msg_timeout=args.msg_timeout, run_timeout=args.run_timeout)
    try:
        return await s.load()
    finally:
        await s.close()


def measure(label: str, script: str, path: str, args, *, baseline: bool) -> dict:
    extra = ("--runner.postScriptGC", "true") if baseline else ()
    tag = "baseline" if baseline else "ours"
    server = c.Server(extra, log_name=f"load_{Path(script).stem.lower()}_{tag}")
    load = c.load_average().split(" / ")[0]
    try:
        server.start()
    except RuntimeError as exc:
        return {"first": [], "interaction": [], "errors": [f"server: {exc}"], "first_bytes": [],
                "int_bytes": [], "phase1_s": 0.0, "phase2_s": 0.0, "cpu_first": float("nan"),
                "cpu_interaction": float("nan"), "peak_rss": 0.0, "load": load}  # fmt: skip
    try:
        warm = asyncio.run(teacher(server.port, path, args)) if args.teacher else None
        rng = random.Random(f"{args.seed}-{label}")
        res = asyncio.run(classroom(server, label, path, args, rng))
        if warm is not None:
            res["errors"] += [f"teacher: {e}" for e in warm.errors + warm.error_alerts]
        if not server.alive():
            res["errors"].append("server died")
        res["peak_rss"] = server.peak_rss_mb()
        res["load"] = f"{load} → {c.load_average().split(' / ')[0]}"
    finally:
        server.stop()
    return res


def runs_per_s(r: dict) -> float:
    return len(r["first"]) / r["phase1_s"] if r["phase1_s"] else float("nan")


def fmt_lat(xs: list[float]) -> str:
    if not xs:
        return "–"
    return " / ".join(c.fmt_s(v) for v in (c.percentile(xs, 50), c.percentile(xs, 95), max(xs)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--spread", type=float, default=10.0,
                    help="think time before the change: uniform in [0, SPREAD] s")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pages", nargs="*", help="page labels or scripts (default: all)")
    ap.add_argument("--out", default="load", help="results file: bench/results/OUT.md")
    ap.add_argument(
        "--baseline", action=argparse.BooleanOptionalAction, default=True,
        help="also run with --runner.postScriptGC true (Streamlit's default)",
    )  # fmt: skip
    ap.add_argument(
        "--teacher", action=argparse.BooleanOptionalAction, default=True,
        help="the teacher opens the link once before the class",
    )  # fmt: skip
    ap.add_argument("--msg-timeout", type=float, default=30.0)
    ap.add_argument("--run-timeout", type=float, default=60.0)
    ap.add_argument("--total-timeout", type=float, default=120.0)
    args = ap.parse_args()
    args.sessions = max(1, min(args.sessions, 200))

    import streamlit

    pages = [p for p in c.PAGES if not args.pages or p[0] in args.pages or p[1] in args.pages]
    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    t_start = time.perf_counter()
    emit("# Classroom load test")
    emit()
    emit(f"- Python {platform.python_version()}, streamlit {streamlit.__version__}, "
         f"{os.cpu_count()} CPUs, load average {c.load_average()} at start; "
         f"server env {c.blas_env()}")  # fmt: skip
    emit(f"- {args.sessions} sessions per page against a fresh `streamlit run app.py` on "
         "127.0.0.1 (project config), over the websocket like a browser (XSRF cookie + token); "
         + ("the teacher opened the link first; " if args.teacher else "no teacher warm-up; ")
         + "all sessions open the page at once, then each changes one widget "
         f"(w_H 16→12, Train: train_lag 20→30) after a think time uniform in "
         f"[0, {args.spread:g}] s")  # fmt: skip
    emit("- first load = first HTTP request → final script_finished; interaction = rerun "
         "sent → final script_finished; p50 / p95 / max; runs/s = first loads / phase-1 "
         "wall time; server CPU = the server process's user+system time over the phase "
         "(/proc/<pid>/stat) per session: the work, whatever else the machine runs")  # fmt: skip
    emit()

    configs = [("ours (postScriptGC=false)", False)]
    if args.baseline:
        configs.append(("baseline (postScriptGC=true)", True))
    results: dict[tuple[str, bool], dict] = {}
    for script, label, path in pages:  # ours then baseline page by page: the same machine load
        for name, baseline in configs:
            if time.perf_counter() - t_start > HARD_LIMIT_S:
                print(f"  (time limit: {label} skipped)", flush=True)
                continue
            print(f"{name}: {label} ...", flush=True)
            r = measure(label, script, path, args, baseline=baseline)
            results[(label, baseline)] = r
            print(
                f"  first {fmt_lat(r['first'])}, interaction {fmt_lat(r['interaction'])}, "
                f"errors {len(r['errors'])}, peak RSS {r['peak_rss']:.0f} MB",
                flush=True,
            )

    header = ["page", "first load p50 / p95 / max", "interaction p50 / p95 / max", "errors",
              "peak RSS", "runs/s", "server CPU per load / change", "bytes (load / change)",
              "load avg", "verdict"]  # fmt: skip
    misses = []
    for name, baseline in configs:
        rows = []
        for _, label, _ in pages:
            r = results.get((label, baseline))
            if r is None:
                continue
            n_err = len(r["errors"])
            p95_first = c.percentile(r["first"], 95)
            p95_int = c.percentile(r["interaction"], 95)
            checks = [
                ("0 errors", n_err == 0 and len(r["first"]) == args.sessions
                 and len(r["interaction"]) == args.sessions),
                (f"first p95 ≤ {FIRST_P95_TARGET:.0f} s", p95_first <= FIRST_P95_TARGET),
                (f"interaction p95 ≤ {INTERACTION_P95_TARGET:.0f} s",
                 p95_int <= INTERACTION_P95_TARGET),
            ]  # fmt: skip
            if not baseline:
                misses += [f"{label}: {n}" for n, ok in checks if not ok]
            rows.append(
                [
                    label,
                    fmt_lat(r["first"]),
                    fmt_lat(r["interaction"]),
                    str(n_err),
                    f"{r['peak_rss']:.0f} MB",
                    f"{runs_per_s(r):.1f}",
                    f"{c.fmt_s(r['cpu_first'])} / {c.fmt_s(r['cpu_interaction'])}",
                    f"{c.fmt_mb(c.median(r['first_bytes']) if r['first_bytes'] else 0)} / "
                    f"{c.fmt_mb(c.median(r['int_bytes']) if r['int_bytes'] else 0)}",
                    r["load"],
                    ", ".join(f"{c.verdict(ok)} {n}" for n, ok in checks),
                ]
            )
        emit(f"## {name}, {args.sessions} sessions")
        emit()
        emit("\n".join(c.md_table(header, rows, align="lrrrrrrrrl")))
        emit()

    if args.baseline:
        emit("## Baseline ÷ ours (postScriptGC=true ÷ false): > 1 means our config is better, "
             "except runs/s where < 1 means our config is better")  # fmt: skip
        emit()
        rows = []
        for _, label, _ in pages:
            a, b = results.get((label, False)), results.get((label, True))
            if not a or not b:
                continue

            def ratio(x: float, y: float) -> str:
                return f"{y / x:.2f}" if x and x == x and y == y else "–"

            rows.append(
                [
                    label,
                    ratio(c.percentile(a["first"], 95), c.percentile(b["first"], 95)),
                    ratio(c.percentile(a["first"], 50), c.percentile(b["first"], 50)),
                    ratio(c.percentile(a["interaction"], 95), c.percentile(b["interaction"], 95)),
                    ratio(c.percentile(a["interaction"], 50), c.percentile(b["interaction"], 50)),
                    ratio(runs_per_s(a), runs_per_s(b)),
                    ratio(a["peak_rss"], b["peak_rss"]),
                    ratio(a["cpu_first"], b["cpu_first"]),
                    ratio(a["cpu_interaction"], b["cpu_interaction"]),
                    f"{c.fmt_s(b['cpu_first'] - a['cpu_first'])} / "
                    f"{c.fmt_s(b['cpu_interaction'] - a['cpu_interaction'])}",
                ]
            )
        emit("\n".join(c.md_table(
            ["page", "first p95", "first p50", "interaction p95", "interaction p50", "runs/s",
             "peak RSS", "CPU per load", "CPU per change",
             "CPU Δ per load / change"], rows)))  # fmt: skip
        emit()

    for (label, baseline), r in results.items():
        seen: dict[str, int] = {}
        for e in r["errors"]:
            seen[e] = seen.get(e, 0) + 1
        for e, k in seen.items():
            emit(f"- {'baseline' if baseline else 'ours'} · {label}: {k}× {e}")
    emit("Misses (our config): " + ("; ".join(misses) if misses else "none") + ".")
    emit(f"Load average at end {c.load_average()}; bench wall time "
         f"{time.perf_counter() - t_start:.0f} s.")  # fmt: skip
    path = c.write_results(args.out, out)
    print(f"\n(written to {path.relative_to(c.ROOT)})")


if __name__ == "__main__":
    main()
