"""Counting, fault-injecting HTTP reverse proxy for S3 tests (stdlib only).

Why: the tracker's S3 cost model ("log_tag = exactly 1 request") and its retry behaviour can only
be tested by watching the wire. Point s3fs at ``proxy.url`` instead of the moto endpoint::

    with MotoServer() as moto, S3Proxy(moto.endpoint_url) as proxy:
        make_bucket(moto.endpoint_url, "bkt")
        fs = s3fs.S3FileSystem(**storage_options(proxy.url))
        proxy.reset_counts()
        fs.pipe_file("bkt/a.yaml", b"x: 1\\n")
        assert proxy.requests == [("PUT", "/bkt/a.yaml", "")]
        assert proxy.counts == {"PUT": 1}

        proxy.set_faults(slowdown_503=0.3, seed=7)  # random, reproducible for serial requests
        proxy.fail_next("drop", n=1)                # scripted, takes priority over the rates
        proxy.clear_faults()

The proxy is transparent at the byte level where SigV4 cares: the request line, every header
(including ``Host``, which is signed) and the body framing (``Content-Length`` or
``Transfer-Encoding: chunked`` with aws-chunked payloads) are passed through unchanged. Only
``Expect`` and hop-by-hop ``Connection``/``Keep-Alive`` headers are dropped; SigV4 never signs
them. The proxy answers ``Expect: 100-continue`` itself. Each request uses a fresh upstream
connection; client connections are kept alive.

Fault kinds (``FAULT_KINDS``): ``error_500`` (S3 ``InternalError``), ``slowdown_503`` (S3
``SlowDown``), ``drop`` (close the client connection without a response; the request never
reaches moto), ``drop_after`` (moto applies the request, then the client connection is closed
without a response, i.e. the write happened but the client cannot know). ``delay`` is drawn
independently and sleeps ``delay_seconds`` before forwarding.

Every request is recorded when it arrives, before any fault, so retries show up in the counts.
``path`` and ``query`` are raw (still percent-encoded) as sent by the client. Expect retries
from three layers (see notes/s3fs-findings.md): aiohttp re-sends an idempotent request once when
the connection drops, botocore retries 5xx/throttling, s3fs retries SlowDown and connection
errors. To prove signatures survive the proxy, call ``MotoServer.enable_signature_checks()``.
"""

from __future__ import annotations

import dataclasses
import http.client
import io
import random
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["FAULT_KINDS", "FaultConfig", "RequestRecord", "S3Proxy"]

FAULT_KINDS = ("error_500", "slowdown_503", "drop", "drop_after")

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "expect", "upgrade", "te"}
_BLOCK = 64 * 1024


