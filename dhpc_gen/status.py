"""``dhpc status``: where a campaign stands, country × language.

Each cell of the matrix answers, for one language of one country: is the text
translated (no untranslated field), are its checks clean (errors, warnings and notes
of the shared text and of the country), is it reviewed and signed, are its letters
built from the current inputs, is it on a mailing list (recipients in that language),
and what the send journal records. Each column is one small function reading what the
other commands leave behind; nothing is rendered and nothing is written, so the
matrix is cheap enough to print on every CI run.

"built" is what ``dhpc build --check`` would say of the letter, told from its manifest
without rendering: the PDF is the one the manifest names, and every input the letter
is made of (``dhpc.yaml``, the country's file, the language's file, its catalog, the
country's reporting block, the layout, the letterhead) has the SHA-256 recorded there.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dhpc_gen import __version__
from dhpc_gen.approval.log import SignoffLog
from dhpc_gen.build import (
    MANIFEST,
    language_hash,
    letter_layout_files,
    letterhead_files,
    template_version,
)
from dhpc_gen.content.campaign import Campaign
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError
from dhpc_gen.fsutil import sha256_file
from dhpc_gen.i18n import catalog_path
from dhpc_gen.regulators import registry
from dhpc_gen.resources import PROJECT_DIR
from dhpc_gen.review.findings import Finding

STATUS_FORMAT_VERSION = 1
STATUS_TEMPLATE = "status.html"


@dataclass(frozen=True)
class Checks:
    errors: int = 0
    warnings: int = 0
    notes: int = 0

    @property
    def clean(self) -> bool:
        return not self.errors and not self.warnings


@dataclass(frozen=True)
class Cell:
    """Where one language of one country stands."""

    country: str
    language: str
    translated: str
    """``source`` (the core), ``yes``, or ``no: N untranslated``."""
    checks: Checks
    reviewed: str
    """What a sign-off log records for it, or ``not recorded``."""
    built: str
    """``built``, ``not built``, or ``stale: <what changed>``."""
    mailed: int | None
    """Recipients in this language on the country's mailing list (None: no list yet)."""
    sent: Mapping[str, int] = field(default_factory=dict)
    """Send journal: messages of the current version per state (empty: none)."""
    deviations: int = 0
    """National deviations of this language in this country."""


@dataclass(frozen=True)
class CampaignStatus:
    dhpc: str
    source_language: str
    countries: Mapping[str, tuple[str, ...]]
    languages: tuple[str, ...]
    cells: tuple[Cell, ...]

    def cell(self, country: str, language: str) -> Cell:
        for cell in self.cells:
            if cell.country == country and cell.language == language:
                return cell
        raise KeyError((country, language))

    def as_json(self) -> str:
        """Stable JSON for CI: sorted keys, no clock, no machine paths."""
        document = {
            "format": STATUS_FORMAT_VERSION,
            "dhpc": self.dhpc,
            "source_language": self.source_language,
            "languages": list(self.languages),
            "countries": {
                country: {
                    cell.language: {
                        key: value
                        for key, value in asdict(cell).items()
                        if key not in ("country", "language")
                    }
                    for cell in self.cells
                    if cell.country == country
                }
                for country in self.countries
            },
        }
        return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# --- one function per column ---------------------------------------------------------------


def translated_state(campaign: Campaign, language: str, findings: Sequence[Finding]) -> str:
    """``source``, ``yes``, or how many fields are still untranslated (``dhpc check``)."""
    if language == campaign.source_language:
        return "source"
    untranslated = {
        f.field for f in findings if f.check == "untranslated" and f.is_error and not f.country
    }
    return f"no: {len(untranslated)} untranslated" if untranslated else "yes"


def check_counts(findings: Sequence[Finding]) -> Checks:
    return Checks(
        errors=sum(f.is_error for f in findings),
        warnings=sum(f.is_warning for f in findings),
        notes=sum(f.severity == "note" for f in findings),
    )


def signoff_state(dhpc: Dhpc, language: str, log: SignoffLog | None) -> str:
    """What the sign-off log (``dhpc signoff``) records for the current text of one letter.

    ``not recorded`` until someone signs; then who approved this very text, or that it
    changed since it was approved, or that it was rejected.
    """
    from dhpc_gen.approval.state import approval_state

    if log is None:
        return "sign-off log unreadable (dhpc check says why)"
    country = dhpc.meta.country if dhpc.in_campaign else None
    state = approval_state(dhpc, language, country=country, log=log)
    return "not recorded" if state.state == "never" else state.describe()


def _signoff_log(campaign: Campaign) -> SignoffLog | None:
    from dhpc_gen.approval.state import signoff_log

    try:
        return signoff_log(campaign.shared)
    except DhpcError:
        return None


class _Hashes:
    """SHA-256 of files, each read once however many cells ask."""

    def __init__(self) -> None:
        self._known: dict[Path, str | None] = {}

    def of(self, path: Path) -> str | None:
        if path not in self._known:
            try:
                self._known[path] = sha256_file(path)
            except OSError:
                self._known[path] = None
        return self._known[path]


