"""A real ``dhpc serve`` on a free loopback port, and plain HTTP requests to it."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: str


@dataclass
class Server:
    """A ``dhpc serve`` process and its address."""

    url: str
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return str(urlsplit(self.url).netloc)

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: str | bytes | None = None,
    ) -> Reply:
        """Send exactly ``path`` (nothing normalised) with exactly these headers."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            sent = {"Host": self.host, **(headers or {})}
            for name, value in sent.items():
                if value is not None:
                    connection.putheader(name, value)
            data = body.encode() if isinstance(body, str) else body
            if data is not None:
                connection.putheader("Content-Length", str(len(data)))
            connection.endheaders(data)
            response = connection.getresponse()
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read().decode("utf-8", errors="replace"),
            )
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> Reply:
        return self.request(
            "GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )

    def csrf(self) -> str:
        page = self.get("/review")
        match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.body)
        assert match, page.body[:500]
        return match.group(1)


@contextmanager
def running_server(
    directory: Path, *extra: str, out: Path | None = None, cwd: Path | None = None
) -> Iterator[Server]:
    """``dhpc serve DIR --port 0`` as a process; yields once it answers."""
    command = [sys.executable, "-m", "dhpc_gen", "serve", str(directory), "--port", "0", *extra]
    if out is not None:
        command += ["--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command,
        cwd=cwd or PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r" at (http://\S+)", line)
        assert match, f"dhpc serve did not start: {line}{process.stderr.read()}"
        server = Server(match.group(1), process)
        # Keep reading what the server says, so that a full pipe never stops it.
        threading.Thread(target=server.log.extend, args=(process.stderr,), daemon=True).start()
        deadline = time.monotonic() + 30
        while True:
            try:
                server.request("GET", "/static/serve.css")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
