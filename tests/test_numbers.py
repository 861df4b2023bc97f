"""The ``numbers`` check: a number is compared with its unit and its comparison sign, in
each language's own words; month names and range words are read only where they are
whole words; the review marks the very occurrence a finding is about."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.units import format_unit
from click.testing import CliRunner
from review_helpers import Workspace, edit_yaml, make_workspace, set_text

from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.fields import text_fields
from dhpc_gen.i18n import available_languages
from dhpc_gen.review.checks import compare_facts, language_pairs, run_checks
from dhpc_gen.review.extract import quantities
from dhpc_gen.review.findings import Finding
from dhpc_gen.review.report import review_rows
from dhpc_gen.review.units import EEA_LANGUAGES
from dhpc_gen.serve.preview import preview_html

SOFT_HYPHEN = "\u00ad"
FIELD = ("summary", 2)
PATH = "summary[2]"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


def add_language(ws: Workspace, language: str) -> None:
    """A letter in ``language`` too: the Finnish text filed under that language."""
    text = (ws.content / "fi.yaml").read_text(encoding="utf-8")
    text = text.replace("language: fi", f"language: {language}")
    (ws.content / f"{language}.yaml").write_text(text, encoding="utf-8")
    edit_yaml(ws.content / "dhpc.yaml", lambda data: data["languages"].append(language))


def numbers_findings(ws: Workspace, texts: dict[str, str], source: str = "sv") -> list[Finding]:
    """The ``numbers`` findings on the field ``summary[2]`` with ``texts`` per language,
    the first being the source language."""
    if source != "sv":
        add_language(ws, source)
        edit_yaml(ws.content / "dhpc.yaml", lambda data: data.update(source_language=source))
    for language, text in texts.items():
        if not (ws.content / f"{language}.yaml").is_file():
            add_language(ws, language)
        set_text(ws, language, FIELD, text)
    found = run_checks(load_dhpc(ws.content), locales_dir=ws.locales, checks=["numbers"])
    return [f for f in found if f.field == PATH and f.language in texts]


def described(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return sorted((f.language, f.severity, f.message) for f in findings)


# --- units and signs ---------------------------------------------------------------------

SV_DOSE = (
    "Sänk dosen från 10 mg/kg till 5 mg/kg med 14 dagars mellanrum. Avbryt behandlingen om "
    "neutrofilerna är < 0,5 × 10⁹/l eller färre än 1 000 celler/µl."
)
FI_DOSE = (
    "Pienennä annos 10 mg/kg:sta 5 mg/kg:aan 14 päivän välein. Keskeytä hoito, jos "
    "neutrofiilit ovat < 0,5 × 10⁹/l tai alle 1 000 solua/µl."
)


def test_a_translation_with_the_same_units_and_signs_in_its_own_words_passes(
    ws: Workspace,
) -> None:
    assert numbers_findings(ws, {"sv": SV_DOSE, "fi": FI_DOSE}) == []


@pytest.mark.parametrize(
    ("was", "now", "message"),
    [
        (
            "10 mg/kg:sta",
            "10 µg/kg:sta",
            "number '10 mg/kg' of the source is '10 µg/kg' in fi: unit 'mg/kg' is 'µg/kg'",
        ),
        (
            "14 päivän",
            "14 viikon",
            "number '14 dagars' of the source is '14 viikon' in fi: unit 'dagars' (days) is "
            "'viikon' (weeks)",
        ),
        (
            "< 0,5",
            "> 0,5",
            "number '< 0,5 × 10⁹/l' of the source is '> 0,5 × 10⁹/l' in fi: sign '<' is '>'",
        ),
        (
            "solua/µl",
            "solua/ml",
            "number 'färre än 1 000 celler/µl' of the source is 'alle 1 000 solua/ml' in fi: "
            "unit 'celler/µl' (/µL) is 'solua/ml' (/mL)",
        ),
        (
            "alle 1 000",
            "yli 1 000",
            "number 'färre än 1 000 celler/µl' of the source is 'yli 1 000 solua/µl' in fi: "
            "sign 'färre än' (<) is 'yli' (>)",
        ),
    ],
)
def test_a_changed_unit_or_sign_is_an_error_naming_both(
    ws: Workspace, was: str, now: str, message: str
) -> None:
    assert was in FI_DOSE
    found = numbers_findings(ws, {"sv": SV_DOSE, "fi": FI_DOSE.replace(was, now)})
    assert described(found) == [("fi", "error", message)]


def test_a_dropped_sign_or_unit_is_a_warning(ws: Workspace) -> None:
    fi = FI_DOSE.replace("< 0,5", "0,5").replace("5 mg/kg:aan", "5:een")
    found = numbers_findings(ws, {"sv": SV_DOSE, "fi": fi})
    assert described(found) == [
        ("fi", "warning", "number '5 mg/kg' of the source is '5' in fi: no unit (mg/kg)"),
        (
            "fi",
            "warning",
            "number '< 0,5 × 10⁹/l' of the source is '0,5 × 10⁹/l' in fi: no sign (<)",
        ),
    ]


def test_a_unit_of_time_left_to_the_context_and_a_likely_sign_word_pass(
    ws: Workspace,
) -> None:
    """ "12 weeks" may be "12 ensimmäisen" (the weeks said before); "< 30" may be "unter
    30" (a word that is "below" before a number, though not always)."""
    fi = FI_DOSE.replace("14 päivän välein", "joka 14. kerta")
    assert numbers_findings(ws, {"sv": SV_DOSE, "fi": fi}) == []
    sv = "eGFR < 30 ml/min, eGFR < 15 ml/min"
    de = "eGFR unter 30 ml/min, eGFR über 15 ml/min"
    found = numbers_findings(ws, {"sv": sv, "de": de})
    assert described(found) == [
        (
            "de",
            "warning",
            "number '< 15 ml/min' of the source is '15 ml/min' in de: sign '<' may be 'über' (>)",
        )
    ]


