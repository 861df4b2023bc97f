"""Rendering reads only the project's templates and assets and never opens a connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dhpc_gen.build import render_letters
from dhpc_gen.content import load_dhpc
from dhpc_gen.errors import RenderError
from dhpc_gen.render.pdf import ProjectOnlyFetcher, pdf_identifier, write_pdf
from tests.pdf_helpers import pdftotext


class CountingServer:
    """A TCP listener on loopback that counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def server() -> Iterator[CountingServer]:
    listener = CountingServer()
    yield listener
    listener.close()


def test_hostile_content_is_literal_text_and_fetches_nothing(
    example_dir: Path, server: CountingServer, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{server.port}"
    hostile = (
        f'<script>alert(1)</script> <img src="{url}/a.png"> <img src="file:///etc/passwd"> '
        f"![pic]({url}/b.png) [link]({url}/c) "
        f'<style>body{{background:url("{url}/d.png")}}</style>'
    )
    sv = example_dir / "sv.yaml"
    text = sv.read_text(encoding="utf-8")
    sv.write_text(
        text.replace(
            "  - Leverfunktion ska utvärderas före och under behandling.",
            f"  - {hostile!r}".replace("  - '", "  - '", 1),
        ),
        encoding="utf-8",
    )
    letter = render_letters(load_dhpc(example_dir), ["sv"])[0]
    assert "<script>" not in letter.html and '<img src="file' not in letter.html
    pdf = tmp_path / "sv.pdf"
    pdf.write_bytes(letter.pdf)
    shown = "".join(pdftotext(pdf).split())  # line breaks may fall anywhere
    assert "<script>alert(1)</script>" in shown
    assert '<imgsrc="file:///etc/passwd">' in shown
    assert "root:x:0:0" not in shown
    assert server.connections == 0


def test_template_asking_outside_the_project_is_refused(server: CountingServer) -> None:
    for html in (
        f'<html><body><img src="http://127.0.0.1:{server.port}/x.png"></body></html>',
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{server.port}/x.css">'
        "</head><body>x</body></html>",
        '<html><body><img src="file:///etc/passwd"></body></html>',
        '<html><body><img src="../../../../etc/hostname"></body></html>',
    ):
        fetcher = ProjectOnlyFetcher()
        with pytest.raises(RenderError, match="refused to load"):
            write_pdf(
                html, variant="pdf/a-3u", identifier=pdf_identifier("t"), epoch=0, fetcher=fetcher
            )
        assert len(fetcher.refused) == 1
    assert server.connections == 0


def test_project_assets_are_served() -> None:
    fetcher = ProjectOnlyFetcher()
    html = '<html><head><link rel="stylesheet" href="letter.css"></head><body>Hej</body></html>'
    pdf = write_pdf(
        html, variant="pdf/a-3u", identifier=pdf_identifier("t"), epoch=0, fetcher=fetcher
    )
    assert pdf.startswith(b"%PDF-1.7")
    assert fetcher.refused == []
