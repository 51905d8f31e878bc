"""``make serve``'s replicas behind HAProxy (deploy/serve.py), started and stopped for real.

Two replicas behind Debian's haproxy on a free loopback port: every page loads through the
proxy and sets the stickiness cookie, a widget works over the proxied websocket, a CSV upload
(the HTTP PUT with the XSRF cookie) reaches the session's own replica, a shared link keeps its
lesson, a file over the upload limit is refused at the door, and after stopping every process
the supervisor started is gone. No timing is asserted.

In CI (``CI`` set) a missing haproxy is a failure, never a skip (.ci/run installs it); locally
the test skips with a loud reason (``apt-get install haproxy``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(coro):
    """Run a coroutine on a fresh event loop in its own thread: the browser tests' Playwright
    (sync API) keeps an event loop running in the main thread for the whole session, where
    ``asyncio.run`` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _load(name: str, path: Path):
    """A script's module by its path (bench/ is not put on sys.path: its profile.py would
    shadow the standard library's ``profile``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


c = _load("bench_common", ROOT / "bench" / "_common.py")
serve = _load("deploy_serve", ROOT / "deploy" / "serve.py")

CSV = ("t,value\n" + "".join(f"{t},{t % 7}\n" for t in range(50))).encode()
START_TIMEOUT = 180.0


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """``deploy/serve.py --replicas 2`` on a free port: yields (port, state), then stops it
    with ``--stop`` and checks that every process it named is gone."""
    if serve.haproxy_path() is None:
        if os.environ.get("CI"):
            pytest.fail("CI: haproxy is missing, so the replicas test cannot run.")
        pytest.skip("!!! haproxy is not installed: the REPLICAS test did not run "
                    "(apt-get install haproxy, or run .ci/run) !!!")  # fmt: skip
    port = c.free_port()
    state_file = serve.RUN_DIR / f"serve-{port}.json"
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "deploy/serve.py", "--replicas", "2", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    state = {}
    try:
        while not (state.get("proxy") and c.health_ok(port)):
            assert proc.poll() is None, f"serve exited with {proc.returncode}: see {log.name}"
            assert time.monotonic() < deadline, f"no healthy proxy in {START_TIMEOUT:.0f} s"
            if state_file.exists():
                state = json.loads(state_file.read_text())
            time.sleep(0.3)
        yield port, state
    finally:
        stopped = subprocess.run(
            [sys.executable, "deploy/serve.py", "--stop", "--port", str(port)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        proc.wait(timeout=30)
        log.close()
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    pids = [state["supervisor"], state["proxy"], *state["replicas"].values()]
    assert len(pids) == 4
    # the supervisor reaped its children before it exited, and this test reaped the supervisor
    left = [p for p in pids if Path(f"/proc/{p}").exists()]
    assert not left, f"processes of the serve outlived its stop: {left}"
    assert not state_file.exists()
    for log in serve.RUN_DIR.glob(f"serve-{port}-r*.log"):  # kept only when something failed
        log.unlink()


def test_haproxy_config_carries_the_replicas_health_checks_and_limits(tmp_path):
    cfg = serve.haproxy_config(address="0.0.0.0", port=9000, replica_ports=[4001, 4002, 4003])
    assert "bind 0.0.0.0:9000" in cfg
    for i, p in enumerate((4001, 4002, 4003), 1):
        assert f"server r{i} 127.0.0.1:{p} cookie r{i}" in cfg
    assert "option httpchk GET /_stcore/health" in cfg
    assert f"cookie {serve.COOKIE_NAME} insert" in cfg
    assert "timeout tunnel" in cfg
    limit = int(serve.upload_limit_mb() * 1024 * 1024) + serve.MULTIPART_OVERHEAD
    assert f"gt {limit}" in cfg
    assert "$" not in cfg  # every placeholder of the template was filled
    haproxy = serve.haproxy_path()
    if haproxy:  # haproxy's own check of the classroom-network variant (the proxy test needs it)
        path = tmp_path / "haproxy.cfg"
        path.write_text(cfg)
        check = subprocess.run([haproxy, "-c", "-f", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_pages_load_through_the_proxy_with_the_stickiness_cookie(proxy):
    port, _ = proxy

    async def go():
        for _, _, path in c.PAGES:
            status, headers, body = await c.http_get(port, f"/{path}")
            assert status == 200 and b"<html" in body.lower()
            cookies = [v for k, v in headers if k == "set-cookie"]
            assert any(v.startswith(f"{serve.COOKIE_NAME}=r") for v in cookies), cookies

    run(go())


def test_widgets_uploads_and_links_work_over_the_proxied_websocket(proxy):
    port, _ = proxy

    async def go():
        sessions = []
        try:
            # a widget: Step through, then the hidden size 16 -> 12
            step = c.Session(port, "Step_through")
            sessions.append(step)
            first = await step.load()
            assert first.ok and not first.error_alerts, first.errors
            changed = await step.change("w_H", 12)
            assert changed.ok and not changed.error_alerts, changed.errors
            assert "H=12" in step.query_string

            # an upload: the CSV source asks for a file until one is uploaded
            up = c.Session(port, "Gates_over_time", {"source": "csv"})
            sessions.append(up)
            first = await up.load()
            assert first.ok and any("Upload a CSV" in a for a in first.error_alerts)
            done = await up.upload("w_csv", "steps.csv", CSV)
            assert done.ok and not done.error_alerts, done.errors + done.error_alerts

            # a shared link: the lesson in the URL is the lesson on the page
            link = c.Session(port, "Vanishing_gradients", {"cell": "gru", "H": "8", "seed": "3"})
            sessions.append(link)
            first = await link.load()
            assert first.ok and not first.error_alerts, first.errors
            for part in ("cell=gru", "H=8", "seed=3"):
                assert part in link.query_string

            # three tabs open at once are spread over both replicas (leastconn), each sticky
            replicas = {s.cookies.get(serve.COOKIE_NAME) for s in sessions}
            assert replicas == {"r1", "r2"}
        finally:
            await asyncio.gather(*(s.close() for s in sessions))

    run(go())


def test_an_upload_over_the_limit_is_refused_at_the_proxy(proxy):
    port, _ = proxy
    too_big = int(serve.upload_limit_mb() * 1024 * 1024) + serve.MULTIPART_OVERHEAD + 1

    async def go():
        # the Content-Length alone decides: HAProxy answers before any body is sent
        reader, writer = await asyncio.open_connection(c.HOST, port)
        try:
            writer.write(
                f"PUT /_stcore/upload_file/x/y HTTP/1.1\r\nHost: {c.HOST}:{port}\r\n"
                f"Content-Length: {too_big}\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            return await asyncio.wait_for(reader.readline(), 30)
        finally:
            writer.close()

    assert run(go()).split()[1] == b"413"


def test_the_cookie_secret_is_made_once_and_private():
    first = serve.cookie_secret()
    assert len(first) >= 32 and first == serve.cookie_secret()
    assert serve.SECRET_FILE.stat().st_mode & 0o077 == 0  # readable by its owner only