def test_qa_case_units_and_signs_in_german(ws: Workspace) -> None:
    """`10 mg/kg`→`10 µg/kg`, `< 0,5`→`> 0,5`, `/µl`→`/ml`, `14 dagen`→`14 Wochen`."""
    nl = (
        "Ernstige neutropenie (< 0,5 × 10⁹/l); de dosis wordt verlaagd van 10 mg/kg naar "
        "5 mg/kg om de 14 dagen; onderbreek onder 1.000 cellen/µl."
    )
    de = (
        "Schwere Neutropenien (> 0,5 × 10⁹/l); die Dosis wird von 10 µg/kg auf 5 mg/kg "
        "alle 14 Wochen gesenkt; unterbrechen unter 1.000 Zellen/ml."
    )
    found = numbers_findings(ws, {"nl": nl, "de": de}, source="nl")
    assert [f.severity for f in found if f.language == "de"] == ["error"] * 4
    messages = " | ".join(f.message for f in found if f.language == "de")
    for both in (("'<'", "'>'"), ("'mg/kg'", "'µg/kg'"), ("'dagen'", "'Wochen'"), ("µL", "mL")):
        assert all(part in messages for part in both), (both, messages)


# --- month names only as whole words --------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fr", "contrôlez aux semaines 2, 4 et 8 (domaine 3, 5)"),
        ("es", "en las semanas 2, 4 y 8 (mayores 3, 5)"),
        ("en", "at weeks 2, 4 and 8 (grammar 3, 5)"),
        ("de", "in Woche 2, 4 und 8 (Oktoberfest 3, 5)"),
        ("nl", "in week 2, 4 en 8 (premaart 3, 5)"),
        ("bg", "на седмици 2, 4 и 8 (майка 3, 5)"),
        ("el", "τις εβδομάδες 2, 4 και 8 (Μαρτυρία 3, 5)"),
    ],
)
def test_a_month_name_inside_a_word_is_no_date(ws: Workspace, language: str, text: str) -> None:
    sv = "kontrollera vecka 2, 4 och 8 (marsch 3, 5)"
    assert numbers_findings(ws, {"sv": sv, language: text}) == []


# --- ranges in words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("fr", "dans les 2 à 4 semaines"),
        ("de", "innerhalb von 2 bis 4 Wochen"),
        ("en", "within 2 to 4 weeks"),
        ("nl", "binnen 2 tot 4 weken"),
        ("pl", "w ciągu 2 do 4 tygodni"),
        ("cs", "během 2 až 4 týdnů"),
        ("it", "entro 2 a 4 settimane"),
        ("fi", "2–4 viikon kuluessa"),
        ("el", "εντός 2 έως 4 εβδομάδων"),
        ("en", "within between 2 and 4 weeks"),
    ],
)
def test_a_range_in_words_is_the_same_range(ws: Workspace, language: str, text: str) -> None:
    found = numbers_findings(ws, {"sv": "inom 2-4 veckor", language: text})
    assert found == [], described(found)


