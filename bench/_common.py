"""Shared helpers of ``bench/pages.py`` and ``bench/load.py``: a real Streamlit server started
on a free loopback port, and a minimal browser-like client over Streamlit's websocket.

The client does what the browser's JavaScript does (checked against the frontend bundle and
``streamlit/web/server/starlette/starlette_websocket.py`` of the installed Streamlit):

1. ``GET /<page>?<query>`` (the page's HTML) and ``GET /_stcore/health`` and
   ``GET /_stcore/host-config`` (the health check sets the ``_streamlit_xsrf`` cookie);
2. opens ``ws://127.0.0.1:PORT/_stcore/stream`` with the subprotocols
   ``["streamlit", <the _streamlit_xsrf cookie value>]``, the cookie in the ``Cookie`` header
   and a same-origin ``Origin`` header (XSRF protection is on in ``.streamlit/config.toml``);
3. sends ``BackMsg.rerun_script`` (a ``ClientState``): on the first run ``page_name`` is the
   page's URL path (``Step_through``) and ``page_script_hash`` is empty; on a later run
   ``page_script_hash`` is the one from ``new_session``, the query string is the one the app
   last wrote (``page_info_changed``), ``widget_states`` holds EVERY active widget's current
   value (collected from this run's ``new_element`` deltas: ``value``/``raw_value`` when
   ``set_value``, else ``default``) and ``cached_message_hashes`` lists the hashes of the
   cacheable messages already received (the browser's ForwardMsg cache), so the server sends
   ``ref_hash`` stubs for unchanged large elements exactly as it does for a browser;
4. reads ForwardMsgs until ``script_finished`` with a final status (``FINISHED_EARLY_FOR_RERUN``
   is followed by another run and is not final).

Sizes are the lengths of the binary websocket messages (serialized ForwardMsgs; the server's
websocket compression is off by default, so this is what goes on the wire, frame headers
aside). Everything targets 127.0.0.1 only and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"

# (script, label, URL path the browser shows for it)
PAGES = [
    ("app.py", "Home", ""),
    ("pages/1_Step_through.py", "Step through", "Step_through"),
    ("pages/2_Gates_over_time.py", "Gates over time", "Gates_over_time"),
    ("pages/3_Vanishing_gradients.py", "Vanishing gradients", "Vanishing_gradients"),
    ("pages/4_Train.py", "Train", "Train"),
    ("pages/5_GRU_reset.py", "GRU reset placement", "GRU_reset"),
]

FINISHED = ForwardMsg.ScriptFinishedStatus
FINAL_STATUSES = {
    FINISHED.FINISHED_SUCCESSFULLY,
    FINISHED.FINISHED_WITH_COMPILE_ERROR,
    FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}


# --------------------------------------------------------------------------------------------
# Machine and formatting
# --------------------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def blas_env() -> str:
    """The BLAS thread settings the server inherits from this process's environment."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    return ", ".join(f"{n}={os.environ.get(n, '(unset)')}" for n in names)


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list; NaN when empty."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(-(-q * len(xs) // 100)) - 1))
    return xs[k]


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.2f} MB" if nbytes >= 1e5 else f"{nbytes / 1e3:.0f} kB"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def md_table(header: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    seps = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(seps) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def write_results(name: str, lines: list[str]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def proc_status_kb(pid: int, field_name: str) -> int | None:
    """A ``/proc/<pid>/status`` memory field (VmRSS, VmHWM) in kB, or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) from ``/proc/<pid>/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


class Server:
    """``streamlit run app.py`` on a free loopback port, with the project's config."""

    def __init__(self, extra_args: tuple[str, ...] = (), log_name: str = "server",
                 env: dict[str, str] | None = None):  # fmt: skip
        self.extra_args = tuple(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = RESULTS_DIR / f"{log_name}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for ``/_stcore/health``; returns the seconds it took."""
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.port", str(self.port), "--server.address", HOST,
            "--server.headless", "true", *self.extra_args,
        ]  # fmt: skip
        self._log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}: see {self.log_path}"
                )
            if health_ok(self.port):
                return time.perf_counter() - t0
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not healthy within {timeout:.0f} s: see {self.log_path}")

    def peak_rss_mb(self) -> float:
        kb = proc_status_kb(self.pid, "VmHWM") if self.proc else None
        return (kb or 0) / 1024

    def rss_mb(self) -> float:
        kb = proc_status_kb(self.pid, "VmRSS") if self.proc else None
        return (kb or 0) / 1024

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid) if self.proc else float("nan")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM to this server's own process group (started here), then SIGKILL."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self._log.close()
        self.proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------------------------
