"""Run a throwaway moto S3 server on 127.0.0.1 for tests.

Why a subprocess and not ``moto.mock_aws``: s3fs talks to S3 through aiobotocore/aiohttp, which
the in-process mock does not intercept reliably; a real HTTP server exercises the same code path
as production S3 and lets ``tests.support.proxy`` sit in between to count requests and inject
faults.

Usage::

    os.environ.update(s3_env())            # or monkeypatch.setenv for each item
    for name in ENV_VARS_TO_UNSET:
        os.environ.pop(name, None)
    server = MotoServer().start()
    try:
        make_bucket(server.endpoint_url, "bkt")
        fs = s3fs.S3FileSystem(**storage_options(server.endpoint_url))
        fs.pipe_file("bkt/a.yaml", b"x: 1\\n")
    finally:
        server.stop()

``MotoServer`` is also a context manager (``with MotoServer() as server: ...``). One server can
serve a whole session: ``server.reset()`` wipes buckets between tests. By default moto accepts
any signature; ``server.enable_signature_checks()`` returns a (key, secret) that must then sign
every request (until ``reset()``), which proves a proxy in between keeps SigV4 intact.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "ENV_VARS_TO_UNSET",
    "MotoServer",
    "free_port",
    "make_bucket",
    "s3_env",
    "storage_options",
    "subprocess_env",
]

HOST = "127.0.0.1"

# Variables that could point botocore at real credentials, a real endpoint or an HTTP proxy.
ENV_VARS_TO_UNSET: tuple[str, ...] = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def s3_env() -> dict[str, str]:
    """Env vars that make botocore use dummy credentials and read nothing from the machine.

    Config/credential files point at paths that do not exist, so a developer's ``~/.aws`` can
    never leak into a test, and IMDS is disabled so credential lookup does not hang on a
    metadata-service timeout. Also remove every name in ``ENV_VARS_TO_UNSET``.
    """
    missing = os.path.join(tempfile.gettempdir(), "tracker-tests-no-such-aws-dir")
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(missing, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(missing, "credentials"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def subprocess_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """A full environment for a child process: ``base`` (default os.environ) + ``s3_env()``."""
    env = dict(os.environ if base is None else base)
    for name in ENV_VARS_TO_UNSET:
        env.pop(name, None)
    env.update(s3_env())
    return env


def storage_options(endpoint_url: str, **extra: Any) -> dict[str, Any]:
    """fsspec/s3fs storage_options for a local endpoint, with every cache that hides other
    writers turned off (see notes/s3fs-findings.md)."""
    opts: dict[str, Any] = {
        "key": "testing",
        "secret": "testing",
        "endpoint_url": endpoint_url,
        "client_kwargs": {"region_name": "us-east-1"},
        "use_listings_cache": False,
        "skip_instance_cache": True,
    }
    opts.update(extra)
    return opts


def free_port() -> int:
    """Ask the OS for an unused TCP port on 127.0.0.1 (racy, so ``start`` retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """``python -m moto.server`` on a free 127.0.0.1 port, logging to a temp file.

    Stopped by its own PID only, so parallel test runs never kill each other's servers.
    """

    def __init__(self, startup_timeout: float = 20.0, port: int | None = None) -> None:
        self.startup_timeout = startup_timeout
        self._requested_port = port
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._tmpdir = tempfile.TemporaryDirectory(prefix="tracker-moto-")
        self.log_path = Path(self._tmpdir.name) / "moto.log"

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise RuntimeError("MotoServer is not started")
        return f"http://{HOST}:{self.port}"

    def start(self) -> MotoServer:
        """Start the server; retry on a fresh port if another process grabbed ours."""
        attempts = 1 if self._requested_port is not None else 3
        error: RuntimeError | None = None
        for _ in range(attempts):
            try:
                self._start_once(self._requested_port or free_port())
                return self
            except RuntimeError as exc:
                error = exc
                self.stop(cleanup=False)
        assert error is not None
        raise error

    def _start_once(self, port: int) -> None:
        self.port = port
        cmd = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=subprocess_env(),
            )
        # A caller that never calls stop() (or dies on an exception) must not leave an orphan
        # server behind: terminate it when this object is collected or the interpreter exits.
        weakref.finalize(self, _terminate, self.process)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"moto server exited with code {self.process.returncode} on port {port}\n"
                    + self.log_tail()
                )
            if self._answers_http():
                return
            time.sleep(0.1)
        raise RuntimeError(
            f"moto server did not answer on {self.endpoint_url} within "
            f"{self.startup_timeout:.0f}s\n" + self.log_tail()
        )

    def _answers_http(self) -> bool:
        # Any HTTP status means the server is up; only connection errors mean "not yet".
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.endpoint_url + "/moto-api/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of the server log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no moto log)"
        return "--- moto log tail ---\n" + "\n".join(text.splitlines()[-lines:])

    def _post_api(self, path: str, data: bytes = b"") -> None:
        # text/plain: moto reads request.data, which Flask leaves empty for form-encoded bodies.
        req = urllib.request.Request(
            self.endpoint_url + path,
            data=data,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10):
            pass

    def reset(self) -> None:
        """Drop all buckets, objects and IAM users and turn signature checks off again, so one
        server can be shared by a whole test session (moto's reset keeps the auth setting)."""
        self._post_api("/moto-api/reset-auth", b"inf")
        self._post_api("/moto-api/reset")

    def enable_signature_checks(self) -> tuple[str, str]:
        """Make moto verify SigV4 signatures and return a valid (key, secret) pair.

        By default moto accepts any signature, so a proxy that breaks signing would go
        unnoticed; after this call every S3 request must be signed with the returned key
        (``make_bucket`` included) until ``reset()``.
        """
        import boto3

        iam = boto3.client(
            "iam",
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        iam.create_user(UserName="tracker-test")
        iam.put_user_policy(
            UserName="tracker-test",
            PolicyName="all",
            PolicyDocument='{"Version": "2012-10-17", "Statement": '
            '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
        )
        key = iam.create_access_key(UserName="tracker-test")["AccessKey"]
        self._post_api("/moto-api/reset-auth", b"0")
        return key["AccessKeyId"], key["SecretAccessKey"]

    def stop(self, cleanup: bool = True) -> None:
        """Terminate our own process (then kill if it lingers); idempotent."""
        proc, self.process = self.process, None
        if proc is not None:
            _terminate(proc)
        if cleanup:
            self._tmpdir.cleanup()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    """terminate, wait, kill: only this PID, never anything found by name."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def make_bucket(endpoint_url: str, name: str) -> None:
    """Create ``name`` with plain boto3, so bucket setup does not depend on s3fs behaviour."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=name)
