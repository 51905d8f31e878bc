"""Where a rerun's server time goes: server CPU per interaction, its top costs, and a class
clicking at the same instant, on Step through, Gates over time and Vanishing gradients.

Run ``.venv/bin/python bench/profile.py`` (about 4 minutes). Prints figures and never asserts;
the tables are also written to ``bench/results/profile.md`` (git-ignored).

Method (a real server per page: ``streamlit run app.py`` with the project's config on a free
loopback port, driven by ``bench/_common.py``'s browser-like websocket client):

1. **CPU per interaction.** The server runs with ``GATESCOPE_PROFILE=<folder>`` and
   ``GATESCOPE_PROFILE_TIMING=1`` (ui/runtime.py: each script run's CPU seconds on its own
   thread, no profiler). A teacher opens the page (the lesson is computed and cached), then one
   student session opens it and changes the hidden size ``w_H`` 16 → 12 → 16 → … (the issue's
   interaction: a full rerun; the first two, which fill the caches for H = 12, are not
   counted) ``--clicks`` times, one at a time. Reported: the median script-thread CPU per
   interaction, and the server process's whole CPU time (all threads: the script, the event
   loop serialising and sending the messages; ``/proc/<pid>/stat``, 10 ms ticks) over the
   counted interactions divided by their number.
2. **Top costs.** The same with cProfile on (``GATESCOPE_PROFILE`` alone): the interactions'
   profiles summed; the functions with the most own time and a few named cumulative costs,
   as shares of the profiled script time (cProfile slows Python code, not C code, so shares
   are indicative).
3. **A class at the same instant.** ``bench/load.py``'s classroom with ``--sessions`` (30)
   sessions and no think time (everyone changes ``w_H`` at once), one process: interaction
   p95 and errors.

Figures are printed against :data:`ISSUE_MS_PER_RERUN` (issue 12: ~60 ms of server time per
rerun) and :data:`BASELINE` (this script's own figures on the code before the changes made for
issue 12, measured on this machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402
import load  # noqa: E402

ISSUE_MS_PER_RERUN = 60.0
"""Issue 12: 120 reruns in 6-8 s, about 60 ms of server time per rerun (30 sessions)."""
ISSUE_P95_S = {"Step through": 1.91, "Gates over time": 2.25, "Vanishing gradients": 1.72}
"""Issue 12: interaction p95 with 30 sessions changing a setting at the same instant."""

BASELINE = {
    # page: (script-thread CPU median ms, process CPU ms per interaction, class p95 s)
    "Step through": (16.0, 19.0, 0.555),
    "Gates over time": (18.0, 22.0, 0.728),
    "Vanishing gradients": (19.0, 26.0, 0.795),
}
"""This script's figures before the changes for issue 12 (commit 9dfe680, 2026-11-29, load
average 1.3-1.7 from other work on the machine), on this 2-core machine."""

TARGET_MS, TARGET_P95_S = 20.0, 1.0
PAGES = [p for p in c.PAGES if p[1] in BASELINE]
KEY, VALUES = "w_H", (12, 16)
WARMUP = 2  # the first interactions fill the caches for H = 12 (not counted)
NAMED = [  # cumulative costs worth naming, matched against "file:line(function)"
    ("st.plotly_chart (validate + serialise)", "plotly_chart.py", "plotly_chart"),
    ("Plotly to_json / to_plotly_json", "basedatatypes.py", "to_plotly_json"),
    ("figure deep copy", "basedatatypes.py", "__init__"),
    ("the page's sidebar", "sidebar.py", "input_panel"),
    ("protobuf serialisation", "forward_msg_queue", "enqueue"),
]


def _runs(folder: Path) -> list[dict]:
    lines = []
    for f in sorted(folder.glob("*-runs.jsonl")):
        lines += [json.loads(x) for x in f.read_text().splitlines() if x.strip()]
    return sorted(lines, key=lambda r: r["n"])


def _wait_runs(folder: Path, n: int, timeout: float = 10.0) -> list[dict]:
    """The run records, once ``n`` of them are written (a record follows script_finished)."""
    deadline = time.monotonic() + timeout
    while len(runs := _runs(folder)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return runs


async def _clicks(server: c.Server, path: str, folder: Path, clicks: int) -> dict:
    out = {"errors": [], "thread_cpu": [], "process_cpu": float("nan"), "runs": 0}
    teacher = c.Session(server.port, path)
    student = c.Session(server.port, path)
    try:
        for s in (teacher, student):
            r = await s.load()
            out["errors"] += r.errors + r.error_alerts
        await teacher.close()
        for i in range(WARMUP):
            r = await student.change(KEY, VALUES[i % 2])
            out["errors"] += r.errors + r.error_alerts
        before = len(_wait_runs(folder, 2 + WARMUP))
        cpu0 = server.cpu_seconds()
        for i in range(clicks):
            r = await student.change(KEY, VALUES[(WARMUP + i) % 2])
            out["errors"] += r.errors + r.error_alerts
            out["runs"] += r.runs
        runs = _wait_runs(folder, before + out["runs"])
        out["process_cpu"] = (server.cpu_seconds() - cpu0) / clicks
        out["thread_cpu"] = [r["thread_cpu"] for r in runs[before:]]
        out["first_profile"] = before
    finally:
        await asyncio.gather(teacher.close(), student.close())
    return out


def measure_cpu(label: str, path: str, clicks: int, *, profile: bool, keep: bool = False) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="gatescope-profile-"))
    env = {"GATESCOPE_PROFILE": str(folder), "OPENBLAS_NUM_THREADS": "1"}
    if not profile:
        env["GATESCOPE_PROFILE_TIMING"] = "1"
    tag = "cprofile" if profile else "cpu"
    server = c.Server(log_name=f"profile_{path.lower()}_{tag}", env=env)
    try:
        server.start()
        res = asyncio.run(_clicks(server, path, folder, clicks))
        if profile:
            files = sorted(folder.glob("*.prof"))[res["first_profile"] :]
            res["stats"] = pstats.Stats(*map(str, files)) if files else None
    finally:
        server.stop()
        if keep and profile:
            print(f"  (profiles kept in {folder})", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return res


def top_costs(stats: pstats.Stats, n: int) -> list[list[str]]:
    """The ``n`` functions with the most own time, and the named cumulative costs."""
    total = sum(v[2] for v in stats.stats.values()) or float("nan")  # own times sum to the run
    rows = []
    own = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:n]
    for (file, line, func), (_, calls, tt, ct, _) in own:
        where = f"{Path(file).name}:{line}" if line else file
        rows.append([f"`{func}` ({where})", f"{calls:,}", f"{tt / total:.0%}", f"{ct / total:.0%}"])
    for name, file_part, func in NAMED:
        hits = [(k, v) for k, v in stats.stats.items() if file_part in k[0] and k[2] == func]
        if hits:
            ct = max(v[3] for _, v in hits)
            calls = sum(v[1] for _, v in hits)
            rows.append([f"**{name}** (cumulative)", f"{calls:,}", "", f"{ct / total:.0%}"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clicks", type=int, default=24, help="counted interactions per page")
    ap.add_argument("--sessions", type=int, default=30, help="the class at the same instant")
    ap.add_argument("--top", type=int, default=12, help="functions listed per page")
    ap.add_argument("--pages", nargs="*", help="page labels (default: the three)")
    ap.add_argument("--no-class", action="store_true", help="skip the 30-session burst")
    ap.add_argument("--keep", action="store_true", help="keep the cProfile files (paths printed)")
    args = ap.parse_args()
    pages = [p for p in PAGES if not args.pages or p[1] in args.pages]
    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    import streamlit

    t0 = time.perf_counter()
    emit("# Server CPU per interaction, and where it goes")
    emit()
    emit(f"- Python {platform.python_version()}, streamlit {streamlit.__version__}, "
         f"{os.cpu_count()} CPUs, load average {c.load_average()} at start; the server gets "
         "OPENBLAS_NUM_THREADS=1 (and limits BLAS itself, ui/runtime.py)")  # fmt: skip
    emit(f"- interaction: `{KEY}` 16 → 12 → 16 …, a full rerun at the page's defaults with "
         f"warm caches; {args.clicks} counted per page, one at a time")  # fmt: skip
    emit()

    results = {}
    for _, label, path in pages:
        print(f"{label}: CPU ...", flush=True)
        cpu = measure_cpu(label, path, args.clicks, profile=False)
        print(f"{label}: cProfile ...", flush=True)
        prof = measure_cpu(label, path, max(8, args.clicks // 2), profile=True, keep=args.keep)
        burst = None
        if not args.no_class:
            print(f"{label}: {args.sessions} sessions at the same instant ...", flush=True)
            ns = SimpleNamespace(sessions=args.sessions, spread=0.0, teacher=True, seed=0,
                                 msg_timeout=30.0, run_timeout=60.0,
                                 total_timeout=120.0)  # fmt: skip
            burst = load.measure(label, f"pages/{path}", path, ns, baseline=False)
        results[label] = (cpu, prof, burst)

    header = ["page", "script CPU median", "process CPU / interaction", "vs issue (60 ms)",
              "vs baseline", f"{args.sessions} at once: p95", "errors", "verdict"]  # fmt: skip
    rows = []
    for label, (cpu, _, burst) in results.items():
        med = c.median(cpu["thread_cpu"])
        proc = cpu["process_cpu"]
        base = BASELINE[label]
        p95 = c.percentile(burst["interaction"], 95) if burst else float("nan")
        errors = len(cpu["errors"]) + (len(burst["errors"]) if burst else 0)
        ok_cpu = proc * 1000 <= TARGET_MS and med * 1000 <= TARGET_MS
        ok_p95 = p95 <= TARGET_P95_S
        rows.append([
            label, c.fmt_s(med), c.fmt_s(proc), f"{proc * 1000 / ISSUE_MS_PER_RERUN:.2f}×",
            f"{c.fmt_s(base[0] / 1000)} / {c.fmt_s(base[1] / 1000)} / {c.fmt_s(base[2])}",
            f"{c.fmt_s(p95)} (issue {ISSUE_P95_S[label]:.2f} s)", str(errors),
            f"{c.verdict(ok_cpu)} CPU ≤ {TARGET_MS:.0f} ms, "
            + (f"{c.verdict(ok_p95)} p95 ≤ 1 s, " if burst else "(p95 not measured), ")
            + f"{c.verdict(errors == 0)} 0 errors",
        ])  # fmt: skip
    emit("## Server CPU per interaction")
    emit()
    emit(
        "baseline = script CPU median / process CPU per interaction / class p95, measured by "
        "this script before the changes; `vs issue` = process CPU ÷ the issue's 60 ms"
    )
    emit()
    emit("\n".join(c.md_table(header, rows, align="lrrrrrrl")))
    emit()

    for label, (_, prof, _) in results.items():
        stats = prof.get("stats")
        if stats is None:
            continue
        emit(f"## Top costs: {label} ({len(prof['thread_cpu'])} profiled interactions)")
        emit()
        emit("\n".join(c.md_table(["function", "calls", "own time", "cumulative"],
                                  top_costs(stats, args.top))))  # fmt: skip
        emit()
    for label, (cpu, prof, burst) in results.items():
        errs = cpu["errors"] + prof["errors"] + (burst["errors"] if burst else [])
        for e in sorted(set(errs)):
            emit(f"- {label}: {errs.count(e)}× {e}")
    emit(f"Load average at end {c.load_average()}; bench wall time "
         f"{time.perf_counter() - t0:.0f} s.")  # fmt: skip
    path = c.write_results("profile", out)
    print(f"\n(written to {path.relative_to(c.ROOT)})")


if __name__ == "__main__":
    main()