@dataclass(frozen=True)
class RequestRecord:
    """One request as the client sent it, plus what the proxy did with it."""

    method: str
    path: str
    query: str
    fault: str | None = None
    status: int | None = None  # None when the connection was dropped or upstream failed
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """First request header called ``name`` (case-insensitive), e.g. ``If-None-Match``."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class FaultConfig:
    """Per-request fault probabilities; the four kinds are exclusive bands of one draw.

    ``methods`` / ``path_contains`` restrict which requests are eligible (others pass through).
    """

    error_500: float = 0.0
    slowdown_503: float = 0.0
    drop: float = 0.0
    drop_after: float = 0.0
    delay: float = 0.0
    delay_seconds: float = 0.2
    methods: frozenset[str] | None = None
    path_contains: str | None = None

    def __post_init__(self) -> None:
        total = self.error_500 + self.slowdown_503 + self.drop + self.drop_after
        if total > 1.0 or min(self.error_500, self.slowdown_503, self.drop, self.drop_after) < 0:
            raise ValueError(f"fault rates must be >= 0 and sum to <= 1, got {total}")
        if not 0.0 <= self.delay <= 1.0:
            raise ValueError("delay must be a probability")

    def applies_to(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list[RequestRecord] = field(default_factory=list)
    faults: FaultConfig = field(default_factory=FaultConfig)
    scripted: list[str] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(0))


def _error_body(code: str, message: str) -> bytes:
    request_id = uuid.uuid4().hex[:16].upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>tracker-test-proxy</HostId></Error>"
    ).encode()


_CANNED = {
    "error_500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "slowdown_503": (503, "SlowDown", "Please reduce your request rate."),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], proxy: S3Proxy) -> None:
        self.proxy = proxy
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # A client that timed out or gave up mid-response is normal under fault injection.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and 100-continue towards the client
    # Headers and body go out in separate sends; with Nagle + the client's delayed ACK every
    # response with a body would wait ~40 ms.
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections must not pin threads forever
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.sockets_lock:
                self.server.open_sockets.discard(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests read counts, not an access log

    def _any_method(self) -> None:
        self.server.proxy._handle(self)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_OPTIONS = _any_method


class S3Proxy:
    """Reverse proxy from ``.url`` to ``upstream`` (e.g. ``MotoServer.endpoint_url``)."""

    def __init__(
        self,
        upstream: str,
        host: str = "127.0.0.1",
        port: int = 0,
        serialize_writes: bool = False,
    ) -> None:
        """``serialize_writes`` forwards PUT/POST/DELETE one at a time: moto checks
        If-None-Match/If-Match and then writes without a lock, so only this makes its
        conditional writes strictly atomic for race tests."""
        self.serialize_writes = serialize_writes
        self._write_lock = threading.Lock()
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self._up_host = parsed.hostname
        self._up_port = parsed.port or 80
        self._bind = (host, port)
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("S3Proxy is not started")
        return f"http://{self._bind[0]}:{self._server.server_port}"

    def start(self) -> S3Proxy:
        self._server = _Server(self._bind, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="s3-test-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, and cut keep-alive connections so no handler thread lingers."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with server.sockets_lock:
            for sock in list(server.open_sockets):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> S3Proxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- counting ----------------------------------------------------------------------------

    @property
    def records(self) -> list[RequestRecord]:
        with self._state.lock:
            return list(self._state.records)

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """``(method, path, query)`` for every request since the last reset, in arrival order."""
        return [(r.method, r.path, r.query) for r in self.records]

    @property
    def counts(self) -> Counter[str]:
        """Requests per HTTP method since the last reset."""
        return Counter(r.method for r in self.records)

    @property
    def total(self) -> int:
        with self._state.lock:
            return len(self._state.records)

    def reset_counts(self) -> None:
        with self._state.lock:
            self._state.records.clear()

    @contextmanager
    def counting(self) -> Iterator[list[RequestRecord]]:
        """Reset, run the block, then fill the yielded list with that block's records."""
        self.reset_counts()
        out: list[RequestRecord] = []
        try:
            yield out
        finally:
            out.extend(self.records)

    # -- faults ------------------------------------------------------------------------------

    def set_faults(
        self,
        *,
        error_500: float = 0.0,
        slowdown_503: float = 0.0,
        drop: float = 0.0,
        drop_after: float = 0.0,
        delay: float = 0.0,
        delay_seconds: float = 0.2,
        methods: set[str] | frozenset[str] | None = None,
        path_contains: str | None = None,
        seed: int = 0,
    ) -> None:
        """Replace the random fault rates and reseed, so a serial test is reproducible."""
        cfg = FaultConfig(
            error_500=error_500,
            slowdown_503=slowdown_503,
            drop=drop,
            drop_after=drop_after,
            delay=delay,
            delay_seconds=delay_seconds,
            methods=None if methods is None else frozenset(m.upper() for m in methods),
            path_contains=path_contains,
        )
        with self._state.lock:
            self._state.faults = cfg
            self._state.rng = random.Random(seed)

    def fail_next(self, kind: str, n: int = 1) -> None:
        """Queue ``n`` faults of ``kind`` for the next requests, ahead of any random faults."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._state.lock:
            self._state.scripted.extend([kind] * n)

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults = FaultConfig()
            self._state.scripted.clear()

    @contextmanager
    def faults(self, **kwargs: Any) -> Iterator[S3Proxy]:
        """``with proxy.faults(error_500=0.2): ...`` then back to no faults."""
        self.set_faults(**kwargs)
        try:
            yield self
        finally:
            self.clear_faults()

    def _decide(self, method: str, path: str) -> tuple[str | None, float]:
        st = self._state
        with st.lock:
            if st.scripted:
                return st.scripted.pop(0), 0.0
            cfg = st.faults
            if not cfg.applies_to(method, path):
                return None, 0.0
            sleep = cfg.delay_seconds if cfg.delay and st.rng.random() < cfg.delay else 0.0
            draw = st.rng.random()
            edge = 0.0
            for kind in FAULT_KINDS:
                edge += getattr(cfg, kind)
                if draw < edge:
                    return kind, sleep
            return None, sleep

    # -- request handling --------------------------------------------------------------------

    def _record(self, rec: RequestRecord) -> None:
        with self._state.lock:
            self._state.records.append(rec)

    def _set_status(self, rec: RequestRecord, status: int) -> None:
        with self._state.lock:
            records = self._state.records
            for i in range(len(records) - 1, -1, -1):  # gone if reset_counts() ran meanwhile
                if records[i] is rec:
                    records[i] = dataclasses.replace(rec, status=status)
                    return

    def _handle(self, h: _Handler) -> None:
        method = h.command
        split = urllib.parse.urlsplit(h.path)
        fault, sleep = self._decide(method, split.path)
        rec = RequestRecord(
            method, split.path, split.query, fault=fault, headers=tuple(h.headers.items())
        )
        self._record(rec)
        if sleep:
            time.sleep(sleep)

        if fault in _CANNED:
            _drain_body(h)
            status, code, message = _CANNED[fault]
            self._set_status(rec, status)  # before replying, so the client never sees it unset
            _send_canned(h, status, code, message)
            return
        if fault == "drop":
            _drain_body(h)
            h.close_connection = True
            return

        conn = http.client.HTTPConnection(self._up_host, self._up_port, timeout=120)
        try:
            serial = self.serialize_writes and method in ("PUT", "POST", "DELETE")
            try:
                with self._write_lock if serial else nullcontext():
                    # getresponse() returns only after moto has finished the request.
                    resp = _forward_request(h, conn)
            except (OSError, http.client.HTTPException) as exc:
                h.close_connection = True
                with suppress(OSError):
                    _send_canned(h, 502, "BadGateway", f"test proxy upstream error: {exc}")
                return
            if fault == "drop_after":
                resp.read()
                h.close_connection = True
                return
            self._set_status(rec, resp.status)
            _relay_response(h, method, resp)
        finally:
            conn.close()


def _drain_body(h: _Handler) -> None:
    """Consume the request body so the keep-alive connection stays in sync."""
    _copy_body(h, None)


def _copy_body(h: _Handler, out: http.client.HTTPConnection | None) -> None:
    """Copy the request body to ``out`` with its original framing (or discard it)."""
    te = h.headers.get("Transfer-Encoding", "")
    rfile = h.rfile
    if "chunked" in te.lower():
        while True:
            line = rfile.readline(65537)
            if out is not None:
                out.send(line)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    trailer = rfile.readline(65537)
                    if out is not None:
                        out.send(trailer)
                    if trailer in (b"\r\n", b"\n", b""):
                        return
            _copy_exact(rfile, out, size + 2)  # data + CRLF
    else:
        _copy_exact(rfile, out, int(h.headers.get("Content-Length") or 0))


def _copy_exact(rfile: io.BufferedIOBase, out: http.client.HTTPConnection | None, n: int) -> None:
    while n > 0:
        block = rfile.read(min(n, _BLOCK))
        if not block:
            raise ConnectionError("client closed the connection mid-body")
        if out is not None:
            out.send(block)
        n -= len(block)


def _forward_request(h: _Handler, conn: http.client.HTTPConnection) -> http.client.HTTPResponse:
    conn.putrequest(h.command, h.path, skip_host=True, skip_accept_encoding=True)
    for name, value in h.headers.items():
        if name.lower() not in _HOP_BY_HOP:
            conn.putheader(name, value)
    conn.endheaders()
    _copy_body(h, conn)
    return conn.getresponse()


def _relay_response(h: _Handler, method: str, resp: http.client.HTTPResponse) -> None:
    h.send_response_only(resp.status, resp.reason)
    no_body = method == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
    length = resp.getheader("Content-Length")
    rechunk = not no_body and length is None
    for name, value in resp.getheaders():
        if name.lower() in _HOP_BY_HOP or name.lower() == "transfer-encoding":
            continue
        h.send_header(name, value)
    if rechunk:
        h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    if no_body:
        return
    while True:
        block = resp.read(_BLOCK)
        if not block:
            break
        if rechunk:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        else:
            h.wfile.write(block)
    if rechunk:
        h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()


def _send_canned(h: _Handler, status: int, code: str, message: str) -> None:
    body = _error_body(code, message)
    h.send_response_only(status)
    h.send_header("Content-Type", "application/xml")
    h.send_header("Content-Length", str(len(body)))
    h.send_header("x-amz-request-id", uuid.uuid4().hex[:16].upper())
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)
    h.wfile.flush()
