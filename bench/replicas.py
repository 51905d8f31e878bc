"""A lecture hall through HAProxy: 1 replica against N, in one run (``make serve``'s set-up).

Run ``.venv/bin/python bench/replicas.py`` (about 3 minutes; needs Debian's ``haproxy``).
Prints figures and never asserts; the tables are also written to ``bench/results/replicas.md``
(git-ignored).

Method: for each replica count (1, then ``--replicas``, default one per core) a fresh
``deploy/serve.py --replicas R --port P`` (the script ``make serve`` runs: R ``streamlit run
app.py`` behind HAProxy with cookie stickiness) on a free loopback port, then
``bench/_common.py``'s browser-like clients, all through the proxy, in one asyncio loop:

1. **Arrivals:** ``--sessions`` (100) students open the page, evenly spread over ``--arrive``
   (10) s: page, health check (the XSRF and stickiness cookies), websocket, first run. They
   stay connected.
2. **Bursts:** ``--bursts`` (3) times, every student changes the hidden size ``w_H`` (16 → 12
   → 16 …) at the same instant (the teacher said "now"); the next burst starts when every
   rerun of this one has finished. Latency: rerun sent → final ``script_finished``.
3. **Through the proxy:** one extra tab uploads a CSV (``BackMsg.file_urls_request``, the HTTP
   PUT to ``/_stcore/upload_file`` with the XSRF header and the cookies, a rerun with the
   uploader's state), and one opens a shared link (``?cell=gru&H=8&seed=3``) and must show
   that lesson.

Errors: connect failures, timeouts, exceptions, ``st.error`` boxes, a failed upload or link.
Server CPU: the replicas' user+system CPU seconds (``/proc/<pid>/stat``) over the bursts; the
sizing rule is reruns per second per core = burst reruns ÷ those CPU seconds. The load
generator runs on the same 2 cores, so absolute latencies are pessimistic; the ratio 1 ÷ N is
the figure to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

SERVE = c.ROOT / "deploy" / "serve.py"
RUN_DIR = c.ROOT / "deploy" / "run"
KEY, VALUES = "w_H", (12, 16)
CSV = ("t,value\n" + "".join(f"{t},{t % 7}\n" for t in range(50))).encode()
LINK = {"cell": "gru", "H": "8", "seed": "3"}


class Proxy:
    """``deploy/serve.py`` on a free port, stopped with ``--stop`` (every process gone)."""

    def __init__(self, replicas: int):
        self.replicas = replicas
        self.port = c.free_port()
        self.state: dict = {}
        self.log_path = c.RESULTS_DIR / f"replicas_serve_{replicas}.log"

    def start(self, timeout: float = 180.0) -> None:
        c.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVE), "--replicas", str(self.replicas), "--port",
             str(self.port)], cwd=c.ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        state_file = RUN_DIR / f"serve-{self.port}.json"
        deadline = time.monotonic() + timeout
        while not (self.state.get("proxy") and c.health_ok(self.port)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"serve did not come up: see {self.log_path}")
            if state_file.exists():
                self.state = json.loads(state_file.read_text())
            time.sleep(0.3)

    def replica_cpu(self) -> float:
        return sum(c.proc_cpu_seconds(int(p)) for p in self.state["replicas"].values())

    def peak_rss_mb(self) -> float:
        """The largest replica's peak resident memory (VmHWM) so far."""
        kb = [c.proc_status_kb(int(p), "VmHWM") or 0 for p in self.state["replicas"].values()]
        return max(kb, default=0) / 1024

    def stop(self) -> None:
        subprocess.run([sys.executable, str(SERVE), "--stop", "--port", str(self.port)],
                       cwd=c.ROOT, capture_output=True, timeout=60)  # fmt: skip
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()
        for log in RUN_DIR.glob(f"serve-{self.port}-r*.log"):  # the bench keeps its own log
            log.unlink()


async def hall(proxy: Proxy, path: str, args) -> dict:
    port = proxy.port
    out: dict = {"first": [], "bursts": [], "errors": [], "runs": 0, "cpu": 0.0}
    sessions = [c.Session(port, path, msg_timeout=args.msg_timeout, run_timeout=args.run_timeout)
                for _ in range(args.sessions)]  # fmt: skip

    async def arrive(s: c.Session, delay: float) -> c.RunResult:
        await asyncio.sleep(delay)
        return await s.load()

    gap = args.arrive / max(1, args.sessions)
    t0 = time.perf_counter()
    results = await asyncio.gather(*(arrive(s, i * gap) for i, s in enumerate(sessions)))
    out["arrive_s"] = time.perf_counter() - t0
    for r in results:
        out["errors"] += [f"first load: {e}" for e in r.errors + r.error_alerts]
        if r.ok:
            out["first"].append(r.total_seconds)
    live = [s for s in sessions if s.ws is not None]
    out["spread"] = len({s.cookies.get("GATESCOPE_REPLICA") for s in live})

    cpu0 = proxy.replica_cpu()
    t1 = time.perf_counter()
    for b in range(args.bursts):
        value = VALUES[b % 2]
        results = await asyncio.gather(*(s.change(KEY, value) for s in live))
        lat = []
        for r in results:
            out["errors"] += [f"burst {b + 1}: {e}" for e in r.errors + r.error_alerts]
            out["runs"] += r.runs
            if r.ok:
                lat.append(r.seconds)
        out["bursts"].append(lat)
    out["burst_wall"] = time.perf_counter() - t1
    out["cpu"] = proxy.replica_cpu() - cpu0
    out["rss"] = proxy.peak_rss_mb()

    # An upload and a shared link, through the proxy, while the class is connected.
    up = c.Session(port, "Gates_over_time", {"source": "csv"})
    link = c.Session(port, path, LINK)
    try:
        r = await up.load()
        if not r.ok or not any("Upload a CSV" in a for a in r.error_alerts):
            out["errors"].append(f"upload page: {r.errors or 'no request for a file'}")
        r = await up.upload("w_csv", "steps.csv", CSV)
        out["upload"] = r.ok and not r.error_alerts
        if not out["upload"]:
            out["errors"].append(f"upload: {(r.errors + r.error_alerts)[:2]}")
        r = await link.load()
        out["link"] = r.ok and all(f"{k}={v}" in link.query_string for k, v in LINK.items())
        if not out["link"]:
            out["errors"].append(f"shared link: {r.errors or link.query_string}")
    finally:
        await asyncio.gather(up.close(), link.close(), *(s.close() for s in sessions))
    return out


