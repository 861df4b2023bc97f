"""``dhpc build``: one PDF per language and a manifest of hashes, reproducible to the byte."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dhpc_gen import __version__
from dhpc_gen.content.loader import consistency_problems, registry_problems
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import ContentError, Problem, UsageError
from dhpc_gen.fsutil import OutputSet, inside, safe_name, sha256_bytes
from dhpc_gen.i18n import catalog_path
from dhpc_gen.regulators import registry
from dhpc_gen.render.letter import letter_epoch, render_html, standalone_html
from dhpc_gen.render.prefork import LetterLayout, pdf_identifier
from dhpc_gen.render.renderer import LetterRenderer, warm_renderer
from dhpc_gen.resources import ASSETS_DIR, PROJECT_DIR, TEMPLATES_DIR

logger = logging.getLogger(__name__)

TEMPLATE_VERSION = "4"
"""Raised by hand when the letter layout changes on purpose."""

MANIFEST = "manifest.json"

LETTER_TEMPLATES = ("letter.html", "letter.css")
"""The templates a letter is made of; other features' templates do not change letters."""


@dataclass(frozen=True)
class BuiltLetter:
    language: str
    filename: str
    pdf: bytes
    html: str
    pages: int
    """Counted by the layout where the letter was rendered (a worker process)."""
    signature: Mapping[str, object] | None = None
    """Set when ``pdf`` is signed: who signed, why, and the unsigned letter's hash."""


Signing = Callable[[Dhpc, Sequence[BuiltLetter]], list[BuiltLetter]]
"""Signs rendered letters (``dhpc build --sign``); see :mod:`dhpc_gen.signing`."""


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    letters: tuple[BuiltLetter, ...]
    manifest: dict[str, object]
    written: tuple[Path, ...]


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return path.name


def letter_layout_files() -> list[Path]:
    """The letter's templates and every bundled asset (fonts), in a stable order."""
    files = [TEMPLATES_DIR / name for name in LETTER_TEMPLATES]
    return files + sorted(p for p in ASSETS_DIR.rglob("*") if p.is_file())


def shared_inputs(dhpc: Dhpc, languages: Sequence[str]) -> list[Path]:
    """Every project file besides the content that shapes the PDFs."""
    files = letter_layout_files()
    files += [catalog_path(language) for language in dhpc.meta.languages]
    files.append(registry.file_for(dhpc.meta.country))
    return files + [p for p in letterhead_files(dhpc) if p not in dhpc.files]


def letterhead_files(dhpc: Dhpc) -> tuple[Path, ...]:
    """The files the letterhead was read from (the content folder's or a shared one)."""
    return dhpc.letterhead.files if dhpc.letterhead is not None else ()


def template_version() -> str:
    """The declared layout version plus a hash of the templates and assets."""
    files = letter_layout_files()
    return _template_version(tuple((p, p.stat().st_mtime_ns, p.stat().st_size) for p in files))


@functools.lru_cache(maxsize=8)
def _template_version(files: tuple[tuple[Path, int, int], ...]) -> str:
    # Hashed once per version of the files (their time and size), not for every letter.
    digest = sha256_bytes(
        b"".join(
            p.relative_to(PROJECT_DIR).as_posix().encode() + b"\0" + p.read_bytes()
            for p, _, _ in files
        )
    )
    return f"{TEMPLATE_VERSION}+{digest[:12]}"


