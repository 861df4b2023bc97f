"""The seeded-defect corpus of ``dhpc check`` and ``dhpc review``.

Each defect copies the bundled Lemtrada example (and, where it needs to, the catalogs
or the regulator registry) into a temporary folder and changes one thing, the way a
translation goes wrong in practice. The tests expect each to be caught by one check id.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from dhpc_gen.resources import LOCALES_DIR, PROJECT_DIR, REGULATORS_DIR

EXAMPLE = PROJECT_DIR / "content" / "lemtrada-2019"


@dataclass(frozen=True)
class Workspace:
    """A copy of the example with its own catalogs and regulator registry."""

    content: Path
    locales: Path
    regulators: Path


def make_workspace(root: Path) -> Workspace:
    content = root / "content" / EXAMPLE.name
    shutil.copytree(EXAMPLE, content)
    locales = root / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    regulators = root / "regulators"
    shutil.copytree(REGULATORS_DIR, regulators)
    return Workspace(content, locales, regulators)


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    """Load ``path`` keeping comments and layout, apply ``change``, write it back."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    data = yaml.load(path.read_text(encoding="utf-8"))
    change(data)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)


def replace_text(ws: Workspace, language: str, loc: tuple[Any, ...], old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` in one field of ``<language>.yaml``."""

    def change(data: Any) -> None:
        node = data
        for part in loc[:-1]:
            node = node[part]
        text = str(node[loc[-1]])
        assert old in text, f"{old!r} not in {language}.yaml {loc}"
        node[loc[-1]] = text.replace(old, new)

    edit_yaml(ws.content / f"{language}.yaml", change)


def field_text(ws: Workspace, language: str, loc: tuple[Any, ...]) -> str:
    node: Any = YAML(typ="safe").load((ws.content / f"{language}.yaml").read_text("utf-8"))
    for part in loc:
        node = node[part]
    return str(node)


def set_text(ws: Workspace, language: str, loc: tuple[Any, ...], value: str) -> None:
    def change(data: Any) -> None:
        node = data
        for part in loc[:-1]:
            node = node[part]
        node[loc[-1]] = value

    edit_yaml(ws.content / f"{language}.yaml", change)


REPORTING = {
    "sv": "Frågor om Lemtrada besvaras av {email}, se även {url} och tel. 0201 200 368.",
    "fi": "Lemtradaa koskeviin kysymyksiin vastaa {email}, katso myös {url} ja puh. 0201 200 368.",
}
EMAIL = "medinfo.finland@sanofi.com"
URL = "https://www.sanofi.fi/lemtrada"


def add_contact_paragraph(ws: Workspace, email: dict[str, str], url: dict[str, str]) -> None:
    """A ``reporting`` paragraph with an e-mail address, a URL and a phone number."""
    for language, template in REPORTING.items():

        def change(data: Any, language: str = language, template: str = template) -> None:
            data["reporting"] = [template.format(email=email[language], url=url[language])]

        edit_yaml(ws.content / f"{language}.yaml", change)


def add_third_language(ws: Workspace) -> None:
    """An English version: the Finnish text filed as English, its date and days the
    English way."""
    (ws.content / "terms.yaml").unlink()
    text = (ws.content / "fi.yaml").read_text(encoding="utf-8")
    text = text.replace("language: fi", "language: en")
    text = text.replace("11. huhtikuuta 2019", "April 11, 2019")
    text = text.replace("1-3 päivän", "1-3 days")
    (ws.content / "en.yaml").write_text(text, encoding="utf-8")
    edit_yaml(ws.content / "dhpc.yaml", lambda data: data["languages"].append("en"))


# --- the defects ---------------------------------------------------------------------------


def dropped_bullet(ws: Workspace) -> None:
    edit_yaml(ws.content / "fi.yaml", lambda data: data["summary"].pop(3))


def changed_range(ws: Workspace) -> None:
    replace_text(ws, "fi", ("sections", 1, "paragraphs", 0), "1-3 päivän", "1-4 päivän")


def changed_date(ws: Workspace) -> None:
    replace_text(ws, "fi", ("background", 0), "11. huhtikuuta 2019", "12. huhtikuuta 2019")


def changed_email(ws: Workspace) -> None:
    add_contact_paragraph(
        ws, {"sv": EMAIL, "fi": "medinfo.finland@sanofi.fi"}, {"sv": URL, "fi": URL}
    )


def changed_url(ws: Workspace) -> None:
    add_contact_paragraph(
        ws, {"sv": EMAIL, "fi": EMAIL}, {"sv": URL, "fi": "https://www.sanofi.fi/lemtada"}
    )


def untranslated_paragraph(ws: Workspace) -> None:
    set_text(ws, "fi", ("background", 2), field_text(ws, "sv", ("background", 2)))


def fuzzy_catalog_entry(ws: Workspace) -> None:
    po = ws.locales / "fi" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgid "Summary"' in text
    po.write_text(text.replace('msgid "Summary"', '#, fuzzy\nmsgid "Summary"'), encoding="utf-8")


def missing_regulator_block(ws: Workspace) -> None:
    edit_yaml(ws.regulators / "FI.yaml", lambda data: data["languages"].pop("fi"))


def wrong_product_name(ws: Workspace) -> None:
    replace_text(ws, "fi", ("sections", 2, "paragraphs", 0), "Lemtradalla", "Ocrevuksella")


def acronym_translated(ws: Workspace) -> None:
    replace_text(ws, "fi", ("summary", 0), "(RRMS)", "(aaltoileva MS)")
    replace_text(ws, "fi", ("summary", 0), "aktiivinen RRMS", "aktiivinen aaltoileva MS")


def termbase_term_replaced(ws: Workspace) -> None:
    replace_text(ws, "fi", ("summary", 1), "mukaan lukien EKG", "mukaan lukien sydänfilmi")


def short_paragraph(ws: Workspace) -> None:
    text = field_text(ws, "fi", ("sections", 2, "paragraphs", 0))
    set_text(ws, "fi", ("sections", 2, "paragraphs", 0), text.split(". ")[0] + ".")


@dataclass(frozen=True)
class Defect:
    name: str
    seed: Callable[[Workspace], None]
    check: str
    field: str


DEFECTS = (
    Defect("dropped bullet", dropped_bullet, "structure", "summary"),
    Defect("1-3 → 1-4 days", changed_range, "numbers", "sections[1].paragraphs[0]"),
    Defect("changed date", changed_date, "numbers", "background[0]"),
    Defect("changed e-mail", changed_email, "contacts", "reporting[0]"),
    Defect("changed URL", changed_url, "contacts", "reporting[0]"),
    Defect("untranslated paragraph", untranslated_paragraph, "untranslated", "background[2]"),
    Defect("fuzzy catalog entry", fuzzy_catalog_entry, "catalog", "msgid 'Summary'"),
    Defect("missing regulator block", missing_regulator_block, "regulator", "languages.fi"),
    Defect("wrong product name", wrong_product_name, "terms", "sections[2].paragraphs[0]"),
    Defect("acronym translated away", acronym_translated, "terms", "summary[0]"),
    Defect("termbase term replaced", termbase_term_replaced, "terms", "summary[1]"),
    Defect("far too short paragraph", short_paragraph, "length", "sections[2].paragraphs[0]"),
)
