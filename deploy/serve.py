"""Serve gatescope from N Streamlit replicas behind HAProxy on one address (``make serve``).

    python deploy/serve.py [--replicas N] [--port P] [--address A]   # start, in the foreground
    python deploy/serve.py --stop [--port P]                          # stop a running one
    python deploy/serve.py --make-secret     # the shared cookie secret file, for Kubernetes too

N replicas (default: one per CPU core) run ``streamlit run app.py`` on free ports of
127.0.0.1; Debian's ``haproxy`` (a foreground child, ``-db``) listens on ``A:P`` with cookie
stickiness, health checks on ``/_stcore/health``, websocket (tunnel) timeouts and the upload
limit; the config is generated from ``deploy/haproxy.cfg.in`` into ``deploy/run/``. Every
replica gets the same cookie secret (``server.cookieSecret``, through its environment variable,
so it never shows in ``ps``), generated once into ``deploy/.cookie_secret`` (git-ignored).

Stopping (Ctrl-C, SIGTERM, ``make stop`` or ``--stop``) ends every process this started: each
child runs in its own process group, which gets SIGTERM then SIGKILL, and each child is also
told by the kernel to exit if this supervisor dies (``PR_SET_PDEATHSIG``). A replica that exits
on its own is restarted on its port (HAProxy routes around it meanwhile); if HAProxy exits,
everything stops. ``deploy/run/serve-<port>.json`` names every process while it runs.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
RUN_DIR = DEPLOY / "run"
TEMPLATE = DEPLOY / "haproxy.cfg.in"
SECRET_FILE = DEPLOY / ".cookie_secret"
COOKIE_NAME = "GATESCOPE_REPLICA"
MULTIPART_OVERHEAD = 64 * 1024  # bytes of multipart envelope allowed above maxUploadSize
LOOPBACK = "127.0.0.1"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def haproxy_path() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.access(p, os.X_OK)),
        None,
    )


def cookie_secret() -> str:
    """The replicas' shared cookie secret, generated once (mode 600, git-ignored)."""
    if not SECRET_FILE.exists():
        fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))  # no newline: the file is a Kubernetes Secret's value
    return SECRET_FILE.read_text().strip()


def upload_limit_mb() -> float:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    return float(config.get("server", {}).get("maxUploadSize", 200))


def free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def haproxy_config(*, address: str, port: int, replica_ports: list[int]) -> str:
    mb = upload_limit_mb()
    servers = "\n".join(
        f"    server r{i} {LOOPBACK}:{p} cookie r{i}" for i, p in enumerate(replica_ports, 1)
    )
    return string.Template(TEMPLATE.read_text()).substitute(
        replicas=len(replica_ports), address=address, port=port, servers=servers,
        cookie_name=COOKIE_NAME, upload_mb=f"{mb:g}",
        upload_bytes=int(mb * 1024 * 1024) + MULTIPART_OVERHEAD,
    )  # fmt: skip


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies (Linux), so no replica or
    proxy outlives it even when it is killed with SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        url = f"http://{LOOPBACK}:{port}/_stcore/health"
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - loopback only
            return r.status == 200
    except OSError:
        return False


