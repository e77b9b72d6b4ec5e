"""``tracker ui``'s HTTP server: the standard library's ``ThreadingHTTPServer``, GET only.

Routes: ``/`` (the single page), ``/static/...`` (files shipped in the package), ``/api/<name>``
(JSON, see :mod:`tracker.ui.api`) and ``/artifact?ref=&id=&file=`` (an artifact's bytes, verified
by ``get_artifact``). Every response carries a Content-Security-Policy that allows scripts, styles,
images and requests from this origin only, so nothing the page shows can reach another machine;
an artifact is served with ``sandbox`` added, so an HTML artifact runs no script and cannot
reach the page.
"""

from __future__ import annotations

import ipaddress
import json
import math
import mimetypes
import os
import shutil
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from tracker.errors import InvalidArgument, TrackerError
from tracker.ui import api

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
ARTIFACT_CSP = "sandbox; default-src 'self' data: 'unsafe-inline'; connect-src 'none'"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


def static_dir() -> str:
    return str(resources.files("tracker.ui") / "static")


def is_loopback(host: str) -> bool:
    """``localhost`` or an address in 127.0.0.0/8 or ``::1``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Handler(BaseHTTPRequestHandler):
    server: UIServer
    server_version = "tracker-ui"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        try:
            if url.path in ("/", "/index.html"):
                self._static("index.html")
            elif url.path.startswith("/static/"):
                self._static(url.path[len("/static/") :])
            elif url.path.startswith("/api/"):
                self._api(url.path[len("/api/") :], params)
            elif url.path == "/artifact":
                self._artifact(params)
            else:
                self._send(404, b"not found", "text/plain")
        except (TrackerError, KeyError, ValueError, OSError) as exc:
            status = 404 if isinstance(exc, KeyError | FileNotFoundError) else 400
            message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
            self._json(status, {"error": {"message": message or type(exc).__name__}})
        except Exception as exc:  # a bug must not drop the connection without a word
            self._json(500, {"error": {"message": f"unexpected {type(exc).__name__}: {exc}"}})

    def do_POST(self) -> None:
        self._send(405, b"read-only: GET only", "text/plain")

    do_PUT = do_DELETE = do_PATCH = do_POST

    def _send(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        headers = {
            "Content-Type": ctype,
            "Content-Length": str(len(body)),
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
            **(extra or {}),
        }
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(finite(data), ensure_ascii=False, allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def _static(self, rel: str) -> None:
        base = os.path.realpath(static_dir())
        path = os.path.realpath(os.path.join(base, *rel.split("/")))
        if not path.startswith(base + os.sep) or not os.path.isfile(path):
            self._send(404, b"not found", "text/plain")
            return
        with open(path, "rb") as fh:
            body = fh.read()
        ctype = STATIC_TYPES.get(os.path.splitext(path)[1], "application/octet-stream")
        self._send(200, body, ctype + ("; charset=utf-8" if ctype.startswith("text/") else ""))

    def _api(self, name: str, params: dict[str, str]) -> None:
        tracker, cache = self.server.tracker, self.server.cache
        with self.server.lock:  # one tracker object: its caches are not made for threads
            if name == "info":
                data = api.info(tracker)
            elif name == "runs":
                data = api.runs(tracker, params)
            elif name == "series":
                data = api.series(tracker, params)
            elif name == "versions":
                data = api.versions(tracker, params, cache)
            elif name == "version":
                data = api.version(tracker, params)
            elif name == "lineage":
                data = api.lineage(tracker, params)
            elif name == "compare":
                data = api.compare(tracker, params)
            elif name == "metrics":
                data = api.metrics(tracker, params)
            elif name == "preview":
                data = api.preview(tracker, params, _artifact_url(params))
            else:
                raise InvalidArgument(f"no API {name!r}")
        self._json(200, data)

    def _artifact(self, params: dict[str, str]) -> None:
        """Stream one verified file of an artifact (never held in memory whole)."""
        ref, artifact_id = params.get("ref", ""), params.get("id", "")
        with self.server.lock:
            path = api.artifact_file(self.server.tracker, ref, artifact_id, params.get("file", ""))
        name = os.path.basename(path)
        disposition = "attachment" if params.get("download") == "1" else "inline"
        quoted = urllib.parse.quote(name)
        with open(path, "rb") as fh:
            self.send_response(200)
            headers = {
                "Content-Type": mimetypes.guess_type(name)[0] or "application/octet-stream",
                "Content-Length": str(os.fstat(fh.fileno()).st_size),
                "Content-Security-Policy": ARTIFACT_CSP,
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{quoted}",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            }
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            shutil.copyfileobj(fh, self.wfile, 1024 * 1024)


def finite(value: Any) -> Any:
    """JSON the browser can parse: infinities become the strings ``inf``/``-inf``."""
    if isinstance(value, float) and (value in (math.inf, -math.inf)):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def _artifact_url(params: dict[str, str]) -> Any:
    def url(rel: str) -> str:
        query = {"ref": params.get("ref", ""), "id": params.get("id", ""), "file": rel}
        return "artifact?" + urllib.parse.urlencode(query)

    return url


class UIServer(ThreadingHTTPServer):
    """The server over one tracker (opened read-only by the caller)."""

    daemon_threads = True

    def __init__(self, tracker: Any, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.address_family = family
        super().__init__((host, port), Handler)
        self.tracker = tracker
        self.cache = api.QueryCache()
        self.lock = threading.Lock()
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"