def _project_name(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return path.name


def built_state(dhpc: Dhpc, language: str, out_root: Path, hashes: _Hashes) -> str:
    """``built`` if the letter in ``out_root`` is what the current inputs make, else why not."""
    out_dir = dhpc.output_dir(out_root)
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        outputs = {o["path"]: o for o in manifest["outputs"]}
        inputs = {i["path"]: i["sha256"] for i in manifest["inputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return "not built"
    filename = f"{dhpc.file_stem}_{language}.pdf"
    entry = outputs.get(filename)
    if not isinstance(entry, dict):
        return "not built"
    if hashes.of(out_dir / filename) != entry.get("sha256"):
        return "stale: the PDF is not the one its manifest names"
    if manifest.get("tool_version") != __version__:
        return "stale: another dhpc_gen version"
    if manifest.get("template_version") != template_version():
        return "stale: the layout changed"
    project = [
        *letter_layout_files(),
        catalog_path(language),
        registry.file_for(dhpc.meta.country),
    ]
    wanted = [(_project_name(p), p) for p in project]
    if "inputs_sha256" in entry:
        # A campaign's letter names what it was made of: its country's facts and text, and
        # its letterhead (a shared one is named in the manifest: that is what changed).
        shared = [(_project_name(p), p) for p in letterhead_files(dhpc) if p not in dhpc.files]
        wanted += shared
        moved = [name for name, path in shared if inputs.get(name) != hashes.of(path)]
        if entry["inputs_sha256"] != language_hash(dhpc, language) and not moved:
            changed = [f"the {language} text or {dhpc.meta.country}'s facts"]
        else:
            changed = []
    else:
        wanted += [(f"{dhpc.id}/{dhpc.relative(p)}", p) for p in dhpc.inputs_of(language)]
        wanted += [
            (f"{dhpc.id}/{dhpc.relative(p)}" if p in dhpc.files else _project_name(p), p)
            for p in letterhead_files(dhpc)
        ]
        changed = []
    changed += [name for name, path in wanted if inputs.get(name) != hashes.of(path)]
    return f"stale: {', '.join(changed)} changed" if changed else "built"


def mailed_count(dhpc: Dhpc, language: str, out_root: Path) -> int | None:
    """Recipients in ``language`` on the country's mailing list (``dhpc mailing-list``)."""
    try:
        report = json.loads(
            (dhpc.output_dir(out_root) / "mailing" / "report.json").read_text(encoding="utf-8")
        )
        per_language = report["recipients_per_language"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    count = per_language.get(language, 0) if isinstance(per_language, dict) else 0
    return count if isinstance(count, int) else 0


def sent_counts(dhpc: Dhpc, language: str, out_root: Path, content_sha256: str) -> dict[str, int]:
    """Messages of the current version in ``language``, per state of the send journal."""
    from dhpc_gen.distribution.journal import read_journal

    path = dhpc.output_dir(out_root) / "journal.sqlite"
    try:
        entries = read_journal(path, dhpc.id)
    except DhpcError:
        return {"unreadable": 1}
    counts = Counter(
        str(e.state)
        for e in entries
        if e.language == language and e.key.content_hash == content_sha256
    )
    earlier = sum(
        1
        for e in entries
        if e.language == language and e.key.content_hash != content_sha256 and e.state == "sent"
    )
    if earlier:
        counts["sent_earlier_version"] = earlier
    return dict(sorted(counts.items()))


# --- the matrix ----------------------------------------------------------------------------


def campaign_status(
    campaign: Campaign, out_root: Path, findings: Sequence[Finding]
) -> CampaignStatus:
    """The matrix of ``campaign`` from its check findings and what ``out_root`` holds."""
    from dhpc_gen.build import content_hash

    hashes = _Hashes()
    log = _signoff_log(campaign)
    cells = []
    for country, dhpc in campaign.nationals.items():
        chash = content_hash(dhpc)
        for language in dhpc.meta.languages:
            mine = [f for f in findings if f.language == language and f.country in ("", country)]
            cells.append(
                Cell(
                    country=country,
                    language=language,
                    translated=translated_state(campaign, language, mine),
                    checks=check_counts(mine),
                    reviewed=signoff_state(dhpc, language, log),
                    built=built_state(dhpc, language, out_root, hashes),
                    mailed=mailed_count(dhpc, language, out_root),
                    sent=sent_counts(dhpc, language, out_root, chash),
                    deviations=sum(d.language == language for d in dhpc.deviations),
                )
            )
    return CampaignStatus(
        dhpc=campaign.id,
        source_language=campaign.source_language,
        countries=dict(campaign.countries),
        languages=campaign.languages,
        cells=tuple(cells),
    )


def _sent_text(sent: Mapping[str, int]) -> str:
    return ", ".join(f"{state} {count}" for state, count in sent.items()) or "-"


def status_rows(status: CampaignStatus) -> list[tuple[str, ...]]:
    """The matrix as text rows, a header first: one row per country and language."""
    rows: list[tuple[str, ...]] = [
        ("country", "lang", "translated", "checks", "reviewed", "built", "mailed", "sent")
    ]
    for cell in status.cells:
        checks = f"{cell.checks.errors} E, {cell.checks.warnings} W"
        if cell.checks.notes:
            checks += f", {cell.checks.notes} N"
        if cell.deviations:
            checks += f" ({cell.deviations} deviation{'s' if cell.deviations != 1 else ''})"
        rows.append(
            (
                cell.country,
                cell.language,
                cell.translated,
                checks,
                cell.reviewed,
                cell.built,
                "no list" if cell.mailed is None else str(cell.mailed),
                _sent_text(cell.sent),
            )
        )
    return rows


def status_text(status: CampaignStatus) -> str:
    rows = status_rows(status)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines) + "\n"


def status_html(status: CampaignStatus) -> str:
    """The matrix as one self-contained HTML page: countries down, languages across."""
    from dhpc_gen.render.environment import make_environment

    template = make_environment().get_template(STATUS_TEMPLATE)
    grid = {
        country: {cell.language: cell for cell in status.cells if cell.country == country}
        for country in status.countries
    }
    return template.render(status=status, grid=grid, sent_text=_sent_text)
