"""The letter of one language as the template sees it, and its HTML."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from dhpc_gen import __version__
from dhpc_gen.content.markup import plain_text, render_block, render_inline
from dhpc_gen.content.model import Dhpc, LanguageText
from dhpc_gen.errors import RenderError, display_path
from dhpc_gen.i18n import N_, Boilerplate, long_date, translations
from dhpc_gen.regulators import registry
from dhpc_gen.regulators.registry import Regulator
from dhpc_gen.render.environment import install_boilerplate, make_environment
from dhpc_gen.render.long_words import break_long_words
from dhpc_gen.render.typography import letter_typesetter, typeset_html
from dhpc_gen.resources import ASSETS_DIR, LOCALES_DIR, TEMPLATES_DIR

LETTER_TEMPLATE = "letter.html"


@dataclass(frozen=True)
class SectionView:
    heading: Markup
    paragraphs: tuple[Markup, ...]


@dataclass(frozen=True)
class PersonView:
    name: str
    title: str
    company: str


@dataclass(frozen=True)
class LetterheadView:
    """The letterhead as the template shows it; the logo is inlined as a data URL."""

    logo_url: str | None
    logo_alt: str
    lines: tuple[str, ...]
    footer: tuple[str, ...]


def letterhead_view(dhpc: Dhpc) -> LetterheadView | None:
    """The DHPC's letterhead, or None (the letter then names its MAHs at the top)."""
    letterhead = dhpc.letterhead
    if letterhead is None:
        return None
    logo_url = None
    if letterhead.logo is not None:
        encoded = base64.b64encode(letterhead.logo.data).decode("ascii")
        logo_url = f"data:{letterhead.logo.media_type};base64,{encoded}"
    return LetterheadView(
        logo_url=logo_url,
        logo_alt=", ".join(mah.name for mah in dhpc.meta.mahs),
        lines=letterhead.lines,
        footer=letterhead.footer,
    )


@dataclass(frozen=True)
class LetterView:
    """Everything the letter template shows, already in the letter's language."""

    language: str
    title: str
    title_html: Markup
    description: str
    """Plain text for the PDF's subject: a phrase's markup never goes into an attribute."""
    date: str
    timestamp: str
    draft: bool
    mahs: tuple[object, ...]
    product_names: tuple[str, ...]
    salutation: str
    """As typed (or the catalog's); ``salutation_html`` is what the letter prints."""
    salutation_html: Markup
    opening: Markup
    introduction: tuple[Markup, ...]
    summary: tuple[Markup, ...]
    background_heading: str
    background_heading_html: Markup
    background: tuple[Markup, ...]
    sections: tuple[SectionView, ...]
    regulator: Regulator
    reporting: tuple[Markup, ...]
    additional_monitoring: bool
    contacts: tuple[str, ...]
    signatories: tuple[PersonView, ...]
    address_sources: tuple[str, ...]
    tool_version: str
    window_space_mm: float | None = None
    """Merged letters: blank space at the top of page 1 for the envelope window (no date)."""
    letterhead: LetterheadView | None = None
    heading: NationalHeading | None = None
    """The country's own heading above the title ("Rote-Hand-Brief"), if it has one."""


@dataclass(frozen=True)
class NationalHeading:
    """A heading the country's convention puts on every DHPC, with its mark."""

    text: str
    mark_url: str | None
    """The mark inlined as a data URL, so the HTML copy shows it too."""
    mark_alt: str = ""
    """What the mark shows, for a screen reader (the SVG's ``<title>``)."""


def national_heading(country: str, language: str) -> NationalHeading | None:
    """The heading of ``country``'s convention in ``language`` (the registry's)."""
    rules = registry.conventions(country)
    text = rules.heading_in(language)
    if text is None:
        return None
    if rules.mark is None:
        return NationalHeading(text, None)
    svg = rules.mark.read_bytes()
    title = re.search(rb"<title>([^<]*)</title>", svg)
    alt = title.group(1).decode("utf-8").strip() if title else rules.mark.stem
    encoded = base64.b64encode(svg).decode("ascii")
    return NationalHeading(text, f"data:image/svg+xml;base64,{encoded}", alt)


