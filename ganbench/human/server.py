"""The study over HTTP, on the standard library's ``ThreadingHTTPServer``: the page, the images, the answers.

Routes: ``GET /`` (the page, with ``/study.js`` and ``/study.css``), ``GET /img/ID`` (an image by its opaque
id; the URL never holds a path, and the bytes come from memory), ``GET /api/study`` (the study's sizes),
``POST /api/session`` (a new evaluator), ``GET /api/session?evaluator=TOKEN`` (resume), ``POST
/api/answer`` (``{"evaluator", "image", "answer", "time_ms"}``, and ``"exposure_ms", "frame_ms"`` on a HYPE_time
study image). Anything else is a 4xx with a JSON
``{"error": ...}`` and changes nothing: bodies are JSON objects of at most ``MAX_BODY`` bytes with exactly
the expected keys, and ``study.Study`` validates the rest inside the store transaction.

Bound to 127.0.0.1 unless told otherwise; then a request must name the server by a loopback name in its
Host header, so a web page elsewhere cannot drive the study through the browser (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import json
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ..errors import BadInput
from . import page
from .study import IMAGE_ID, Refused, Study

#: Largest request body accepted (an answer is about 120 bytes).
MAX_BODY = 2048
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_STATIC = {"/": (page.HTML, "text/html; charset=utf-8"), "/study.js": (page.JS, "text/javascript; charset=utf-8"),
           "/study.css": (page.CSS, "text/css; charset=utf-8")}


class StudyServer(ThreadingHTTPServer):
    """A threading HTTP server holding the study it serves."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], study: Study, quiet: bool = True):
        self.study, self.quiet = study, quiet
        super().__init__(address, Handler)
        port = self.server_address[1]
        self.loopback = is_loopback(address[0])
        names = ("127.0.0.1", "localhost", "[::1]", address[0])
        self.allowed_hosts = {f"{n}:{port}" for n in names} if self.loopback else None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host if ":" not in host else f"[{host}]"
        return f"http://{shown}:{port}/"


