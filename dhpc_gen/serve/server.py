"""Start the server: check the address and the token, bind, run until stopped."""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from dhpc_gen.content.loader import META_FILE
from dhpc_gen.errors import DhpcError, UsageError, display_path
from dhpc_gen.serve.app import create_app
from dhpc_gen.serve.security import TOKEN_PARAMETER, AccessPolicy, host_header_name, is_loopback
from dhpc_gen.serve.workspace import Workspace

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8800
MIN_TOKEN = 16


@dataclass(frozen=True)
class ServeOptions:
    directory: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    out_root: Path = Path("output")


def access_policy(options: ServeOptions, port: int) -> AccessPolicy:
    """The server's rules; another address than the loopback one needs a token."""
    token = options.token
    if not is_loopback(options.host) and token is None:
        raise UsageError(
            f"--host {options.host}: other machines could reach the server; give an "
            f"access token with --token (at least {MIN_TOKEN} characters), e.g. "
            f"--token {secrets.token_urlsafe(24)}"
        )
    if token is not None and len(token) < MIN_TOKEN:
        raise UsageError(f"--token: at least {MIN_TOKEN} characters")
    return AccessPolicy(options.host, port, token)


def check_folder(directory: Path) -> None:
    """A content folder (with ``dhpc.yaml``); its content may still be invalid."""
    if not directory.is_dir():
        raise DhpcError(f"{display_path(directory)}: no such content folder")
    if not (directory / META_FILE).is_file():
        raise DhpcError(f"{display_path(directory / META_FILE)}: missing: is this a DHPC folder?")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise DhpcError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (try another --port)"
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class RunningServer:
    """A server started by :func:`start`: its address, and how to stop it."""

    url: str
    policy: AccessPolicy
    server: uvicorn.Server
    sock: socket.socket
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.sock.close()


def prepare(options: ServeOptions) -> RunningServer:
    """Check the options, bind the socket and make the server (not yet running)."""
    check_folder(options.directory)
    access_policy(options, options.port)  # refuses a bad address or token before binding
    sock = bind(options.host, options.port)
    port = sock.getsockname()[1]
    policy = access_policy(options, port)
    workspace = Workspace(options.directory, options.out_root)
    config = uvicorn.Config(
        create_app(workspace, policy),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
    )
    name = host_header_name(options.host)
    if policy.any_host:
        name = host_header_name(socket.gethostname())
    url = f"http://{name}:{port}/"
    if policy.token is not None:
        url += f"?{TOKEN_PARAMETER}={policy.token}"
    server = uvicorn.Server(config)
    workspace.closing = lambda: server.should_exit
    return RunningServer(url, policy, server, sock)


def serve_forever(running: RunningServer, ready: Callable[[str], None] | None = None) -> None:
    """Run until Ctrl-C; ``ready`` is told the address once the server listens."""
    if ready is not None:
        ready(running.url)
    try:
        running.server.run(sockets=[running.sock])
    finally:
        running.sock.close()


def start_in_thread(options: ServeOptions) -> RunningServer:
    """Run the server in a thread of this process (benchmarks); stop it with ``.stop()``."""
    running = prepare(options)
    thread = threading.Thread(
        target=running.server.run, kwargs={"sockets": [running.sock]}, daemon=True
    )
    thread.start()
    running.thread = thread
    while not running.server.started and thread.is_alive():
        threading.Event().wait(0.02)
    return running