def lat3(xs: list[float]) -> str:
    if not xs:
        return "–"
    return " / ".join(c.fmt_s(v) for v in (c.percentile(xs, 50), c.percentile(xs, 95), max(xs)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--arrive", type=float, default=10.0, help="seconds over which they arrive")
    ap.add_argument("--bursts", type=int, default=3)
    ap.add_argument("--page", default="Gates_over_time", help="URL path of the page")
    ap.add_argument("--msg-timeout", type=float, default=60.0)
    ap.add_argument("--run-timeout", type=float, default=120.0)
    args = ap.parse_args()
    if args.replicas < 2:
        args.replicas = 2
    out: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    import streamlit

    t0 = time.perf_counter()
    emit("# A lecture hall through HAProxy: 1 replica against N")
    emit()
    emit(f"- Python {platform.python_version()}, streamlit {streamlit.__version__}, "
         f"{os.cpu_count()} CPUs, load average {c.load_average()} at start; loopback only, "
         "the load generator on the same cores")  # fmt: skip
    emit(
        f"- `deploy/serve.py` (make serve), page `/{args.page}`: {args.sessions} sessions "
        f"arriving over {args.arrive:g} s, then {args.bursts} bursts in which every session "
        f"changes `{KEY}` at the same instant; an upload and a shared link through the proxy"
    )
    emit()
    results = {}
    for n in (1, args.replicas):
        print(f"{n} replica(s) ...", flush=True)
        proxy = Proxy(n)
        try:
            proxy.start()
            results[n] = asyncio.run(hall(proxy, args.page, args))
        except RuntimeError as exc:
            results[n] = {"first": [], "bursts": [], "errors": [str(exc)], "runs": 0, "cpu": 0}
        finally:
            if getattr(proxy, "proc", None) is not None:
                proxy.stop()

    header = ["replicas", "first load p50 / p95 / max", "burst clicks p50 / p95 / max",
              "errors", "replicas used", "reruns / s / core", "peak RSS / replica", "upload",
              "shared link"]  # fmt: skip
    rows = []
    for n, r in results.items():
        clicks = [x for b in r["bursts"] for x in b]
        rate = r["runs"] / r["cpu"] if r["cpu"] else float("nan")
        rows.append([str(n), lat3(r["first"]), lat3(clicks), str(len(r["errors"])),
                     str(r.get("spread", "–")), f"{rate:.0f}", f"{r.get('rss', 0):.0f} MB",
                     c.verdict(r.get("upload", False)).replace("PASS", "works"),
                     c.verdict(r.get("link", False)).replace("PASS", "works")])  # fmt: skip
    emit("\n".join(c.md_table(header, rows, align="lrrrrrrll")))
    emit()
    one, many = results[1], results[args.replicas]
    c1 = [x for b in one["bursts"] for x in b]
    cn = [x for b in many["bursts"] for x in b]
    if c1 and cn:
        emit(f"**1 ÷ {args.replicas} replicas:** burst click p95 "
             f"{c.percentile(c1, 95) / c.percentile(cn, 95):.2f}×, p50 "
             f"{c.percentile(c1, 50) / c.percentile(cn, 50):.2f}×, first-load p95 "
             f"{c.percentile(one['first'], 95) / c.percentile(many['first'], 95):.2f}× "
             "(> 1: the replicas are faster)")  # fmt: skip
    for n, r in results.items():
        seen: dict[str, int] = {}
        for e in r["errors"]:
            seen[e] = seen.get(e, 0) + 1
        for e, k in seen.items():
            emit(f"- {n} replica(s): {k}× {e}")
    emit(f"Load average at end {c.load_average()}; bench wall time "
         f"{time.perf_counter() - t0:.0f} s.")  # fmt: skip
    path = c.write_results("replicas", out)
    print(f"\n(written to {path.relative_to(c.ROOT)})")


if __name__ == "__main__":
    main()