class Handler(BaseHTTPRequestHandler):
    server: StudyServer
    protocol_version = "HTTP/1.1"  # keep-alive: a browser sends its answers on one connection
    # One write per response (headers and body buffered, flushed after each request) and no Nagle delay: a
    # response split in two segments waits for the client's delayed ACK, 40 ms per answer.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    timeout = 300  # seconds an idle connection keeps its thread
    server_version = "ganbench-study"
    sys_version = ""

    # ------------------------------------------------------------------ responses
    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {**_SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: dict) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def log_message(self, format: str, *args) -> None:  # noqa: A002  (the base class's name)
        if not self.server.quiet:
            super().log_message(format, *args)

    # ------------------------------------------------------------------- routing
    def _host_ok(self) -> bool:
        allowed = self.server.allowed_hosts
        if allowed is None or self.headers.get("Host") in allowed:
            return True
        self._error(403, "unexpected Host header: open the study at its own address")
        return False

    def do_GET(self) -> None:  # noqa: N802  (the base class's naming)
        if not self._host_ok():
            return
        url = urlsplit(self.path)
        study = self.server.study
        if url.path in _STATIC:
            text, kind = _STATIC[url.path]
            extra = {"Content-Security-Policy": _CSP} if url.path == "/" else None
            return self._send(200, text.encode(), kind, extra)
        if url.path.startswith("/img/"):
            image_id = url.path[len("/img/"):]
            png = study.png.get(image_id) if IMAGE_ID.fullmatch(image_id) else None
            if png is None:
                return self._error(404, "unknown image")
            return self._send(200, png, "image/png")
        if url.path == "/api/study":
            p = study.protocol
            return self._json(200, {"images": p.images, "tutorial": p.tutorial, "qualification": p.qualification,
                                    "pass_rate": p.pass_rate, "variant": p.variant})
        if url.path == "/api/session":
            values = parse_qs(url.query).get("evaluator", [])
            if len(values) != 1:
                return self._error(400, "give one ?evaluator=TOKEN")
            return self._call(200, study.state, values[0])
        self._error(404, "not found")

    def do_POST(self) -> None:  # noqa: N802
        if not self._host_ok():
            return
        path = urlsplit(self.path).path
        if path not in ("/api/session", "/api/answer"):
            self.close_connection = True  # its body is not read
            return self._error(404, "not found")
        body = self._body()
        if body is None:
            return
        if path == "/api/session":
            if body:
                return self._error(400, "a new session takes an empty JSON object {}")
            return self._call(201, self.server.study.new_session)
        keys, timed = {"evaluator", "image", "answer", "time_ms"}, {"exposure_ms", "frame_ms"}
        if set(body) not in (keys, keys | timed):
            return self._error(400, f"an answer is a JSON object with exactly the keys {sorted(keys)} (and "
                                    f"{sorted(timed)} on a HYPE_time study image)")
        shown = (body["exposure_ms"], body["frame_ms"]) if timed <= set(body) else None
        self._call(200, self.server.study.answer, body["evaluator"], body["image"], body["answer"], body["time_ms"],
                   shown)

    def _refuse_method(self) -> None:
        self.close_connection = True
        self._send(405, json.dumps({"error": "method not allowed"}).encode(), "application/json",
                   {"Allow": "GET, POST"})

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse_method

    def _body(self) -> dict | None:
        """The request's JSON object, or None after answering 4xx (411, 413, 415, 400)."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._error(411, "send a Content-Length, not a chunked body")
            return None
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            self._error(411, "a Content-Length is required")
            return None
        try:
            n = int(length)
        except ValueError:
            n = -1
        if n < 0:
            self.close_connection = True
            self._error(400, "bad Content-Length")
            return None
        if n > MAX_BODY:
            self.close_connection = True  # the body is left unread
            self._error(413, f"the body is {n} bytes; at most {MAX_BODY}")
            return None
        raw = self.rfile.read(n)
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/json":
            self._error(415, "send JSON (Content-Type: application/json)")
            return None
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._error(400, "the body is not valid JSON")
            return None
        if not isinstance(body, dict):
            self._error(400, "the body must be a JSON object")
            return None
        return body

    def _call(self, status: int, fn, *args) -> None:
        try:
            out = fn(*args)
        except Refused as e:
            return self._error(e.status, str(e))
        self._json(status, out)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) resolves to loopback addresses only."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as e:
        raise BadInput(f"--host {host!r} cannot be resolved ({e.strerror})") from None
    return all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def check_address(host: str, port: int) -> None:
    """A BadInput unless ``host`` resolves and ``port`` is free on it (checked by binding a socket once)."""
    if not 0 <= port <= 65535:
        raise BadInput(f"--port must be in 0..65535, got {port}")
    is_loopback(host)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            raise BadInput(f"cannot listen on {host}:{port} ({e.strerror or e}); pick another --port or --host") \
                from None


def make_server(study: Study, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, quiet: bool = True) -> StudyServer:
    """A server for ``study`` listening on ``host:port`` (port 0: any free port), not yet serving."""
    if not 0 <= port <= 65535:
        raise BadInput(f"--port must be in 0..65535, got {port}")
    is_loopback(host)  # a name that does not resolve is a BadInput
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    cls = type("StudyServer6", (StudyServer,), {"address_family": family}) if family != socket.AF_INET else StudyServer
    try:
        return cls((host, port), study, quiet=quiet)
    except OSError as e:
        raise BadInput(f"cannot listen on {host}:{port} ({e.strerror or e}); pick another --port") from None


def serve(server: StudyServer) -> None:
    """Serve until interrupted; say where, and say so loudly when the study is reachable from other machines."""
    name = "HYPE_time" if server.study.protocol.variant == "time" else "HYPE∞"
    print(f"ganbench: {name} study at {server.url} (Ctrl-C to stop; answers are saved as they come)", file=sys.stderr,
          flush=True)
    if not server.loopback:
        print(f"ganbench: warning: the study is exposed on {server.url}: anyone who can reach this address can take "
              "part and see the images", file=sys.stderr, flush=True)
    previous = _stop_on_sigterm()
    try:
        server.serve_forever()
    except (KeyboardInterrupt, _Terminated):
        print("ganbench: study stopped; every answer acknowledged so far is saved", file=sys.stderr, flush=True)
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class _Terminated(BaseException):
    """SIGTERM arrived: stop serving as on Ctrl-C (``kill``, a service manager, a container stopping). A
    BaseException, as KeyboardInterrupt is: socketserver reports and swallows an Exception raised while the main
    thread hands a request to its thread, which is where the signal lands when it comes mid-request."""


def _stop_on_sigterm():
    """Make SIGTERM end ``serve_forever`` in the main thread; the handler it replaced (None off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise _Terminated

    return signal.signal(signal.SIGTERM, stop)