def test_a_range_in_words_is_still_compared(ws: Workspace) -> None:
    found = numbers_findings(ws, {"sv": "inom 2-4 veckor", "fr": "dans les 2 à 6 semaines"})
    assert described(found) == [("fr", "error", "range '2-4' of the source is '2 à 6' in fr")]


# --- marks on the exact occurrence ----------------------------------------------------------


def _changed_count(ws: Workspace) -> list[Finding]:
    sv = "Hos 3,2 % av patienterna, varav 5 patienter med feber."
    fi = "3,2 %:lla potilaista, joista 2 potilaalla kuumetta."
    found = numbers_findings(ws, {"sv": sv, "fi": fi})
    (finding,) = found
    assert finding.target_mark == "2" and finding.target_span is not None
    assert finding.target_span == (fi.index(" 2 ") + 1, fi.index(" 2 ") + 2)
    return found


def test_the_review_marks_the_occurrence_the_finding_is_about(ws: Workspace) -> None:
    found = _changed_count(ws)
    dhpc = load_dhpc(ws.content)
    pairs = {lp.target_language: lp for lp in language_pairs(dhpc)}
    rows, _other = review_rows("sv", ["sv", "fi"], text_fields(dhpc.text("sv")), pairs, found)
    (row,) = [r for r in rows if r.path == PATH]
    cells = {c.language: str(c.html) for c in row.cells}
    assert re.search(r"3,2 %:lla potilaista, joista <mark[^>]*>2</mark> potilaalla", cells["fi"])
    assert re.search(r"varav <mark[^>]*>5</mark> patienter", cells["sv"])
    assert cells["fi"].count("<mark") == 1 and cells["sv"].count("<mark") == 1


def test_the_preview_marks_the_occurrence_the_finding_is_about(ws: Workspace) -> None:
    found = _changed_count(ws)
    html = preview_html(load_dhpc(ws.content), "fi", found).replace(SOFT_HYPHEN, "")
    assert re.search(r"joista <mark[^>]*>2</mark> potilaalla", html), html
    assert html.count('<mark class="finding') == 1


def test_a_mark_after_a_link_with_the_same_digits_in_its_address(ws: Workspace) -> None:
    """The preview shows a link's text, not its address: the 2 of the address is not
    counted when finding the 2 the finding is about."""
    sv = "Se [sidan 7](https://www.fimea.fi/2) och 5 patienter, 12 med feber."
    fi = "Katso [sivu 7](https://www.fimea.fi/2) ja 2 potilasta, 12 kuumeisia."
    found = numbers_findings(ws, {"sv": sv, "fi": fi})
    assert [f.target_mark for f in found] == ["2"]
    html = preview_html(load_dhpc(ws.content), "fi", found).replace(SOFT_HYPHEN, "")
    assert re.search(r"ja <mark[^>]*>2</mark> potilasta, 12", html), html


# --- the facts of two texts, each in its language ---------------------------------------------