def compose_title(dhpc: Dhpc, text: LanguageText) -> str:
    """``Alemtuzumab (LEMTRADA): key message``, after the EMA template.

    Products of one substance share it, as people write them: ``Testimab (TESTIMAB▼,
    TESTIMAB PEN▼): …``; several substances follow one another, each with its products:
    ``Ciprofloxacin (CIPROXIN▼), levofloxacin (TAVANIC): …``. A ``title`` in the language
    file replaces the composed one.
    """
    if text.title:
        return text.title
    products = [(p.name, p.additional_monitoring) for p in dhpc.meta.products]
    return format_title(products, text.active_substances, text.key_message)


def title_key(substance: str) -> str:
    """Two products share a substance in the title when their substances have one key."""
    return " ".join(substance.casefold().split())


def format_title(
    products: Sequence[tuple[str, bool]], substances: Sequence[str], key_message: str
) -> str:
    """The composed title of ``products`` (name, ▼), one substance each, and the key message.

    Products are grouped under the first spelling of their substance (by
    :func:`title_key`), groups in the order of their first product; the title starts
    with a capital. ``dhpc_gen.exchange.docx_letter.parse_title`` reads it back.
    """
    groups: dict[str, tuple[str, list[str]]] = {}
    for (name, monitored), substance in zip(products, substances, strict=True):
        triangle = "▼" if monitored else ""
        groups.setdefault(title_key(substance), (substance, []))[1].append(
            f"{name.upper()}{triangle}"
        )
    parts = [f"{substance} ({', '.join(names)})" for substance, names in groups.values()]
    title = f"{', '.join(parts)}: {key_message}"
    return title[:1].upper() + title[1:]


def letter_epoch(date: dt.date) -> int:
    """Seconds since 1970 at midnight UTC of the letter's date (``SOURCE_DATE_EPOCH``)."""
    return int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp())


def letter_timestamp(date: dt.date) -> str:
    """The letter's creation time in the PDF: its date, so rebuilding changes nothing."""
    return f"{date.isoformat()}T00:00:00Z"


