"""The regulator registry against its source, QRD Appendix V (``appendix-v.md``).

The registry files are checked against a copy of the reference file kept in
``tests/data/appendix-v.md``, so the tests do not depend on anything outside the repo.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dhpc_gen.errors import RegistryError
from dhpc_gen.regulators import registry
from dhpc_gen.resources import LOCALES_DIR, REGULATORS_DIR

LOCAL_APPENDIX_V = Path(__file__).resolve().parent / "data" / "appendix-v.md"

# The final "Country → languages" table of appendix-v.md (ISO 3166-1 → ISO 639-1 codes).
# Liechtenstein (LI) is an EEA country with no row in the source, hence no registry file.
COUNTRY_LANGUAGES: dict[str, tuple[str, ...]] = {
    "AT": ("de",),
    "BE": ("nl", "fr", "de"),
    "BG": ("bg",),
    "CY": ("el",),
    "CZ": ("cs",),
    "DE": ("de",),
    "DK": ("da",),
    "EE": ("et",),
    "ES": ("es",),
    "FI": ("fi", "sv"),
    "FR": ("fr",),
    "GR": ("el",),
    "HR": ("hr",),
    "HU": ("hu",),
    "IE": ("en",),
    "IS": ("is",),
    "IT": ("it",),
    "LT": ("lt",),
    "LU": ("fr", "de"),
    "LV": ("lv",),
    "MT": ("en", "mt"),
    "NL": ("nl",),
    "NO": ("nb",),
    "PL": ("pl",),
    "PT": ("pt",),
    "RO": ("ro",),
    "SE": ("sv",),
    "SI": ("sl",),
    "SK": ("sk",),
}
NOT_IN_SOURCE = ("LI",)
FILED_AS = {("NO", "no"): "nb"}
"""The source's language code → the registry's: Norway's "Norwegian" is filed as Bokmål."""

PAIRS = [(country, lang) for country, langs in COUNTRY_LANGUAGES.items() for lang in langs]


def _source_lines(path: Path) -> list[str]:
    return [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]


def _table_in(path: Path) -> dict[str, tuple[str, ...]]:
    """The final table of appendix-v.md: country code → language codes ('' if not in source)."""
    table: dict[str, tuple[str, ...]] = {}
    for line in _source_lines(path):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[A-Z]{2}", cells[1]):
            codes = re.findall(r"\(([a-z]{2,3})\)", cells[2])
            table[cells[1]] = tuple(FILED_AS.get((cells[1], code), code) for code in codes)
    return table


def test_every_source_country_is_in_the_registry() -> None:
    assert set(COUNTRY_LANGUAGES) <= set(registry.countries())


def test_countries_without_a_source_row_have_no_file() -> None:
    for country in NOT_IN_SOURCE:
        assert country not in registry.countries()
        assert not registry.file_for(country).exists()


def test_registry_languages_are_those_of_the_table() -> None:
    for country, langs in COUNTRY_LANGUAGES.items():
        assert sorted(registry.languages(country)) == sorted(langs), country


@pytest.mark.parametrize(("country", "language"), PAIRS)
def test_lookup_finds_every_pair(country: str, language: str) -> None:
    regulator = registry.lookup(country, language)
    assert regulator.country == country
    assert regulator.language == language
    assert regulator.authority
    assert regulator.short_name
    assert regulator.contact_lines
    assert regulator.contact_lines[0]


@pytest.mark.parametrize(("country", "language"), PAIRS)
def test_call_for_reporting_is_one_sentence_ending_with_a_colon(
    country: str, language: str
) -> None:
    call = registry.lookup(country, language).call_for_reporting
    assert call.endswith(":")
    assert "\n" not in call
    assert ". " not in call, "one sentence only"


JOINED = {("LU", "fr")}
"""Blocks where the source wraps a name over two lines (mid-phrase: "… des médicaments de" /
"la Direction de la santé"); the registry joins them into one line, which the letter wraps
where it must, instead of printing a short line in the middle of a name."""


