"""Page benchmark (issue #3 "Speed"): every page cold and warm, and what it sends.

Run ``.venv/bin/python bench/pages.py`` (a few minutes). Prints figures and never asserts; the
table is also written to ``bench/results/pages.md`` (git-ignored).

Method
------
Measured on a real server, not AppTest: for each page a fresh ``streamlit run app.py`` (the
project's ``.streamlit/config.toml``, so ``runner.postScriptGC=false``) on a free port of
127.0.0.1, driven over ``/_stcore/stream`` by the browser-like client of ``bench/_common.py``
(HTTP preflight, XSRF cookie and token, ``BackMsg.rerun_script`` with the page's URL path and
the lesson's query string). A time is the wall clock from sending ``rerun_script`` to the
final ``script_finished``: the script run, the serialization of every ForwardMsg and its
transfer over loopback, as a browser would wait for it (the websocket handshake is not
included; it is printed apart). The size is the sum of the serialized ForwardMsgs of one page
load (what goes on the wire: the server's websocket compression is off by default), which is
more faithful than summing element protos under AppTest (it includes the session, navigation
and page-info messages and the deltas' envelopes).

* first: the page's first run in a fresh server process (the app's own modules imported on
  this run, caches empty): what the first visitor after a restart waits. Information only.
* cold: a new session sends ``BackMsg.clear_cache`` (``st.cache_data`` and
  ``st.cache_resource`` emptied server-wide), then loads the page: every cached computation of
  the page runs again, the modules are already imported. Median (max) of N.
* warm: a new session loads the same link again (every cached computation hits). Median (max).

Cases: the defaults; ``preset=Sine wave&T=2000`` (the longest sequence) and ``H=256`` (the
widest cell), all through the query string, as a shared link carries them.

Targets: default settings warm ≤ 300 ms and cold ≤ 1.5 s (medians); every load ≤ 2 MB;
large cases answer within 3 s every time (the max of the cold and warm loads).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

WARM_TARGET, COLD_TARGET, SIZE_TARGET, LARGE_TARGET = 0.300, 1.5, 2_000_000, 3.0
CASES = [
    ("defaults", {}),
    ("T=2000 (Sine wave)", {"preset": "Sine wave", "T": "2000"}),
    ("H=256", {"H": "256"}),
]
ROW_BUDGET_S = 25.0  # wall time per (page, case) row: repeats stop early past it


async def load_once(server: c.Server, path: str, query: dict, *, cold: bool) -> c.RunResult:
    s = c.Session(server.port, path, query, msg_timeout=60, run_timeout=120)
    try:
        try:
            await s.connect()
        except Exception as exc:  # noqa: BLE001
            return c.RunResult(errors=[f"connect: {type(exc).__name__}: {exc}"[:200]])
        if cold:
            await s.clear_caches()
        cpu0 = server.cpu_seconds()
        res = await s.rerun({}, first=True)
        res.cpu_seconds = server.cpu_seconds() - cpu0  # the server is otherwise idle
        res.total_seconds = s.connect_seconds + res.seconds
        return res
    finally:
        await s.close()


def repeat(server, path, query, *, cold: bool, n: int, deadline: float) -> list[c.RunResult]:
    out = []
    for _ in range(n):
        out.append(asyncio.run(load_once(server, path, query, cold=cold)))
        if time.perf_counter() > deadline:
            break
    return out


def measure_page(script: str, label: str, path: str, args) -> list[dict]:
    slug = Path(script).stem.lower()
    server = c.Server(log_name=f"pages_{slug}")
    startup = server.start()
    rows = []
    try:
        first = asyncio.run(load_once(server, path, {}, cold=False))
        for case, query in CASES:
            large = case != "defaults"
            deadline = time.perf_counter() + ROW_BUDGET_S
            n_cold = args.large_repeats if large else args.cold_repeats
            n_warm = args.large_repeats if large else args.warm_repeats
            colds = repeat(server, path, query, cold=True, n=n_cold, deadline=deadline)
            warms = repeat(server, path, query, cold=False, n=n_warm, deadline=deadline + 10)
            rows.append(
                {
                    "load": c.load_average().split(" / ")[0],
                    "page": label,
                    "case": case,
                    "large": large,
                    "startup": startup,
                    "first": first if not large else None,
                    "colds": colds,
                    "warms": warms,
                    "rss": server.peak_rss_mb(),
                }
            )
            print(f"  {label} · {case}: cold {summary(colds)}, warm {summary(warms)}, "
                  f"{c.fmt_mb(colds[0].nbytes)}", flush=True)  # fmt: skip
    finally:
        server.stop()
    return rows


def summary(results: list[c.RunResult]) -> str:
    ok = [r.seconds for r in results if r.ok]
    bad = len(results) - len(ok)
    s = f"{c.fmt_s(c.median(ok))} (max {c.fmt_s(max(ok) if ok else float('nan'))}, n={len(ok)})"
    return s + (f", {bad} failed" if bad else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cold-repeats", type=int, default=5)
    ap.add_argument("--warm-repeats", type=int, default=7)
    ap.add_argument("--large-repeats", type=int, default=3)
    ap.add_argument("--pages", nargs="*", help="page labels or scripts (default: all)")
    ap.add_argument("--out", default="pages", help="results file: bench/results/OUT.md")
    args = ap.parse_args()

    import streamlit

    pages = [p for p in c.PAGES if not args.pages or p[0] in args.pages or p[1] in args.pages]
    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    t_start = time.perf_counter()
    emit("# Page benchmark")
    emit()
    emit(f"- Python {platform.python_version()}, streamlit {streamlit.__version__}, "
         f"{os.cpu_count()} CPUs, load average {c.load_average()} at start; "
         f"server env {c.blas_env()}")  # fmt: skip
    emit("- a real server per page (project config: runner.postScriptGC=false), driven over its "
         "websocket like a browser (bench/_common.py); time = rerun_script sent → final "
         "script_finished; server CPU = the server process's user+system time during that "
         "run (/proc/<pid>/stat; robust to other load on the machine); size = serialized "
         "ForwardMsgs of one load")  # fmt: skip
    emit("- first = first run in a fresh server process; cold = caches cleared "
         "(BackMsg.clear_cache), then a new session loads; warm = a new session loads the "
         "same link (cache hits); "
         f"median (max) of up to {args.cold_repeats} cold / {args.warm_repeats} warm loads, "
         f"{args.large_repeats} each for the large cases")  # fmt: skip
    emit()
    rows = []
    for script, label, path in pages:
        print(f"{label} ({script}) ...", flush=True)
        rows += measure_page(script, label, path, args)

    header = ["page", "case", "first (fresh process)", "cold", "warm", "server CPU cold / warm",
              "size", "largest elements", "errors", "load avg", "verdict"]  # fmt: skip
    table = []
    misses = []
    for r in rows:
        colds, warms = r["colds"], r["warms"]
        ok_c = [x.seconds for x in colds if x.ok]
        ok_w = [x.seconds for x in warms if x.ok]
        errors = [e for x in colds + warms + ([r["first"]] if r["first"] else []) for e in x.errors]
        alerts = [e for x in colds + warms for e in x.error_alerts]
        size = max((x.nbytes for x in colds + warms if x.ok), default=0)
        biggest = next((x for x in colds if x.ok), None)
        cold_med, warm_med = c.median(ok_c), c.median(ok_w)
        checks = []
        if r["large"]:
            worst = max(ok_c + ok_w, default=float("inf"))
            checks.append((f"≤ {LARGE_TARGET:.0f} s", worst <= LARGE_TARGET))
        else:
            checks.append((f"warm ≤ {WARM_TARGET * 1000:.0f} ms", warm_med <= WARM_TARGET))
            checks.append((f"cold ≤ {COLD_TARGET} s", cold_med <= COLD_TARGET))
        checks.append((f"≤ {SIZE_TARGET / 1e6:.0f} MB", 0 < size <= SIZE_TARGET))
        checks.append(("no error", not errors and not alerts and bool(ok_c) and bool(ok_w)))
        verdicts = ", ".join(f"{c.verdict(ok)} {name}" for name, ok in checks)
        for name, ok in checks:
            if not ok:
                misses.append(f"{r['page']} · {r['case']}: {name}")
        first = r["first"]
        table.append(
            [
                r["page"],
                r["case"],
                c.fmt_s(first.seconds) if first and first.ok else ("–" if not first else "error"),
                f"{c.fmt_s(cold_med)} ({c.fmt_s(max(ok_c, default=float('nan')))})",
                f"{c.fmt_s(warm_med)} ({c.fmt_s(max(ok_w, default=float('nan')))})",
                f"{c.fmt_s(c.median([x.cpu_seconds for x in colds if x.ok]))} / "
                f"{c.fmt_s(c.median([x.cpu_seconds for x in warms if x.ok]))}",
                c.fmt_mb(size),
                biggest.largest(2) if biggest else "–",
                str(len(errors) + len(alerts)),
                r["load"],
                verdicts,
            ]
        )
    emit("\n".join(c.md_table(header, table, align="llrrrrrlrrl")))
    emit()
    startups = ", ".join(f"{r['page']} {r['startup']:.1f} s" for r in rows if not r["large"])
    emit(f"Server start to healthy: {startups}. Peak server RSS (VmHWM) per page: "
         + ", ".join(f"{r['page']} {r['rss']:.0f} MB" for r in rows if r["case"] == CASES[-1][0])
         + ".")  # fmt: skip
    for r in rows:
        for x in r["colds"] + r["warms"] + ([r["first"]] if r["first"] else []):
            for e in x.errors + x.error_alerts:
                emit(f"- error on {r['page']} · {r['case']}: {e}")
    emit()
    emit("Misses: " + ("; ".join(misses) if misses else "none") + ".")
    emit(f"Load average at end {c.load_average()}; bench wall time "
         f"{time.perf_counter() - t_start:.0f} s.")  # fmt: skip
    path = c.write_results(args.out, out)
    print(f"\n(written to {path.relative_to(c.ROOT)})")


if __name__ == "__main__":
    main()