def localised_sources(
    dhpc: Dhpc, language: str, used: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The address sources as printed in ``language``.

    ``used`` names the sources (as ``dhpc.yaml`` spells them) that actually gave a
    recipient; by default all of ``dhpc.yaml``'s ``address_sources`` are printed. A
    language file may spell each one its own way (``address_sources`` in the same order).
    """
    canonical = dhpc.meta.address_sources
    wording = dhpc.text(language).address_sources or canonical
    if used is None:
        return tuple(wording)
    spelled = dict(zip(canonical, wording, strict=True))
    return tuple(spelled.get(name, name) for name in used)


def letter_boilerplate(dhpc: Dhpc, language: str, locales_dir: Path = LOCALES_DIR) -> Boilerplate:
    """The phrases of ``language``'s letter: its own overrides, then the catalog."""
    return Boilerplate(
        language,
        translations(language, locales_dir),
        dict(dhpc.text(language).boilerplate),
        overrides_file=display_path(dhpc.directory / f"{language}.yaml"),
    )


def letter_view(
    dhpc: Dhpc,
    language: str,
    gettext: Boilerplate,
    address_sources: Sequence[str] | None = None,
) -> LetterView:
    """Assemble the view of ``language``.

    ``address_sources``: the sources that gave recipients (default: all in dhpc.yaml).
    """
    meta = dhpc.meta
    text = dhpc.text(language)
    regulator = registry.lookup(meta.country, language, authority=meta.reporting_authority)

    contacts = []
    for index, mah in enumerate(meta.mahs):
        department = text.contact_points[index].department if text.contact_points else None
        pieces = [mah.name, *([department] if department else []), mah.email]
        phone_label = gettext.text(N_("tel:"))
        contacts.append(f"{', '.join(pieces)}, {phone_label} {mah.phone}")

    signatories = tuple(
        PersonView(
            name=person.name,
            title=text.signatory_titles[index] if text.signatory_titles else person.title,
            company=person.company,
        )
        for index, person in enumerate(meta.signatories)
    )

    sources = localised_sources(dhpc, language, address_sources)

    title = " ".join(plain_text(compose_title(dhpc, text)).split())
    return LetterView(
        language=language,
        # The PDF's /Title and the HTML <title> are plain text: no "**" of the markup.
        title=title,
        title_html=render_inline(compose_title(dhpc, text)),
        description=f"{gettext.text(N_('Direct healthcare professional communication'))}: {title}",
        date=long_date(meta.date, language, meta.country),
        timestamp=letter_timestamp(meta.date),
        draft=meta.status == "draft",
        mahs=meta.mahs,
        product_names=tuple(p.name for p in meta.products),
        salutation=text.salutation or gettext.gettext(N_("To healthcare professionals")),
        salutation_html=(
            render_inline(text.salutation)
            if text.salutation
            else gettext.html(N_("To healthcare professionals"))
        ),
        opening=render_inline(text.opening),
        introduction=tuple(render_block(p) for p in text.introduction),
        summary=tuple(render_inline(b) for b in text.summary),
        background_heading=(
            text.background_heading or gettext.gettext(N_("Background on the safety concern"))
        ),
        background_heading_html=(
            render_inline(text.background_heading)
            if text.background_heading
            else gettext.html(N_("Background on the safety concern"))
        ),
        background=tuple(render_block(p) for p in text.background),
        sections=tuple(
            SectionView(render_inline(s.heading), tuple(render_block(p) for p in s.paragraphs))
            for s in text.sections
        ),
        regulator=regulator,
        reporting=tuple(render_block(p) for p in text.reporting),
        additional_monitoring=any(p.additional_monitoring for p in meta.products),
        contacts=tuple(contacts),
        signatories=signatories,
        address_sources=sources,
        tool_version=__version__,
        letterhead=letterhead_view(dhpc),
        heading=national_heading(meta.country, language),
    )


def render_html(
    dhpc: Dhpc,
    language: str,
    *,
    address_sources: Sequence[str] | None = None,
    window_space_mm: float | None = None,
    environment: jinja2.Environment | None = None,
    adjust_view: Callable[[LetterView], LetterView] | None = None,
    locales_dir: Path = LOCALES_DIR,
) -> str:
    """The letter of ``language`` as HTML, ready for WeasyPrint.

    ``window_space_mm`` leaves that much blank at the top of page 1 and drops the date
    line: a merged letter prints the address and date there for a window envelope.
    ``adjust_view`` may change the view before it is rendered (the preview of ``dhpc
    serve`` marks each field and its findings that way, on the same template).
    """
    gettext = letter_boilerplate(dhpc, language, locales_dir)
    view = letter_view(dhpc, language, gettext, address_sources)
    if window_space_mm is not None:
        view = dataclasses.replace(view, window_space_mm=window_space_mm)
    if adjust_view is not None:
        view = adjust_view(view)

    def render(env: jinja2.Environment) -> str:
        install_boilerplate(env, gettext)
        try:
            return env.get_template(LETTER_TEMPLATE).render(letter=view)
        except jinja2.TemplateError as exc:
            raise RenderError(f"template {LETTER_TEMPLATE}: {exc}") from exc

    if environment is None:
        from dhpc_gen.render.renderer import warm_renderer

        html = warm_renderer().with_environment(render)
    else:
        html = render(environment)
    if gettext.missing:
        raise RenderError(gettext.missing_message())
    return break_long_words(typeset_html(html, letter_typesetter(dhpc, language)))


@functools.lru_cache(maxsize=1)
def letter_environment() -> jinja2.Environment:
    """One environment per process: the letter template is compiled once, not per letter.

    Each render installs its own gettext before rendering, so letters are rendered one
    at a time (:class:`dhpc_gen.render.renderer.LetterRenderer` holds the lock); several
    processes render in parallel.
    """
    return make_environment()


def standalone_html(html: str) -> str:
    """The letter's HTML with its stylesheet inlined, to open from the output folder.

    Fonts stay referenced by absolute ``file:`` URL into the project's assets.
    """
    css = (TEMPLATES_DIR / "letter.css").read_text(encoding="utf-8")
    css = css.replace('url("../assets/', f'url("{ASSETS_DIR.resolve().as_uri()}/')
    return html.replace('<link rel="stylesheet" href="letter.css">', f"<style>\n{css}</style>", 1)
