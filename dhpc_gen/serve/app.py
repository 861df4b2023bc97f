"""The pages of ``dhpc serve``: preview, review, status, and the two changes they allow.

No URL names a file: the letter's stylesheet, its fonts and the pages' own scripts are
looked up in fixed lists made at start-up from ``templates/`` and ``assets/``, and
nothing of the content folder is served but what the pages show (so the address
sources, the mailing lists, the send journal and the letters of ``output/`` never are).
The only files the server writes are ``comments.jsonl`` and the sign-off log in the
content folder.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import Scope

from dhpc_gen import __version__
from dhpc_gen.build import language_hash
from dhpc_gen.content.markup import plain_text
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError
from dhpc_gen.render.letter import compose_title
from dhpc_gen.resources import ASSETS_DIR, TEMPLATES_DIR
from dhpc_gen.review.findings import SEVERITIES, Finding
from dhpc_gen.review.report import Row
from dhpc_gen.serve import approval as approvals
from dhpc_gen.serve.comments import add_comment
from dhpc_gen.serve.interface import STATIC_DIR, Pages, country_name, language_name, negotiate
from dhpc_gen.serve.preview import field_id, preview_html
from dhpc_gen.serve.review import ReviewTable, commentable_fields, review_state, review_table
from dhpc_gen.serve.security import CSRF_FIELD, AccessPolicy, Guard, parse_form
from dhpc_gen.serve.status import language_statuses, matrix_rows
from dhpc_gen.serve.workspace import (
    Snapshot,
    Workspace,
    default_language,
    field_languages,
    language_order,
)

logger = logging.getLogger(__name__)

EVENT_KEEPALIVE = 15.0
"""Seconds between the comment lines that keep an idle event stream open."""
EVENT_POLL = 0.5
"""Seconds an event stream waits for a change before it looks whether the server stops."""


def _files(folder: Path, pattern: str) -> dict[str, Path]:
    """``{name: path}`` of the files in ``folder`` matching ``pattern``: the only ones served."""
    return {p.name: p for p in sorted(folder.glob(pattern)) if p.is_file()}


@dataclass
class ServeApp:
    """The pages of one content folder."""

    workspace: Workspace
    policy: AccessPolicy
    pages: Pages = field(default_factory=Pages)
    fonts: dict[str, Path] = field(default_factory=lambda: _files(ASSETS_DIR / "fonts", "*"))
    static: dict[str, Path] = field(default_factory=lambda: _files(STATIC_DIR, "*"))

    # --- helpers ----------------------------------------------------------------------

    def ui_language(self, request: Request | Scope) -> str:
        headers = request.headers if isinstance(request, Request) else Request(request).headers
        return negotiate(headers.get("accept-language"), self.pages.languages)

    def page(
        self, request: Request, template: str, status: int = 200, **context: object
    ) -> Response:
        ui = self.ui_language(request)
        snapshot = context.pop("snapshot", None) or self.workspace.snapshot()
        assert isinstance(snapshot, Snapshot)
        title = ""
        if snapshot.dhpc is not None:
            dhpc = snapshot.dhpc
            source = dhpc.text(dhpc.meta.source_language)
            title = " ".join(plain_text(compose_title(dhpc, source)).split())
        country = str(context.pop("country", ""))
        html = self.pages.render(
            ui,
            template,
            snapshot=snapshot,
            dhpc=snapshot.dhpc,
            dhpc_title=title,
            csrf_field=CSRF_FIELD,
            csrf_token=self.policy.csrf_token,
            version=self.workspace.version,
            language_name=lambda code: language_name(code, ui),
            country_name=lambda code: country_name(code, ui),
            field_id=field_id,
            tool_version=__version__,
            path=request.url.path,
            status=status,
            country=country,
            nav_query=f"?country={country}" if country else "",
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def refusal(self, scope: Scope, status: int, reason: str) -> Response:
        """The page of a request the guard refused, in the reader's language."""
        request = Request(scope)
        ui = self.ui_language(request)
        html = self.pages.render(
            ui,
            "refused.html",
            status=status,
            reason=reason,
            tool_version=__version__,
        )
        return HTMLResponse(html, status_code=status)

    def problem(self, request: Request, status: int, message: str, back: str) -> Response:
        return self.page(request, "problem.html", status=status, message=message, back=back)

    # --- pages ------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/preview", status_code=303)

    def _chosen(self, snapshot: Snapshot, request: Request) -> tuple[Dhpc | None, str]:
        """The DHPC a page shows and, in a campaign, its country (``?country=``)."""
        dhpc = snapshot.national(request.query_params.get("country"))
        country = dhpc.meta.country if dhpc is not None and snapshot.campaign else ""
        return dhpc, country

    def preview(self, request: Request) -> Response:
        snapshot = self.workspace.snapshot()
        dhpc, country = self._chosen(snapshot, request)
        languages = language_order(dhpc) if dhpc is not None else ()
        language = request.query_params.get("lang", "")
        if language not in languages:
            language = default_language(dhpc) if dhpc is not None else ""
        findings = [
            f for f in (snapshot.findings_of(dhpc) if dhpc else ()) if f.language == language
        ]
        return self.page(
            request,
            "preview.html",
            snapshot=snapshot,
            languages=languages,
            language=language,
            findings=_ordered(findings),
            letter_error=self._letter_error(snapshot, dhpc, language),
            country=country,
            country_query=f"country={country}&" if country else "",
            letter_url=f"/letter/{country}/{language}" if country else f"/letter/{language}",
            deviations=len(dhpc.deviations) if dhpc is not None else 0,
        )

    def _letter_error(self, snapshot: Snapshot, dhpc: Dhpc | None, language: str) -> str | None:
        if snapshot.error or snapshot.build_error:
            return snapshot.error or snapshot.build_error
        assert dhpc is not None
        try:
            self._letter(snapshot, dhpc, language)
        except DhpcError as exc:
            return f"Error: {exc}"
        return None

    def _letter(self, snapshot: Snapshot, dhpc: Dhpc, language: str) -> str:
        findings = snapshot.findings_of(dhpc)

        def make() -> object:
            try:
                return self.workspace.render_letter(
                    lambda env: preview_html(dhpc, language, findings, env)
                )
            except DhpcError as exc:
                return exc

        key = (
            f"letter:{dhpc.meta.country}:{language}" if snapshot.campaign else f"letter:{language}"
        )
        made = self.workspace.cached(snapshot, key, make)
        if isinstance(made, DhpcError):
            raise made
        assert isinstance(made, str)
        return made

    def letter(self, request: Request) -> Response:
        language = request.path_params["language"]
        snapshot = self.workspace.snapshot()
        country = request.path_params.get("country")
        if snapshot.dhpc is not None and (country is not None) != (snapshot.campaign is not None):
            return self.problem(request, 404, "", "/preview")  # /letter/CC/L is a campaign's
        dhpc = snapshot.national(country)
        if dhpc is not None and (
            language not in dhpc.meta.languages
            or (snapshot.campaign is not None and dhpc.meta.country != country)
        ):
            return self.problem(request, 404, "", "/preview")
        message = snapshot.error or snapshot.build_error
        if message is None:
            assert dhpc is not None
            try:
                return HTMLResponse(self._letter(snapshot, dhpc, language))
            except DhpcError as exc:
                message = f"Error: {exc}"
        return self.page(request, "letter-error.html", snapshot=snapshot, message=message)

    def review(self, request: Request) -> Response:
        snapshot = self.workspace.snapshot()
        dhpc, country = self._chosen(snapshot, request)
        if dhpc is None:
            return self.page(request, "review.html", snapshot=snapshot, table=None)
        source = dhpc.meta.source_language
        # A country of a campaign: its languages beside the core, even where it is not sent.
        order = (source, *(x for x in language_order(dhpc) if x != source))
        shown = field_languages(order, request.query_params.getlist("lang"))
        if source not in shown:
            shown = (source, *shown)
        findings = snapshot.findings_of(dhpc)
        table = self.workspace.cached(
            snapshot,
            f"review:{country}" if country else "review",
            lambda: review_table(dhpc, findings),
        )
        assert isinstance(table, ReviewTable)
        state = review_state(dhpc)

        def changed_in(row: Row) -> list[str]:
            """The shown languages whose text of this row changed since their approval."""
            return [
                cell.language
                for cell in row.cells
                if cell.language in shown
                and cell.path is not None
                and cell.path in state.changed.get(cell.language, frozenset())
            ]

        return self.page(
            request,
            "review.html",
            snapshot=snapshot,
            table=table,
            state=state,
            shown=shown,
            changed_in=changed_in,
            all_languages=order,
            translations=[x for x in shown if x != dhpc.meta.source_language],
            approvable=dhpc.meta.languages,
            back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            country=country,
            deviations=len(dhpc.deviations),
        )

    def status(self, request: Request) -> Response:
        snapshot = self.workspace.snapshot()
        if snapshot.campaign is not None:
            # The matrix of dhpc status, country × language, from the same library function.
            from dhpc_gen.status import campaign_status

            matrix = campaign_status(snapshot.campaign, self.workspace.out_root, snapshot.findings)
            return self.page(
                request, "status.html", snapshot=snapshot, rows=[], matrix=matrix_rows(matrix)
            )
        rows = (
            language_statuses(snapshot.dhpc, snapshot.findings, self.workspace.out_root)
            if snapshot.dhpc is not None
            else []
        )
        return self.page(request, "status.html", snapshot=snapshot, rows=rows, matrix=[])

    # --- changes ----------------------------------------------------------------------

    async def comment(self, request: Request) -> Response:
        form = parse_form(await request.body())
        back = _back(form.get("back", ""))
        snapshot = self.workspace.snapshot()
        if snapshot.dhpc is None:
            return self.problem(request, 409, snapshot.error or "", back)
        dhpc = self._posted(snapshot, form)
        if dhpc is None:
            country = form.get("country", "")
            return self.problem(
                request, 400, f"{snapshot.dhpc.id} is not sent in {country!r}", back
            )
        language = form.get("language", "")
        path = form.get("field", "")
        if language not in dhpc.texts or path not in commentable_fields(dhpc, language):
            return self.problem(request, 400, f"no field {path!r} in {language!r}", back)
        try:
            add_comment(
                dhpc.directory,
                dhpc_id=dhpc.id,
                language=language,
                field=path,
                author=form.get("name", ""),
                role=form.get("role", ""),
                text=form.get("text", ""),
                content_sha256=language_hash(dhpc, language),
                country=dhpc.meta.country if dhpc.in_campaign else None,
            )
        except DhpcError as exc:
            return self.problem(request, 400, str(exc), back)
        return RedirectResponse(f"{back}#{field_id(path)}", status_code=303)

    async def approve(self, request: Request) -> Response:
        form = parse_form(await request.body())
        back = _back(form.get("back", ""))
        snapshot = self.workspace.snapshot()
        if snapshot.dhpc is None:
            return self.problem(request, 409, snapshot.error or "", back)
        dhpc = self._posted(snapshot, form)
        if dhpc is None:
            country = form.get("country", "")
            return self.problem(
                request, 400, f"{snapshot.dhpc.id} is not sent in {country!r}", back
            )
        language = form.get("language", "")
        if language not in dhpc.meta.languages:
            return self.problem(request, 400, f"{dhpc.id} has no language {language!r}", back)
        try:
            approvals.approve(
                dhpc,
                language,
                name=form.get("name", ""),
                role=form.get("role", ""),
                comment=form.get("comment", ""),
                seen_sha256=form.get("content_sha256", ""),
            )
        except approvals.VersionChangedError as exc:
            return self.problem(request, 409, str(exc), back)
        except DhpcError as exc:
            return self.problem(request, 400, str(exc), back)
        return RedirectResponse(f"{back}#approval-{language}", status_code=303)

    def _posted(self, snapshot: Snapshot, form: Mapping[str, str]) -> Dhpc | None:
        """The DHPC a change is about: the folder's, or the country named in a campaign."""
        if snapshot.dhpc is None:
            return None
        if snapshot.campaign is None:
            return snapshot.dhpc
        country = form.get("country", "").upper()
        return snapshot.campaign.nationals.get(country)

    # --- files and events -------------------------------------------------------------

    async def letter_css(self, request: Request) -> Response:
        return FileResponse(TEMPLATES_DIR / "letter.css", media_type="text/css")

    async def font(self, request: Request) -> Response:
        path = self.fonts.get(request.path_params["name"])
        if path is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        kind = "font/ttf" if path.suffix == ".ttf" else "text/plain; charset=utf-8"
        return FileResponse(path, media_type=kind)

    async def static_file(self, request: Request) -> Response:
        path = self.static.get(request.path_params["name"])
        if path is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        return FileResponse(path, media_type=kind)

    async def events(self, request: Request) -> Response:
        """Server-sent events: the folder's change count, at once and after every change."""
        workspace = self.workspace

        async def stream() -> AsyncIterator[str]:
            seen = -1
            idle = 0.0
            while not workspace.stopping:
                version = await workspace.wait_for_change(seen, EVENT_POLL)
                if version != seen:
                    seen, idle = version, 0.0
                    yield f"data: {version}\n\n"
                else:
                    idle += EVENT_POLL
                    if idle >= EVENT_KEEPALIVE:
                        idle = 0.0
                        yield ": still here\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    async def not_found(self, request: Request, exc: Exception) -> Response:
        return self.problem(request, 404, "", "/preview")


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.sort_key()))