@pytest.mark.parametrize(
    ("source", "source_language", "target", "target_language"),
    [
        ("1,5 mg", "sv", "1.5 mg", "en"),
        ("1 000 patienter", "sv", "1,000 patients", "en"),
        ("1\u00a0000 patienter", "sv", "1\u202f000 patients", "fr"),
        ("1 000 patienter", "sv", "1'000 Patienten", "de"),
        ("1 000 patienter", "sv", "1\u2019000 Patienten", "de"),
        ("n = 2 500", "fr", "n = 2 500", "en"),
        ("n = 2 500", "fr", "n = 2.500", "de"),
        ("-5 °C", "en", "\u22125 °C", "fi"),
        ("1,73 m²", "sv", "1.73 m2", "en"),
        ("0,5 × 10⁹/l", "sv", "0.5 x 10^9/L", "en"),
        ("0,5 × 10⁹/l", "sv", "0,5 G/l", "fr"),
        ("1,000 cells/µl", "en", "1 000 cellules/mm³", "fr"),
        ("den 1 april 2019", "sv", "01.04.2019", "fi"),
        ("01.04.2019", "fi", "1.4.2019", "de"),
        ("2019-4-1", "sv", "1 april 2019", "sv"),
        ("01 April 2019", "en", "1er avril 2019", "fr"),
        ("April 14", "en", "14 april", "sv"),
        ("3,2 %", "sv", "3,2 prosenttia", "fi"),
        ("2–4 %", "sv", "2-4 Prozent", "de"),
        ("mindst 3 doser", "da", "at least 3 doses", "en"),
        ("≥ 3", "en", "au moins 3", "fr"),
        ("> 38 °C", "en", "yli 38 °C", "fi"),
        ("10 mg/kg/day", "en", "10 mg/kg/vrk", "fi"),
        ("within 24 h", "en", "innerhalb von 24 Stunden", "de"),
        ("18 days (range 7–42 days)", "en", "18 Tage (Bereich 7–42 Tage)", "de"),
        ("65-year-old patients", "en", "65-vuotiaat potilaat", "fi"),
        ("18-jährige", "de", "18letý", "cs"),
        ("20 de zile", "ro", "20 days", "en"),
        ("14-il jum", "mt", "14 days", "en"),
        ("1 dnia", "pl", "1 day", "en"),
        ("3 ημέρες", "el", "3 ημέρες", "el"),
        ("ei yli 5 mg", "fi", "not more than 5 mg", "en"),
        ("from 10 mg/kg to 5 mg/kg", "en", "de 10 mg/kg à 5 mg/kg", "fr"),
        ("from 10 to 5 mg/kg", "en", "de 10 à 5 mg/kg", "fr"),
        ("increase from 2 to 4 mg", "en", "von 2 auf 4 mg erhöhen", "de"),
        ("weeks 2, 4 and 8", "en", "semaines 2, 4 et 8", "fr"),
        ("COVID-19, type 2", "en", "COVID-19, Typ-2-Diabetes", "de"),
        ("waarvan 4 fataal, 2 hersteld", "nl", "dont 4 d'issue fatale, 2 l’ont", "fr"),
    ],
)
def test_the_same_fact_in_two_languages(
    source: str, source_language: str, target: str, target_language: str
) -> None:
    assert compare_facts(source, source_language, target, target_language) == []
    assert quantities(source, source_language)