# HTTP (only what the browser does before the websocket)
# --------------------------------------------------------------------------------------------


async def http_request(
    port: int, method: str, path: str, *, cookie: str | None = None,
    headers: dict[str, str] | None = None, body: bytes = b"", timeout: float = 10.0,
) -> tuple[int, list[tuple[str, str]], bytes]:  # fmt: skip
    """A bounded HTTP/1.1 request to 127.0.0.1:port: (status, headers, body)."""

    async def go():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            lines = [
                f"{method} {path} HTTP/1.1",
                f"Host: {HOST}:{port}",
                "Accept: */*",
                "Connection: close",
            ]
            if cookie:
                lines.append(f"Cookie: {cookie}")
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            if body or method not in ("GET", "HEAD"):
                lines.append(f"Content-Length: {len(body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            data = await reader.read(-1)
        finally:
            writer.close()
        head, _, payload = data.partition(b"\r\n\r\n")
        head_lines = head.decode("latin-1").split("\r\n")
        status = int(head_lines[0].split()[1])
        out = []
        for line in head_lines[1:]:
            name, _, value = line.partition(":")
            out.append((name.strip().lower(), value.strip()))
        return status, out, payload

    return await asyncio.wait_for(go(), timeout)


async def http_get(
    port: int, path: str, cookie: str | None = None, timeout: float = 10.0
) -> tuple[int, list[tuple[str, str]], bytes]:
    """A bounded HTTP/1.1 GET to 127.0.0.1:port: (status, headers, body)."""
    return await http_request(port, "GET", path, cookie=cookie, timeout=timeout)


def health_ok(port: int, timeout: float = 2.0) -> bool:
    """A blocking ``GET /_stcore/health`` (no proxy, loopback only): True on HTTP 200."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(f"GET /_stcore/health HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                      "Connection: close\r\n\r\n".encode())  # fmt: skip
            head = s.recv(64)
        return head.split(b" ")[1:2] == [b"200"]
    except (OSError, IndexError):
        return False


# --------------------------------------------------------------------------------------------
# Widget states as the browser keeps them
# --------------------------------------------------------------------------------------------


def widget_state_of(kind: str, p) -> WidgetState | None:
    """The browser's current value of a widget drawn by a ``new_element`` delta, or None for
    elements without a persistent value (buttons are triggers, charts without a selection)."""
    if not getattr(p, "id", ""):
        return None
    ws = WidgetState(id=p.id)
    if kind == "slider":
        ws.double_array_value.data.extend(p.value if p.set_value else p.default)
    elif kind == "number_input":
        if p.set_value:
            ws.double_value = p.value
        elif p.HasField("default"):
            ws.double_value = p.default
        else:
            return None
    elif kind in ("radio", "selectbox"):
        if p.set_value:
            if not p.HasField("raw_value"):
                return None
            ws.string_value = p.raw_value
        elif p.HasField("default") and 0 <= p.default < len(p.options):
            ws.string_value = p.options[p.default]
        else:
            return None
    elif kind == "checkbox":
        ws.bool_value = p.value if p.set_value else p.default
    elif kind == "multiselect":
        values = list(p.raw_values) if p.set_value else [p.options[i] for i in p.default]
        ws.string_array_value.data.extend(values)
    elif kind in ("text_area", "text_input"):
        if p.set_value:
            ws.string_value = p.value
        elif p.HasField("default"):
            ws.string_value = p.default
        else:
            return None
    else:
        return None
    return ws


def with_value(ws: WidgetState, value) -> WidgetState:
    """A copy of a widget state with a new value of the same kind."""
    new = WidgetState()
    new.CopyFrom(ws)
    kind = ws.WhichOneof("value")
    if kind == "double_array_value":
        del new.double_array_value.data[:]
        new.double_array_value.data.extend(value if isinstance(value, list) else [value])
    elif kind == "double_value":
        new.double_value = float(value)
    elif kind == "string_value":
        new.string_value = str(value)
    elif kind == "bool_value":
        new.bool_value = bool(value)
    elif kind == "string_array_value":
        del new.string_array_value.data[:]
        new.string_array_value.data.extend(value)
    else:
        raise ValueError(f"cannot set a {kind} widget")
    return new


# --------------------------------------------------------------------------------------------
# One browser session
# --------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    ok: bool = False
    seconds: float = float("nan")  # from sending rerun_script to the final script_finished
    total_seconds: float = float("nan")  # including HTTP + websocket connect (first load)
    nbytes: int = 0  # serialized ForwardMsgs received during the run
    delta_bytes: int = 0  # of which delta messages
    messages: int = 0
    refs: int = 0  # ref_hash stubs received (elements the client had cached)
    runs: int = 0  # script runs seen (st.rerun makes more than one)
    cpu_seconds: float = float("nan")  # the server's CPU time during the run, when measured
    status: str = ""
    errors: list[str] = field(default_factory=list)  # exceptions, timeouts, bad statuses
    error_alerts: list[str] = field(default_factory=list)  # st.error boxes on the page
    elements: list[tuple[int, str]] = field(default_factory=list)  # (bytes, "kind key") sent

    def largest(self, n: int = 3) -> str:
        top = sorted(self.elements, reverse=True)[:n]
        return ", ".join(f"{name} {fmt_mb(b)}" for b, name in top)


class SessionError(Exception):
    pass


class Session:
    """One browser tab: HTTP preflight, the websocket, reruns with full widget states."""

    def __init__(self, port: int, url_path: str, query: dict[str, str] | None = None, *,
                 msg_timeout: float = 30.0, run_timeout: float = 90.0):  # fmt: skip
        self.port = port
        self.url_path = url_path
        self.query_string = urllib.parse.urlencode(query or {})
        self.msg_timeout = msg_timeout
        self.run_timeout = run_timeout
        self.ws = None
        self.page_script_hash = ""
        self.widgets: dict[str, WidgetState] = {}
        self.cache: dict[str, ForwardMsg] = {}  # the browser's ForwardMsg cache
        self.cookies: dict[str, str] = {}  # the browser's cookie jar for this origin
        self.xsrf: str | None = None
        self.session_id = ""  # the server's id of this session (new_session)
        self.element_ids: dict[str, str] = {}  # user key -> element id, widgets or not
        self.connect_seconds = float("nan")

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def url(self) -> str:
        q = f"?{self.query_string}" if self.query_string else ""
        return f"{self.origin}/{self.url_path}{q}"

    async def connect(self) -> None:
        """What the browser does before its first rerun: the page, the health check (which
        sets the XSRF cookie), the host config, then the websocket with the token."""
        from websockets.asyncio.client import connect

        t0 = time.perf_counter()
        q = f"?{self.query_string}" if self.query_string else ""
        for path, name in ((f"/{self.url_path}{q}", "page"), ("/_stcore/health", "health"),
                           ("/_stcore/host-config", "host-config")):  # fmt: skip
            status, _, _ = await self.get(path)
            if status != 200:
                raise SessionError(f"GET {name}: HTTP {status}")
        xsrf = self.xsrf = self.cookies.get("_streamlit_xsrf")
        cookie = self.cookie_header()
        subprotocols = ["streamlit"] + ([xsrf] if xsrf else ["PLACEHOLDER_AUTH_TOKEN"])
        self.ws = await asyncio.wait_for(
            connect(
                f"ws://{HOST}:{self.port}/_stcore/stream",
                subprotocols=subprotocols,
                origin=self.origin,
                additional_headers={"Cookie": cookie} if cookie else None,
                max_size=64 * 2**20,
                proxy=None,
                open_timeout=self.msg_timeout,
                ping_interval=None,
            ),
            self.msg_timeout,
        )
        self.connect_seconds = time.perf_counter() - t0

    def cookie_header(self) -> str | None:
        """The cookies this tab holds (the XSRF cookie, a proxy's stickiness cookie)."""
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items()) or None

    async def get(self, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """A GET with this tab's cookies; the response's cookies are kept, as a browser does."""
        status, headers, body = await http_get(
            self.port, path, cookie=self.cookie_header(), timeout=self.msg_timeout
        )
        for key, value in headers:
            if key == "set-cookie":
                name, _, rest = value.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = rest.strip()
        return status, headers, body

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
            self.ws = None

    async def send(self, msg: BackMsg) -> None:
        await asyncio.wait_for(self.ws.send(msg.SerializeToString()), self.msg_timeout)

    async def clear_caches(self) -> None:
        """BackMsg.clear_cache: st.cache_data and st.cache_resource, server-wide."""
        await self.send(BackMsg(clear_cache=True))

    async def rerun(self, widgets: dict[str, WidgetState] | None = None, *,
                    first: bool = False) -> RunResult:  # fmt: skip
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query_string
        if first:
            cs.page_name = self.url_path
            cs.page_script_hash = ""
        else:
            cs.page_script_hash = self.page_script_hash
            cs.cached_message_hashes.extend(self.cache)
        for ws in (widgets if widgets is not None else self.widgets).values():
            cs.widget_states.widgets.add().CopyFrom(ws)
        ci = cs.context_info
        ci.timezone, ci.timezone_offset, ci.locale = "UTC", 0, "en-US"
        ci.url, ci.is_embedded, ci.color_scheme = self.url(), False, "light"
        res = RunResult()
        t0 = time.perf_counter()
        try:
            await self.send(msg)
            await asyncio.wait_for(self._read_run(res), self.run_timeout)
        except TimeoutError:
            res.errors.append("timeout")
        except Exception as exc:  # noqa: BLE001 - any failure is a counted error
            res.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        res.seconds = time.perf_counter() - t0
        res.ok = not res.errors
        return res

    async def _read_run(self, res: RunResult) -> None:
        seen: dict[str, WidgetState] = {}
        while True:
            data = await asyncio.wait_for(self.ws.recv(), self.msg_timeout)
            if isinstance(data, str):
                raise SessionError("text frame from server")
            res.nbytes += len(data)
            res.messages += 1
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if kind == "ref_hash":
                res.refs += 1
                cached = self.cache.get(fm.ref_hash)
                if cached is None:
                    raise SessionError("ref_hash for a message the client never got")
                fm, kind = cached, "delta"
            elif fm.metadata.cacheable and fm.hash:
                self.cache[fm.hash] = fm
            if kind == "delta":
                res.delta_bytes += len(data)
                self._on_delta(fm.delta, seen, res)
                if fm.delta.WhichOneof("type") == "new_element":
                    el = fm.delta.new_element
                    ek = el.WhichOneof("type") or "?"
                    eid = getattr(getattr(el, ek, None), "id", "") or ""
                    if eid:
                        self.element_ids[eid.rsplit("-", 1)[-1]] = eid
                    res.elements.append((len(data), f"{ek} {eid.rsplit('-', 1)[-1]}".strip()))
            elif kind == "new_session":
                self.page_script_hash = fm.new_session.page_script_hash or self.page_script_hash
                self.session_id = fm.new_session.initialize.session_id or self.session_id
            elif kind == "navigation":  # the page actually running (the browser's current page)
                self.page_script_hash = fm.navigation.page_script_hash or self.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = fm.page_info_changed.query_string
            elif kind == "page_not_found":
                res.errors.append(f"page not found: {fm.page_not_found.page_name}")
            elif kind == "script_finished":
                res.runs += 1
                status = fm.script_finished
                res.status = FINISHED.Name(status)
                if status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    res.errors.append("script compile error")
                if status in FINAL_STATUSES:
                    self.widgets = seen
                    return
                seen = {}  # FINISHED_EARLY_FOR_RERUN: the next run redraws everything

    @staticmethod
    def _on_delta(delta, seen: dict, res: RunResult) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "exception":
            ex = el.exception
            res.errors.append(f"exception: {ex.type}: {ex.message}"[:200])
            return
        if kind == "alert" and el.alert.format == el.alert.ERROR:
            res.error_alerts.append(el.alert.body[:120])
            return
        proto = getattr(el, kind) if kind else None
        ws = widget_state_of(kind, proto) if proto is not None else None
        if ws is not None:
            seen[ws.id] = ws

    def widget_id(self, key: str) -> str | None:
        """The element id of the widget with user key ``key`` (ids end with ``-<key>``)."""
        for wid in self.widgets:
            if wid.endswith("-" + key):
                return wid
        return None

    async def load(self) -> RunResult:
        """Open the page as a browser does: connect, then the first rerun."""
        t0 = time.perf_counter()
        try:
            await self.connect()
        except Exception as exc:  # noqa: BLE001 - counted, not raised
            res = RunResult(errors=[f"connect: {type(exc).__name__}: {exc}"[:200]])
            res.total_seconds = time.perf_counter() - t0
            return res
        res = await self.rerun({}, first=True)
        res.total_seconds = time.perf_counter() - t0
        return res

    async def upload(self, key: str, name: str, data: bytes) -> RunResult:
        """A student drops a file on the ``st.file_uploader`` with user key ``key``, as the
        browser does: ``BackMsg.file_urls_request``, the ``file_urls_response``, an HTTP PUT
        of the file (multipart, the ``X-Xsrftoken`` header and this tab's cookies) to the
        upload URL, then a rerun carrying the uploader's ``FileUploaderState``."""
        import uuid

        from streamlit.proto.Common_pb2 import UploadedFileInfo

        wid = self.element_ids.get(key)
        if wid is None:
            return RunResult(errors=[f"no element with key {key!r} on the page"])
        request_id = uuid.uuid4().hex
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.session_id = self.session_id
        msg.file_urls_request.file_names.append(name)
        try:
            await self.send(msg)
            urls = None
            while urls is None:
                raw = await asyncio.wait_for(self.ws.recv(), self.msg_timeout)
                fm = ForwardMsg()
                fm.ParseFromString(raw)
                if fm.WhichOneof("type") == "file_urls_response":
                    if fm.file_urls_response.response_id == request_id:
                        if fm.file_urls_response.error_msg:
                            raise SessionError(fm.file_urls_response.error_msg)
                        urls = fm.file_urls_response.file_urls[0]
            boundary = uuid.uuid4().hex
            body = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            body += data + f"\r\n--{boundary}--\r\n".encode()  # fmt: skip
            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}",
                       "X-Xsrftoken": self.xsrf or "", "Origin": self.origin}  # fmt: skip
            status, _, reply = await http_request(
                self.port, "PUT", urls.upload_url, cookie=self.cookie_header(),
                headers=headers, body=body, timeout=self.msg_timeout,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - counted, not raised
            return RunResult(errors=[f"upload: {type(exc).__name__}: {exc}"[:200]])
        if status not in (200, 204):
            return RunResult(errors=[f"upload: HTTP {status} {reply[:120]!r}"])
        ws = WidgetState(id=wid)
        ws.file_uploader_state_value.uploaded_file_info.append(
            UploadedFileInfo(file_id=urls.file_id, name=name, size=len(data), file_urls=urls)
        )
        states = dict(self.widgets)
        states[wid] = ws
        res = await self.rerun(states)
        self.widgets.setdefault(wid, ws)  # the browser keeps sending the uploaded file
        return res

    async def change(self, key: str, value) -> RunResult:
        """A student moves one widget: every widget's current value, one of them new."""
        wid = self.widget_id(key)
        if wid is None:
            return RunResult(errors=[f"no widget with key {key!r} on the page"])
        states = dict(self.widgets)
        states[wid] = with_value(states[wid], value)
        return await self.rerun(states)


# --------------------------------------------------------------------------------------------
# Buttons and what a long run shows while it runs (bench/train_load.py)
# --------------------------------------------------------------------------------------------


async def press(session: Session, key: str) -> RunResult:
    """A student clicks the ``st.button`` with user key ``key``: the rerun carries every
    widget's current value and the button's ``trigger_value`` (true for this run only, as the
    browser sends it; the next rerun no longer carries it)."""
    wid = session.element_ids.get(key)
    if wid is None:
        return RunResult(errors=[f"no element with key {key!r} on the page"])
    states = dict(session.widgets)
    states[wid] = WidgetState(id=wid, trigger_value=True)
    return await session.rerun(states)


async def set_int(session: Session, key: str, value: int) -> RunResult:
    """A student types a whole number into the integer ``st.number_input`` with user key
    ``key`` (the browser sends an integer number input's value as ``int_value``)."""
    wid = session.widget_id(key)
    if wid is None:
        return RunResult(errors=[f"no widget with key {key!r} on the page"])
    states = dict(session.widgets)
    states[wid] = WidgetState(id=wid, int_value=int(value))
    return await session.rerun(states)


def fmt_lat(xs: list[float]) -> str:
    """Latencies as "p50 / p95 / max" (nearest rank), or "–" when there are none."""
    if not xs:
        return "–"
    return " / ".join(fmt_s(v) for v in (percentile(xs, 50), percentile(xs, 95), max(xs)))


def machine_line() -> str:
    """The machine a bench ran on: Python, Streamlit, CPUs, load, the server's BLAS threads."""
    import platform

    import streamlit

    return (f"Python {platform.python_version()}, streamlit {streamlit.__version__}, "
            f"{os.cpu_count()} CPUs, load average {load_average()} at start; "
            f"server env {blas_env()}")  # fmt: skip


def note_server(server: Server, res: dict, load_at_start: str) -> dict:
    """After a bench's sessions, before ``server.stop()``: a dead server counted as an error
    (``res["errors"]``), its peak RSS (``res["peak_rss"]``, MB) and the 1-minute load average
    at the start and now (``res["load"]``)."""
    if not server.alive():
        res["errors"].append("server died")
    res["peak_rss"] = server.peak_rss_mb()
    res["load"] = f"{load_at_start} → {load_average().split(' / ')[0]}"
    return res


class Report:
    """A bench's printed lines: ``report(line)`` prints it at once and keeps it
    (``report.lines``, for :func:`write_results`)."""

    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of closed intervals (start, end) that share a point."""
    events = sorted([(a, 0) for a, _ in intervals] + [(b, 1) for _, b in intervals])
    best = now = 0
    for _, end in events:  # starts sort before ends at the same instant: touching counts
        now += -1 if end else 1
        best = max(best, now)
    return best


@dataclass
class Shown:
    """An alert or a progress bar drawn during a run, as the client received it."""

    at: float  # time.perf_counter() on arrival
    run: int  # script runs finished before it in this rerun (0: the first run)
    kind: str  # "progress" or "alert"
    text: str  # the progress bar's text, or the alert's body
    value: int = 0  # the progress bar's value in percent (0 for an alert)


class WatchedSession(Session):
    """A :class:`Session` for pages run again and again, as a browser keeps them:

    * a widget drawn again without ``set_value`` keeps the value this tab last sent for it
      (the browser's widget manager keeps a value per widget id; the element's ``default``
      only counts for a widget it has not shown yet), so a page-local control such as the
      Train page's lag keeps its value over many reruns;
    * the alerts and progress bars a run draws are kept with their arrival time
      (``self.shown``, emptied by the caller), e.g. a training run's place in the queue and its
      progress while the run still goes on."""

    TRIGGERS = ("trigger_value", "string_trigger_value", "json_trigger_value")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown: list[Shown] = []
        self._sent: dict[str, WidgetState] = {}

    async def rerun(self, widgets: dict[str, WidgetState] | None = None, *,
                    first: bool = False) -> RunResult:  # fmt: skip
        self._sent = {} if first else dict(widgets if widgets is not None else self.widgets)
        return await super().rerun(widgets, first=first)

    def _on_delta(self, delta, seen: dict, res: RunResult) -> None:
        Session._on_delta(delta, seen, res)
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        if kind == "progress":
            self.shown.append(Shown(time.perf_counter(), res.runs, "progress",
                                    el.progress.text, el.progress.value))  # fmt: skip
        elif kind == "alert":
            self.shown.append(Shown(time.perf_counter(), res.runs, "alert", el.alert.body))
        proto = getattr(el, kind) if kind else None
        wid = getattr(proto, "id", "")
        kept = self._sent.get(wid) if wid else None
        if (kept is not None and not getattr(proto, "set_value", False)
                and kept.WhichOneof("value") not in self.TRIGGERS):  # fmt: skip
            seen[wid] = kept