def _back(value: str) -> str:
    """Where to go after a change: a page of this server, never another site."""
    if value.startswith(("/review", "/preview", "/status")) and "//" not in value:
        return value.split("#")[0]
    return "/review"


def create_app(workspace: Workspace, policy: AccessPolicy, pages: Pages | None = None) -> Guard:
    """The ASGI application: the pages behind the guard."""
    serve = ServeApp(workspace, policy, pages or Pages())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[Mapping[str, object]]:
        import asyncio

        task = asyncio.create_task(workspace.watch())
        # Read and check the folder once before the first page is asked for.
        await asyncio.to_thread(workspace.snapshot)
        try:
            yield {}
        finally:
            await workspace.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [
        Route("/", serve.home),
        Route("/preview", serve.preview),
        Route("/letter/letter.css", serve.letter_css),
        Route("/letter/{language:str}", serve.letter),
        Route("/letter/{country:str}/{language:str}", serve.letter),
        Route("/assets/fonts/{name:str}", serve.font),
        Route("/static/{name:str}", serve.static_file),
        Route("/events", serve.events),
        Route("/review", serve.review),
        Route("/status", serve.status),
        Route("/comments", serve.comment, methods=["POST"]),
        Route("/approve", serve.approve, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: serve.not_found},
    )
    return Guard(app, policy, serve.refusal)