def files_digest(files: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over (file name, bytes) pairs: the one formula of every content hash."""
    return sha256_bytes(b"".join(name.encode() + b"\0" + data + b"\0" for name, data in files))


def content_hash(dhpc: Dhpc) -> str:
    """SHA-256 over the DHPC's own files, by name: names one exact version of the text."""
    return files_digest((p.name, p.read_bytes()) for p in dhpc.files)


def language_paths(dhpc: Dhpc, language: str) -> list[Path]:
    """The files one language's letter is made of: ``dhpc.yaml``, the country's file (a
    campaign), the language file and the letterhead's files."""
    return [*dhpc.inputs_of(language), *letterhead_files(dhpc)]


def language_hash(dhpc: Dhpc, language: str) -> str:
    """SHA-256 of what one language's letter is made of.

    Editing the Finnish text changes the Finnish PDF only, so ``--check`` and ``dhpc
    status`` name just it. It is also the version of a language that a sign-off approves
    (:mod:`dhpc_gen.approval`), and that a signed letter names.

    A folder of one country: ``dhpc.yaml``, the language file and the letterhead's files.
    One country of a campaign: the national facts as printed and the national text of the
    language (deviations applied, placeholders filled), so that a deviation in French
    changes the French letter of that country only.
    """
    if not dhpc.in_campaign:
        return files_digest((p.name, p.read_bytes()) for p in language_paths(dhpc, language))
    printed = dhpc.meta.model_dump(
        mode="json", exclude={"authority_approval", "default_language", "audience"}
    )
    if printed.get("reporting_authority") is None:
        printed.pop("reporting_authority", None)  # the hash of a letter that has no choice
    facts = {
        "meta": printed,
        "text": dhpc.text(language).model_dump(mode="json"),
        "letterhead": [sha256_bytes(p.read_bytes()) for p in letterhead_files(dhpc)],
    }
    return sha256_bytes(json.dumps(facts, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def selected_languages(dhpc: Dhpc, languages: Sequence[str]) -> list[str]:
    if not languages:
        return list(dhpc.meta.languages)
    unknown = [lang for lang in languages if lang not in dhpc.meta.languages]
    if unknown:
        raise UsageError(
            f"--lang {', '.join(unknown)}: {dhpc.id} has only {', '.join(dhpc.meta.languages)}"
        )
    return list(dict.fromkeys(languages))


def render_letters(
    dhpc: Dhpc,
    languages: Sequence[str],
    *,
    address_sources: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[BuiltLetter]:
    """Render each language to PDF in memory; nothing is written."""
    refuse_unprintable(dhpc)
    tversion = template_version()
    letters = []
    for language in languages:
        if progress:
            progress(language)
        letters.append(
            render_letter(dhpc, language, address_sources=address_sources, tversion=tversion)
        )
    return letters


def refuse_unprintable(dhpc: Dhpc) -> None:
    """Raise :class:`ContentError` if a language's structure, reporting block or characters
    cannot be printed."""
    from dhpc_gen.render.fonts import glyph_problems

    problems = unprintable_problems(dhpc) + glyph_problems(dhpc.files)
    if problems:
        raise ContentError(problems)


def unprintable_problems(dhpc: Dhpc) -> list[Problem]:
    """The structure and reporting-block problems of ``dhpc`` (its characters aside)."""
    safe_name(dhpc.id, "DHPC id")
    return consistency_problems(dhpc) + registry_problems(dhpc)


def render_letter(
    dhpc: Dhpc,
    language: str,
    *,
    address_sources: Sequence[str] | None = None,
    tversion: str | None = None,
    renderer: LetterRenderer | None = None,
) -> BuiltLetter:
    """Render one language's letter (after :func:`refuse_unprintable`); nothing is written.

    ``renderer``: by default this process's warm one (:func:`warm_renderer`).
    """
    layout = letter_layout(dhpc, language, address_sources=address_sources, tversion=tversion)
    laid_out = (renderer or warm_renderer()).pdf(
        layout.html, variant=layout.variant, identifier=layout.identifier, epoch=layout.epoch
    )
    return built_letter(dhpc, layout, laid_out.data, laid_out.pages)


def letter_layout(
    dhpc: Dhpc,
    language: str,
    *,
    address_sources: Sequence[str] | None = None,
    tversion: str | None = None,
) -> LetterLayout:
    """A letter's HTML and what its layout is given: plain data, for another process too."""
    safe_name(language, "language")
    html = render_html(dhpc, language, address_sources=address_sources)
    return LetterLayout(
        language,
        html,
        variant=dhpc.meta.pdf_variant,
        identifier=pdf_identifier(
            language_hash(dhpc, language),
            __version__,
            tversion or template_version(),
            *(address_sources or ()),
        ),
        epoch=letter_epoch(dhpc.meta.date),
    )


def built_letter(dhpc: Dhpc, layout: LetterLayout, pdf: bytes, pages: int) -> BuiltLetter:
    """The letter of ``layout`` once laid out."""
    return BuiltLetter(
        layout.language, f"{dhpc.file_stem}_{layout.language}.pdf", pdf, layout.html, pages=pages
    )


def make_manifest(
    dhpc: Dhpc, letters: Sequence[BuiltLetter], address_sources: Sequence[str] | None = None
) -> dict[str, object]:
    """What went in and what came out, with hashes; no clock and no machine paths."""
    languages = [letter.language for letter in letters]
    inputs = [
        {
            "path": f"{dhpc.id}/{dhpc.relative(p)}",
            "role": "content",
            "sha256": sha256_bytes(p.read_bytes()),
        }
        for p in dhpc.files
    ]
    inputs += [
        {"path": _relative(p), "role": "project", "sha256": sha256_bytes(p.read_bytes())}
        for p in shared_inputs(dhpc, languages)
    ]
    outputs = [
        {
            "path": letter.filename,
            "language": letter.language,
            "sha256": sha256_bytes(letter.pdf),
            "bytes": len(letter.pdf),
            "pages": letter.pages,
            **({"signature": dict(letter.signature)} if letter.signature is not None else {}),
        }
        for letter in letters
    ]
    if dhpc.in_campaign:
        # What each letter is made of, so that dhpc status can tell a stale letter alone.
        for entry in outputs:
            entry["inputs_sha256"] = language_hash(dhpc, str(entry["language"]))
    outputs.sort(key=lambda entry: str(entry["path"]))
    manifest: dict[str, object] = {"dhpc": dhpc.id}
    if dhpc.in_campaign:
        manifest["country"] = dhpc.meta.country
    manifest |= {
        "status": dhpc.meta.status,
        "date": dhpc.meta.date.isoformat(),
        "content_sha256": content_hash(dhpc),
        "tool_version": __version__,
        "template_version": template_version(),
        "pdf_variant": dhpc.meta.pdf_variant,
        "inputs": inputs,
        "outputs": outputs,
    }
    if address_sources is not None:
        # Built for a mailing list: the address-source line names only these.
        manifest["address_sources"] = list(address_sources)
    return manifest


def manifest_text(manifest: dict[str, object]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def build(
    dhpc: Dhpc,
    out_root: Path,
    *,
    languages: Sequence[str] = (),
    html: bool = False,
    address_sources: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    signing: Signing | None = None,
) -> BuildResult:
    """Render and write ``<out>/<id>/<id>_<lang>.pdf`` and the manifest.

    Everything is rendered (and, with ``signing``, signed) in memory first, then written
    as one :class:`OutputSet`: on any error, a full disk included, the output folder is
    left as it was. A signed letter begins with the bytes of the unsigned one.
    """
    chosen = selected_languages(dhpc, languages)
    letters = render_letters(dhpc, chosen, address_sources=address_sources, progress=progress)
    if signing is not None:
        letters = signing(dhpc, letters)
    return write_letters(dhpc, out_root, letters, html=html, address_sources=address_sources)


def write_letters(
    dhpc: Dhpc,
    out_root: Path,
    letters: Sequence[BuiltLetter],
    *,
    html: bool = False,
    address_sources: Sequence[str] | None = None,
    outputs: OutputSet | None = None,
) -> BuildResult:
    """Write rendered letters and their manifest to ``dhpc.output_dir(out_root)``.

    ``outputs``: the output set they are part of (a campaign's); by default their own.
    """
    out_dir = dhpc.output_dir(out_root)
    if outputs is None:
        # The PDFs, the HTML and the manifest that describes them replace the old ones together.
        with OutputSet(out_dir) as own:
            return write_letters(
                dhpc, out_root, letters, html=html, address_sources=address_sources, outputs=own
            )
    manifest = make_manifest(dhpc, letters, address_sources)
    manifest = keep_other_languages(out_dir / MANIFEST, manifest)
    written = []
    for letter in letters:
        target = inside(out_dir, letter.filename)
        outputs.write_bytes(target, letter.pdf)
        written.append(target)
        target = inside(out_dir, f"{dhpc.file_stem}_{letter.language}.html")
        if html:
            outputs.write_text(target, standalone_html(letter.html))
            written.append(target)
        elif target.exists():
            outputs.remove(target)  # an older build's copy would no longer be this letter
    outputs.write_text(out_dir / MANIFEST, manifest_text(manifest), last=True)
    written.append(out_dir / MANIFEST)
    return BuildResult(out_dir, tuple(letters), manifest, tuple(written))


def keep_other_languages(path: Path, manifest: dict[str, object]) -> dict[str, object]:
    """With ``--lang``, keep the other languages' entries if they are of the same version."""
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return manifest
    same = all(
        previous.get(key) == manifest.get(key)
        for key in (
            "content_sha256",
            "tool_version",
            "template_version",
            "pdf_variant",
            "address_sources",
        )
    )
    if not same or not isinstance(previous.get("outputs"), list):
        return manifest
    outputs = manifest["outputs"]
    assert isinstance(outputs, list)
    have = {entry["language"] for entry in outputs}
    kept = [e for e in previous["outputs"] if isinstance(e, dict) and e.get("language") not in have]
    if not kept:
        return manifest
    merged = dict(manifest)
    merged["outputs"] = sorted([*outputs, *kept], key=lambda e: str(e["path"]))
    return merged


def _signed_outputs(manifest_path: Path) -> dict[str, dict[str, object]]:
    """The manifest's entries of signed letters, by file name."""
    try:
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
        outputs = previous["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(outputs, list):
        return {}
    return {
        str(e["path"]): e
        for e in outputs
        if isinstance(e, dict) and isinstance(e.get("signature"), dict) and "path" in e
    }


def _is_signed_copy(data: bytes, unsigned: bytes, entry: Mapping[str, object]) -> bool:
    """``data`` is ``unsigned`` with a signature appended, as the manifest recorded it."""
    signature = entry.get("signature")
    assert isinstance(signature, dict)
    return (
        data.startswith(unsigned)
        and signature.get("unsigned_sha256") == sha256_bytes(unsigned)
        and entry.get("sha256") == sha256_bytes(data)
    )


def _with_signatures(
    manifest: dict[str, object], signed: Mapping[str, Mapping[str, object]]
) -> dict[str, object]:
    """The expected manifest, with the entries of letters signed from these very bytes."""
    outputs = manifest.get("outputs")
    if not signed or not isinstance(outputs, list):
        return manifest
    replaced = []
    for entry in outputs:
        previous = signed.get(str(entry.get("path")))
        signature = previous.get("signature") if previous is not None else None
        if isinstance(signature, dict) and signature.get("unsigned_sha256") == entry.get("sha256"):
            replaced.append(previous)
        else:
            replaced.append(entry)
    return {**manifest, "outputs": replaced}


def check_outputs(
    dhpc: Dhpc,
    out_root: Path,
    *,
    languages: Sequence[str] = (),
    address_sources: Sequence[str] | None = None,
) -> list[str]:
    """Files in ``out_root`` that are not what the current inputs produce (empty: all fresh)."""
    chosen = selected_languages(dhpc, languages)
    letters = render_letters(dhpc, chosen, address_sources=address_sources)
    return stale_outputs(dhpc, out_root, letters, address_sources)


def expected_manifest(
    dhpc: Dhpc,
    out_root: Path,
    letters: Sequence[BuiltLetter],
    address_sources: Sequence[str] | None = None,
) -> dict[str, object]:
    """The manifest a build of ``letters`` would write now, signatures kept."""
    manifest_path = dhpc.output_dir(out_root) / MANIFEST
    expected = keep_other_languages(manifest_path, make_manifest(dhpc, letters, address_sources))
    return _with_signatures(expected, _signed_outputs(manifest_path))


def stale_outputs(
    dhpc: Dhpc,
    out_root: Path,
    letters: Sequence[BuiltLetter],
    address_sources: Sequence[str] | None = None,
) -> list[str]:
    """The files of ``letters`` and the manifest that differ from those in ``out_root``."""
    out_dir = dhpc.output_dir(out_root)
    stale = []
    manifest_path = out_dir / MANIFEST
    signed = _signed_outputs(manifest_path)
    for letter in letters:
        target = out_dir / letter.filename
        if not target.is_file():
            stale.append(f"{target}: missing")
            continue
        data = target.read_bytes()
        entry = signed.get(letter.filename)
        if data == letter.pdf:
            continue
        if entry is not None and _is_signed_copy(data, letter.pdf, entry):
            continue  # signed after the build: the build's bytes, then the signature
        stale.append(f"{target}: differs from what the current inputs produce")
    expected = expected_manifest(dhpc, out_root, letters, address_sources)
    if not manifest_path.is_file():
        stale.append(f"{manifest_path}: missing")
    elif manifest_path.read_text(encoding="utf-8") != manifest_text(expected):
        stale.append(f"{manifest_path}: differs from what the current inputs produce")
    return stale