def test_dhpc_check_names_the_changed_units_and_signs(ws: Workspace) -> None:
    """The command a reviewer runs, on the files: exit 1, each change on its line."""
    set_text(ws, "sv", FIELD, SV_DOSE)
    wrong = FI_DOSE.replace("10 mg/kg:sta", "10 µg/kg:sta").replace("< 0,5", "> 0,5")
    set_text(ws, "fi", FIELD, wrong)
    result = CliRunner().invoke(main, ["check", str(ws.content), "--only", "numbers"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if "[numbers]" in line]
    assert len(lines) == 2, result.stdout
    assert "fi.yaml:" in lines[0] and "summary[2]: error" in lines[0]
    assert "unit 'mg/kg' is 'µg/kg'" in lines[0] + lines[1]
    assert "sign '<' is '>'" in lines[0] + lines[1]


@pytest.mark.parametrize(
    ("source", "source_language", "target", "target_language", "severity", "message"),
    [
        ("-5 °C", "en", "5 °C", "fi", "error", "number '-5' of the source is '5' in fi"),
        ("1,73 m²", "sv", "1.73 m", "en", "error", "unit 'm²' is 'm'"),
        ("2 weeks", "en", "2 Monate", "de", "error", "unit 'weeks' is 'Monate' (months)"),
        ("5 %", "en", "5 ‰", "de", "error", "percent '5 %' of the source is '5 ‰' in de"),
        ("≤ 5 mg", "en", "mindestens 5 mg", "de", "error", "sign '≤' is 'mindestens' (≥)"),
        ("at most 5 mg", "en", "< 5 mg", "fr", "error", "sign 'at most' (≤) is '<'"),
        ("24 hours", "en", "24 minutes", "fr", "error", "unit 'hours' is 'minutes'"),
        ("2 dni", "pl", "2 tygodnie", "pl", "error", "unit 'dni' (days) is 'tygodnie' (weeks)"),
        ("5 mg", "en", "5", "de", "warning", "number '5 mg' of the source is '5' in de: no unit"),
        ("5", "en", "< 5", "de", "warning", "sign '<', which the source has not"),
    ],
)
def test_a_changed_fact_names_both(
    source: str,
    source_language: str,
    target: str,
    target_language: str,
    severity: str,
    message: str,
) -> None:
    (difference,) = compare_facts(source, source_language, target, target_language)
    assert difference.severity == severity and message in difference.message


DURATIONS = {
    "duration-day": "day",
    "duration-week": "week",
    "duration-month": "month",
    "duration-year": "year",
    "duration-hour": "hour",
    "duration-minute": "minute",
}


@pytest.mark.parametrize("language", available_languages())
def test_every_catalog_language_reads_its_units_of_time_as_cldr_writes_them(
    language: str,
) -> None:
    """The words of each language's units, in the plural forms CLDR has for it (Babel's
    ``format_unit``): "2 päivää", "5 dni", "21 de zile", "3 ημέρες", "5 prosenttia"."""
    assert language in EEA_LANGUAGES
    unread = []
    for cldr_unit, unit in [*DURATIONS.items(), ("concentr-percent", "%")]:
        for value in (1, 2, 3, 5, 11, 21, 22, 25, 100):
            written = format_unit(value, cldr_unit, length="long", locale=language)
            if cldr_unit in written:
                continue  # CLDR has no such unit in this language (Irish durations)
            found = [(q.kind, q.value, q.unit) for q in quantities(written, language)]
            wanted = ("percent", f"{value}%", "") if unit == "%" else ("number", str(value), unit)
            if found != [wanted]:
                unread.append((written, found))
    assert unread == []


# --- linear in the text's length ------------------------------------------------------------


@pytest.mark.parametrize(
    ("piece", "language", "kinds"),
    [
        ("1 à 2 à 3 à ", "fr", {"range", "number"}),
        ("< < ≤ 1 ", "fr", {"number"}),
        ("1/mg/kg/kg/", "en", {"number"}),
        ("entre 1 et 2 et ", "fr", {"range"}),
        ("1 × 10⁹ × 10⁹ ", "fr", {"number"}),
        ("se\u00admai\u00adnes 2 mai ", "fr", {"day"}),
        ("- -1 -- -2 ", "fi", {"number", "range"}),
    ],
)
def test_hostile_repetitions_are_read_piece_by_piece(
    piece: str, language: str, kinds: set[str]
) -> None:
    """Text made of one piece repeated up to the length limit of a field: the reading
    goes piece by piece (``benchmarks/numbers_check.py`` shows the time grows linearly)."""
    text = piece * (5000 // len(piece))
    found = quantities(text, language)
    assert {q.kind for q in found} == kinds
    assert len(found) >= 5000 // len(piece) // 2


def test_hungarian_doses_per_kilogram_of_body_weight_are_per_kg() -> None:
    """Hungarian writes a kilogram of body weight "ttkg": "4 ml/ttkg/óra" is 4 mL/kg/h."""
    (hungarian,) = quantities("4 ml/ttkg/óra értékre csökken", "hu")
    (english,) = quantities("reduced to 4 mL/kg/h", "en")
    assert (hungarian.value, hungarian.unit) == (english.value, english.unit) == ("4", "mL/kg/hour")
    (dose,) = quantities("legfeljebb 10 mg/ttkg", "hu")
    assert (dose.value, dose.unit, dose.sign) == ("10", "mg/kg", "≤")


@pytest.mark.parametrize(
    ("written", "language"),
    [
        ("ne pas dépasser 2 ml/kg/h", "fr"),
        ("sans dépasser 2 ml/kg/h", "fr"),
        ("skal ikke overstige 2 ml/kg/time", "nb"),
        ("não exceder 2 ml/kg/h", "pt"),
    ],
)
def test_not_to_exceed_is_at_most(written: str, language: str) -> None:
    """ "Ne pas dépasser 2 ml/kg/h" says what "no more than 2 mL/kg/h" says."""
    (rate,) = quantities(written, language)
    (source,) = quantities("no more than 2 mL/kg/h", "en")
    assert (rate.value, rate.unit, rate.sign) == (source.value, source.unit, source.sign)