def _run_at(source: list[str], start: int, lines: list[str], joins: bool) -> bool:
    """``lines`` are the source's from ``start`` on, each one line or (``joins``) several."""
    at = start
    for line in lines:
        widths = range(1, 4) if joins else range(1, 2)
        width = next((w for w in widths if " ".join(source[at : at + w]) == line), None)
        if width is None:
            return False
        at += width
    return True


@pytest.mark.parametrize(("country", "language"), PAIRS)
def test_contact_block_is_verbatim_from_appendix_v(country: str, language: str) -> None:
    source = _source_lines(LOCAL_APPENDIX_V)
    lines = list(registry.lookup(country, language).contact_lines)
    joins = (country, language) in JOINED
    # The block is one run of consecutive source lines, right after the line naming the country.
    starts = [i for i in range(1, len(source)) if _run_at(source, i, lines, joins)]
    assert starts, f"{country}/{language}: the block is not a consecutive run of source lines"
    for i in starts:
        assert source[i - 1] and source[i - 1] != "```text", f"{country}/{language}: country line"
    if joins:
        assert any(line not in source for line in lines), f"{country}/{language}: nothing joined"


def test_luxembourg_french_block_names_the_direction_de_la_sante_on_one_line() -> None:
    (first, *_) = registry.lookup("LU", "fr").contact_lines
    assert first == (
        "Centre Régional de Pharmacovigilance de Nancy ou Division de la pharmacie et des "
        "médicaments de la Direction de la santé"
    )


def test_local_copy_of_appendix_v_has_the_table() -> None:
    assert _table_in(LOCAL_APPENDIX_V) == {**COUNTRY_LANGUAGES, **dict.fromkeys(NOT_IN_SOURCE, ())}


def test_norway_is_filed_in_bokmal_the_language_of_its_catalog() -> None:
    """A DHPC for Norway is written in nb, the catalog's code: the block must be found there."""
    assert registry.languages("NO") == ["nb"]
    assert registry.lookup("NO", "nb").short_name == "DMP"
    assert (LOCALES_DIR / "nb" / "LC_MESSAGES" / "messages.po").is_file()


def test_finnish_swedish_block_starts_with_the_website() -> None:
    assert registry.lookup("FI", "sv").contact_lines[0] == "webbplats: www.fimea.fi"


def test_unknown_country_raises() -> None:
    with pytest.raises(RegistryError):
        registry.lookup("LI", "de")


def test_missing_language_names_the_file_to_edit() -> None:
    with pytest.raises(RegistryError) as excinfo:
        registry.lookup("FI", "de")
    message = str(excinfo.value)
    assert "dhpc_gen/regulators/data/FI.yaml" in message
    assert "FI.yaml" in message


def test_a_letter_reads_its_own_countrys_file_only(tmp_path: Path) -> None:
    """A broken file of another country stops nothing but lookups of that country."""
    folder = tmp_path / "registry"
    shutil.copytree(REGULATORS_DIR, folder)
    (folder / "SE.yaml").write_text("country: SE\nname: [broken\n", encoding="utf-8")
    assert registry.lookup("FI", "fi", folder).short_name == "Fimea"
    assert "SE" in registry.countries(folder)
    with pytest.raises(RegistryError, match=r"SE\.yaml: invalid regulator file"):
        registry.lookup("SE", "sv", folder)
    with pytest.raises(RegistryError, match=r"unknown country '\.\./x'"):
        registry.lookup("../x", "sv", folder)


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    """A long-running process (dhpc serve) sees an edited registry file."""
    folder = tmp_path / "registry"
    shutil.copytree(REGULATORS_DIR, folder)
    finland = folder / "FI.yaml"
    before = registry.lookup("FI", "fi", folder).authority
    finland.write_text(
        finland.read_text(encoding="utf-8").replace(before, "Fimea (muutettu)", 1),
        encoding="utf-8",
    )
    assert registry.lookup("FI", "fi", folder).authority == "Fimea (muutettu)"
