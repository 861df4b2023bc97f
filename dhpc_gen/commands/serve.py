"""``dhpc serve``: the local web pages to preview, review and approve a DHPC."""

from __future__ import annotations

import os
from pathlib import Path

import click

from dhpc_gen.commands.options import content_dir_argument, out_option, reports_errors


def register(group: click.Group) -> None:
    """Add this feature's command to the ``dhpc`` group."""
    group.add_command(serve)


@click.command()
@content_dir_argument
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8800,
    show_default=True,
    help="The port to listen on (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="H",
    help="The address to listen on; any but the loopback address needs --token.",
)
@click.option(
    "--token",
    metavar="T",
    default=None,
    help="Access token every request must carry (needed with --host); or set DHPC_SERVE_TOKEN.",
)
@out_option
@reports_errors
def serve(directory: Path, port: int, host: str, token: str | None, out: Path) -> None:
    """Serve the preview, review and status pages of the DHPC in DIR, until Ctrl-C.

    The preview shows each language's letter as it is printed and follows every save
    of a content file; the review shows the languages side by side with the findings
    of dhpc check, takes comments (DIR/comments.jsonl) and approvals (the sign-off
    log); the status page shows checks, approvals, build, mailing and sending per
    language. Only this machine can connect unless --host is given.
    """
    from dhpc_gen.serve.server import ServeOptions, prepare, serve_forever

    token = token or os.environ.get("DHPC_SERVE_TOKEN") or None
    running = prepare(ServeOptions(directory, host, port, token, out))

    def ready(url: str) -> None:
        click.echo(f"Serving {directory} at {url}", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)

    serve_forever(running, ready)