class Supervisor:
    def __init__(self, replicas: int, port: int, address: str):
        self.n, self.port, self.address = replicas, port, address
        self.ports = free_ports(replicas)
        self.replicas: dict[int, subprocess.Popen] = {}  # internal port -> process
        self.proxy: subprocess.Popen | None = None
        self.logs: list = []
        self.stopping = False
        self.state_file = RUN_DIR / f"serve-{port}.json"
        self.config_file = RUN_DIR / f"haproxy-{port}.cfg"

    def _spawn(self, cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        f = open(log, "a", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.logs.append(f)
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip

    def start_replica(self, port: int) -> None:
        env = dict(os.environ, STREAMLIT_SERVER_COOKIE_SECRET=cookie_secret())
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        cmd = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.port", str(port), "--server.address", LOOPBACK,
            "--server.headless", "true",
        ]  # fmt: skip
        log = RUN_DIR / f"serve-{self.port}-r{self.ports.index(port) + 1}.log"
        self.replicas[port] = self._spawn(cmd, log, env)

    def write_state(self) -> None:
        state = {
            "supervisor": os.getpid(),
            "address": self.address,
            "port": self.port,
            "proxy": self.proxy.pid if self.proxy else None,
            "replicas": {str(p): proc.pid for p, proc in self.replicas.items()},
        }
        self.state_file.write_text(json.dumps(state, indent=1) + "\n")

    def start(self, haproxy: str, timeout: float = 90.0) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        cfg = self.config_file
        cfg.write_text(
            haproxy_config(address=self.address, port=self.port, replica_ports=self.ports)
        )
        check = subprocess.run([haproxy, "-c", "-q", "-f", str(cfg)], capture_output=True)
        if check.returncode != 0:
            sys.exit(f"serve: the generated {cfg} is invalid:\n{check.stderr.decode()}")
        for p in self.ports:
            self.start_replica(p)
        self.write_state()
        deadline = time.monotonic() + timeout
        waiting = set(self.ports)
        while waiting and not self.stopping:
            for p in list(waiting):
                if self.replicas[p].poll() is not None:
                    self.stop()
                    sys.exit(f"serve: the replica on port {p} exited: see its log in {RUN_DIR}")
                if healthy(p):
                    waiting.discard(p)
            if time.monotonic() > deadline:
                self.stop()
                sys.exit(f"serve: replicas {sorted(waiting)} not healthy within {timeout:.0f} s")
            time.sleep(0.3)
        if self.stopping:
            return
        self.proxy = subprocess.Popen(
            [haproxy, "-db", "-f", str(cfg)], cwd=ROOT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        self.write_state()
        host = {"127.0.0.1": "localhost", "0.0.0.0": socket.gethostname()}.get(
            self.address, self.address
        )
        print(
            f"serve: gatescope on http://{host}:{self.port} ({self.n} replica"
            f"{'s' if self.n != 1 else ''} on 127.0.0.1:{','.join(map(str, self.ports))}, "
            f"HAProxy pid {self.proxy.pid}; logs in {RUN_DIR.relative_to(ROOT)}/). "
            "Ctrl-C or `make stop` stops everything.",
            flush=True,
        )

    def watch(self) -> int:
        """Until a signal or HAProxy's exit: restart a replica that exited on its own."""
        while not self.stopping:
            if self.proxy is not None and self.proxy.poll() is not None:
                print(f"serve: HAProxy exited with {self.proxy.returncode}", flush=True)
                self.stop()
                return 1
            for p, proc in list(self.replicas.items()):
                if proc.poll() is not None and not self.stopping:
                    print(f"serve: replica on port {p} exited ({proc.returncode}): restarting",
                          flush=True)  # fmt: skip
                    self.start_replica(p)
                    self.write_state()
            time.sleep(0.5)
        return 0

    def stop(self, *_args) -> None:
        """SIGTERM to every child's process group, SIGKILL after 10 s; idempotent."""
        self.stopping = True
        children = [c for c in [self.proxy, *self.replicas.values()] if c is not None]
        for c in children:
            if c.poll() is None:
                try:
                    os.killpg(c.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for c in children:
            try:
                c.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(c.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                c.wait(timeout=10)
        for f in self.logs:
            f.close()
        self.logs = []
        self.state_file.unlink(missing_ok=True)
        self.config_file.unlink(missing_ok=True)


def alive(pid: int | None) -> bool:
    """Whether a process exists and is no zombie (an exited child its parent has yet to reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, TypeError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _pid_is_serve(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(arg.endswith(b"deploy/serve.py") for arg in cmdline)


def stop_running(port: int | None) -> int:
    """``--stop``: SIGTERM to the supervisor of each running serve (or the one on ``port``),
    then wait until it and every process it named are gone."""
    files = [RUN_DIR / f"serve-{port}.json"] if port else sorted(RUN_DIR.glob("serve-*.json"))
    found = 0
    for path in files:
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        pid = int(state["supervisor"])
        if not _pid_is_serve(pid):  # a stale file: its supervisor is gone
            path.unlink(missing_ok=True)
            continue
        found += 1
        os.kill(pid, signal.SIGTERM)
        pids = [pid, state.get("proxy"), *state.get("replicas", {}).values()]
        deadline = time.monotonic() + 30
        while any(alive(p) for p in pids):
            if time.monotonic() > deadline:
                print(f"stop: processes of {path.name} still running after 30 s", file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(f"stop: gatescope on port {state['port']} stopped")
    if not found:
        print("stop: no gatescope serve is running" + (f" on port {port}" if port else ""))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=0, help="default: one per CPU core")
    ap.add_argument("--port", type=int, default=None, help="the public port (default 8501)")
    ap.add_argument("--address", default="localhost", help="e.g. 0.0.0.0 for a classroom")
    ap.add_argument("--stop", action="store_true", help="stop a running serve and exit")
    ap.add_argument("--make-secret", action="store_true",
                    help=f"create {SECRET_FILE.relative_to(ROOT)} if missing and exit")  # fmt: skip
    args = ap.parse_args()
    if args.stop:
        return stop_running(args.port)
    if args.make_secret:
        cookie_secret()
        print(f"the replicas' cookie secret is in {SECRET_FILE.relative_to(ROOT)} (mode 600)")
        return 0
    haproxy = haproxy_path()
    if haproxy is None:
        print("serve: haproxy is not installed: run  sudo apt-get install -y haproxy",
              file=sys.stderr)  # fmt: skip
        return 2
    address = "127.0.0.1" if args.address == "localhost" else args.address
    sup = Supervisor(args.replicas if args.replicas > 0 else cores(), args.port or 8501, address)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, sup.stop)
    try:
        sup.start(haproxy)
        return sup.watch()
    finally:
        sup.stop()


if __name__ == "__main__":
    sys.exit(main())
