"""``dhpc check``: each translation check, the seeded-defect corpus, and the command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from review_helpers import (
    DEFECTS,
    EXAMPLE,
    Defect,
    Workspace,
    add_third_language,
    edit_yaml,
    make_workspace,
    replace_text,
    set_text,
)

from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.markup import plain_text
from dhpc_gen.errors import ContentError, UsageError
from dhpc_gen.review.align import align, pair_fields
from dhpc_gen.review.checks import check_catalog, language_pairs, placeholders, run_checks
from dhpc_gen.review.extract import contacts, facts, term_spans
from dhpc_gen.review.findings import CHECK_IDS, Finding, findings_json, sort_findings
from dhpc_gen.review.termbase import TERMS_FILE, load_termbase, termbase_for


def check(ws: Workspace, *, notes: bool = False) -> list[Finding]:
    """The findings on ``ws``; without the notes on unreviewed catalogs unless asked."""
    dhpc = load_dhpc(ws.content)
    found = run_checks(
        dhpc,
        termbase=termbase_for(dhpc),
        locales_dir=ws.locales,
        registry_dir=ws.regulators,
    )
    return [f for f in found if notes or f.severity != "note"]


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_error]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


# --- the bundled example --------------------------------------------------------------------


def test_clean_example_has_only_notes_on_unreviewed_catalogs(ws: Workspace) -> None:
    found = check(ws, notes=True)
    assert {(f.check, f.severity, f.code) for f in found} == {("catalog", "note", "unreviewed")}
    # Finnish: nobody has reviewed any of it; Swedish: the entries not in the printed letter.
    assert [f.field for f in found if f.language == "fi"] == [""]
    assert "msgid 'DRAFT'" in {f.field for f in found if f.language == "sv"}
    assert "msgid 'Summary'" not in {f.field for f in found if f.language == "sv"}


def test_bundled_example_in_place_is_clean() -> None:
    dhpc = load_dhpc(EXAMPLE)
    assert errors(run_checks(dhpc, termbase=termbase_for(dhpc))) == []


def test_example_has_a_termbase_the_checks_use() -> None:
    termbase = termbase_for(load_dhpc(EXAMPLE))
    assert (EXAMPLE / TERMS_FILE).resolve() in [p.resolve() for p in termbase.files]
    for acronym in ("RRMS", "DMT", "HLH", "EMA", "Lemtrada"):
        assert acronym in termbase.must_not_translate
    forms = {t.forms.get("sv", ("",))[0]: t.forms.get("fi") for t in termbase.must_use}
    assert forms["alemtuzumab"] == ("alemtutsumabi",)
    assert forms["EKG"] == ("EKG",)


# --- the seeded defects ---------------------------------------------------------------------


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_seeded_defect_is_caught_by_its_check(ws: Workspace, defect: Defect) -> None:
    defect.seed(ws)
    found = errors(check(ws))
    assert {f.check for f in found} == {defect.check}, [str(f) for f in found]
    at_field = [f for f in found if f.field == defect.field]
    assert at_field, [f.field for f in found]
    assert all(f.language == "fi" for f in at_field)


def test_dropped_bullet_names_the_likely_bullet_and_the_line(ws: Workspace) -> None:
    edit_yaml(ws.content / "fi.yaml", lambda data: data["summary"].pop(3))
    (finding,) = errors(check(ws))
    assert finding.field == "summary"
    assert "4 entries" in finding.message and "has 5" in finding.message
    assert "summary[3]" in finding.message
    assert finding.source.startswith("Vid symtom på leverskada")
    lines = (ws.content / "fi.yaml").read_text(encoding="utf-8").splitlines()
    assert finding.line is not None and lines[finding.line - 1].startswith("summary:")
    assert finding.file.endswith("fi.yaml")


def test_changed_range_marks_both_numbers(ws: Workspace) -> None:
    replace_text(ws, "fi", ("sections", 1, "paragraphs", 0), "1-3 päivän", "1-4 päivän")
    (finding,) = errors(check(ws))
    assert (finding.source_mark, finding.target_mark) == ("1-3", "1-4")
    assert "1-3" in finding.source and "1-4" in finding.target
    assert finding.line is not None
    line = (ws.content / "fi.yaml").read_text(encoding="utf-8").splitlines()[finding.line - 1]
    assert "1-4" in line or line.strip().startswith("- ")


def test_added_bullet_is_a_structure_error(ws: Workspace) -> None:
    edit_yaml(ws.content / "fi.yaml", lambda data: data["summary"].append("Uusi kohta."))
    (finding,) = errors(check(ws))
    assert finding.check == "structure" and "summary[5]" in finding.message


def test_dropped_list_item_inside_a_paragraph(ws: Workspace) -> None:
    for language, items in (("sv", "- ett\n- två\n- tre"), ("fi", "- yksi\n- kaksi")):
        set_text(ws, language, ("background", 3), f"Text.\n\n{items}")
    found = [f for f in errors(check(ws)) if f.check == "structure"]
    assert [f.field for f in found] == ["background[3]"]
    assert "2 list items" in found[0].message


def test_optional_field_set_only_in_translation_is_a_warning(ws: Workspace) -> None:
    edit_yaml(ws.content / "fi.yaml", lambda data: data.insert(1, "salutation", "Hyvä lääkäri"))
    found = check(ws)
    assert [(f.check, f.severity, f.field) for f in found] == [
        ("structure", "warning", "salutation")
    ]


def test_number_only_in_translation_is_a_warning(ws: Workspace) -> None:
    replace_text(ws, "fi", ("summary", 2), "hoidon aikana.", "hoidon aikana (2 kertaa).")
    found = [f for f in check(ws) if f.check == "numbers"]
    assert [(f.severity, f.target_mark) for f in found] == [("warning", "2")]


def test_untranslated_sentence_inside_a_translated_paragraph(ws: Workspace) -> None:
    sv = "Reaktioner kan uppträda efter vilken som helst av doserna under behandlingskuren."
    replace_text(
        ws,
        "fi",
        ("sections", 1, "paragraphs", 0),
        "Reaktioita voi ilmetä minkä tahansa hoitojakson annoksen jälkeen.",
        sv,
    )
    found = [f for f in check(ws) if f.check == "untranslated"]
    assert [(f.severity, f.target_mark) for f in found] == [("warning", sv)]


def test_translation_using_its_own_termbase_form_is_fine(ws: Workspace) -> None:
    # The Finnish form of the substance, inflected, counts; the Swedish form does not.
    replace_text(ws, "fi", ("summary", 1), "Alemtutsumabilla", "Alemtuzumabilla")
    found = check(ws)
    assert [(f.check, f.severity, f.field) for f in found] == [("terms", "warning", "summary[1]")]
    assert "'alemtuzumab' 2 times, fi has 'alemtutsumabi' 1 times" in found[0].message
    replace_text(ws, "fi", ("summary", 1), "alemtutsumabi-infuusiota", "alemtuzumab-infuusiota")
    found = check(ws)
    assert [(f.check, f.severity, f.field) for f in found] == [("terms", "error", "summary[1]")]
    assert "fi must be 'alemtutsumabi'" in found[0].message


def test_wrong_active_substance_in_language_file(ws: Workspace) -> None:
    set_text(ws, "fi", ("active_substances", 0), "alemtuzumab")
    found = errors(check(ws))
    assert {f.check for f in found} == {"terms"}
    assert "active_substances[0]" in {f.field for f in found}


def test_termbase_without_the_target_language_is_reported(ws: Workspace) -> None:
    (ws.content / TERMS_FILE).write_text(
        "must_use:\n  - {sv: hjärtinfarkt, en: myocardial infarction}\n", encoding="utf-8"
    )
    found = check(ws)
    assert [(f.check, f.severity, f.field) for f in found] == [("terms", "warning", "must_use")]
    assert "no fi form of 'hjärtinfarkt'" in found[0].message


def test_invalid_termbase_names_file_and_line(ws: Workspace) -> None:
    (ws.content / TERMS_FILE).write_text(
        "must_use:\n  - sv: EKG\n    Finnish: EKG\nmust_not_translate: [EMA]\n", encoding="utf-8"
    )
    with pytest.raises(ContentError) as caught:
        load_termbase(ws.content / TERMS_FILE)
    assert re.search(
        r"terms\.yaml:3 must_use\[0\]\.Finnish: expected a language code", str(caught.value)
    )


def test_termbase_linked_outside_the_folder_only_when_named(ws: Workspace, tmp_path: Path) -> None:
    """DIR/terms.yaml may not lead out of the folder; a --terms file the user names may."""
    shared = tmp_path / "shared" / "terms.yaml"
    shared.parent.mkdir()
    shared.write_text("must_not_translate: [Fimea]\n", encoding="utf-8")
    link = tmp_path / "mine" / "terms.yaml"
    link.parent.mkdir()
    link.symlink_to(shared)
    dhpc = load_dhpc(ws.content)
    assert "Fimea" in termbase_for(dhpc, [link]).must_not_translate
    (ws.content / TERMS_FILE).unlink()
    (ws.content / TERMS_FILE).symlink_to(shared)
    with pytest.raises(ContentError, match=r"terms\.yaml: is a link to a file outside its folder"):
        termbase_for(dhpc)


# --- catalogs -------------------------------------------------------------------------------


def _po(ws: Workspace, language: str) -> Path:
    return ws.locales / language / "LC_MESSAGES" / "messages.po"


def _catalog_findings(ws: Workspace) -> list[Finding]:
    """The catalog findings on ``ws`` but the notes (tests/test_catalogs.py has those)."""
    found = check_catalog(load_dhpc(ws.content), ws.locales)
    return [f for f in found if f.severity != "note"]


def test_catalog_placeholder_mismatch_untranslated_and_obsolete(ws: Workspace) -> None:
    po = _po(ws, "fi")
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgstr "Yhteenveto"', 'msgstr ""')
    text += (
        '\nmsgid "Page %(page)s of {total}"\nmsgstr "Sivu %(sivu)s / {total}"\n'
        '\n#~ msgid "Old text"\n#~ msgstr "Vanha teksti"\n'
    )
    po.write_text(text, encoding="utf-8")
    found = {(f.field, f.severity, f.message.split(":")[0]) for f in _catalog_findings(ws)}
    assert found == {
        ("msgid 'Summary'", "error", "not translated"),
        ("msgid 'Page %(page)s of {total}'", "error", "placeholders differ"),
        ("msgid 'Old text'", "warning", "obsolete entry (#~)"),
    }


def test_catalog_entry_missing_against_template(ws: Workspace) -> None:
    pot = ws.locales / "messages.pot"
    pot.write_text(
        pot.read_text(encoding="utf-8") + '\nmsgid "Brand new"\nmsgstr ""\n', encoding="utf-8"
    )
    found = _catalog_findings(ws)
    assert {(f.language, f.field) for f in found} == {
        ("sv", "msgid 'Brand new'"),
        ("fi", "msgid 'Brand new'"),
    }


def test_letter_override_counts_as_translation(ws: Workspace) -> None:
    po = _po(ws, "fi")
    po.write_text(
        po.read_text(encoding="utf-8").replace('msgstr "Yhteenveto"', 'msgstr ""'),
        encoding="utf-8",
    )
    edit_yaml(
        ws.content / "fi.yaml",
        lambda data: data.insert(len(data), "boilerplate", {"Summary": "Tiivistelmä"}),
    )
    assert [f for f in _catalog_findings(ws) if f.is_error] == []


def test_missing_catalog_is_an_error(ws: Workspace) -> None:
    _po(ws, "fi").unlink()
    (finding,) = _catalog_findings(ws)
    assert finding.is_error and finding.language == "fi" and "no catalog" in finding.message


def test_placeholders() -> None:
    assert placeholders("%(name)s and {count} and %d, 100%%") == ["%(name)s", "%d", "{count}"]


# --- extraction -----------------------------------------------------------------------------


def values(text: str, language: str) -> set[str]:
    return {t.value for t in facts(text, language)}


def test_example_date_is_the_same_in_swedish_and_finnish() -> None:
    dhpc = load_dhpc(EXAMPLE)
    sv = plain_text(dhpc.text("sv").background[0])
    fi = plain_text(dhpc.text("fi").background[0])
    assert "11 april 2019" in sv and "11. huhtikuuta 2019" in fi
    assert values(sv, "sv") == values(fi, "fi") == {"2019-04-11"}


@pytest.mark.parametrize(
    ("source", "source_language", "target", "target_language"),
    [
        ("inom 1-3 dagar", "sv", "1–3 päivän kuluessa", "fi"),
        ("1,5 mg", "sv", "1.5 mg", "fi"),
        ("1,5 mg", "sv", "1,5 mg", "fi"),
        ("2 500 patienter", "sv", "2,500 patients", "en"),
        ("5 % av fallen", "sv", "5% of cases", "en"),
        ("den 11 april 2019", "sv", "April 11, 2019", "en"),
        ("11.4.2019", "fi", "2019-04-11", "sv"),
        ("11. huhtikuuta 2019", "fi", "11. April 2019", "de"),
        ("huhtikuussa 2019", "fi", "i april 2019", "sv"),
        ("11 de abril de 2019", "es", "2019. április 11.", "hu"),
    ],
)
def test_same_fact_in_two_languages(
    source: str, source_language: str, target: str, target_language: str
) -> None:
    assert values(source, source_language) == values(target, target_language)
    assert values(source, source_language)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("inom 1-3 dagar", "sv", {"1–3"}),
        ("1-4 päivää", "fi", {"1–4"}),
        ("12 april 2019", "sv", {"2019-04-12"}),
        ("1,500 mg", "en", {"1500"}),
        ("1,500 mg", "sv", {"1.5"}),
        ("t.ex. 3 doser, bl.a 2", "sv", {"3", "2"}),
        ("I en majoritet av 10 fall", "sv", {"10"}),
    ],
)
def test_facts(text: str, language: str, expected: set[str]) -> None:
    assert values(text, language) == expected


def test_contacts_are_not_numbers() -> None:
    text = "Ring 0201 200 368 eller skriv till info@sanofi.fi, se www.fimea.fi/a. Den 1.4.2019"
    found = {(t.kind, t.value) for t in contacts(text)}
    assert found == {
        ("phone", "0201200368"),
        ("email", "info@sanofi.fi"),
        ("url", "www.fimea.fi/a"),
    }
    assert values(text, "sv") == {"2019-04-01"}
    assert contacts("t.ex. bl.a. s.k. d.v.s.") == []


def test_terms_match_inflected_forms_and_acronyms_by_case() -> None:
    text = "HLH:ta ja HLH-diagnoosia; Lemtradan, lemtrada-infuusio; EMAIL ja hlh"
    assert len(term_spans(text, "HLH")) == 2
    assert len(term_spans(text, "Lemtrada")) == 2
    assert term_spans(text, "EMA") == []


# --- alignment ------------------------------------------------------------------------------


def test_alignment_pairs_the_remaining_bullets_after_a_drop(ws: Workspace) -> None:
    edit_yaml(ws.content / "fi.yaml", lambda data: data["summary"].pop(1))
    dhpc = load_dhpc(ws.content)
    pairs = {
        p.path: (p.target.path if p.target else None)
        for p in pair_fields(dhpc.text("sv"), dhpc.text("fi"))
    }
    assert [pairs[f"summary[{i}]"] for i in range(5)] == [
        "summary[0]",
        None,
        "summary[1]",
        "summary[2]",
        "summary[3]",
    ]
    # every field of the source is there once, in reading order
    assert list(pairs) == [f.path for f in text_fields(dhpc.text("sv"))]


def test_language_pairs_skip_the_source() -> None:
    dhpc = load_dhpc(EXAMPLE)
    assert [(lp.source_language, lp.target_language) for lp in language_pairs(dhpc)] == [
        ("sv", "fi")
    ]


def test_unknown_check_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        run_checks(load_dhpc(EXAMPLE), checks=["spelling"])


# --- findings and JSON ----------------------------------------------------------------------


def test_findings_sort_fields_naturally() -> None:
    made = [
        Finding("numbers", "error", "fi", f"summary[{i}]", "m", file="fi.yaml") for i in (10, 2)
    ]
    assert [f.field for f in sort_findings(made)] == ["summary[2]", "summary[10]"]
    with pytest.raises(ValueError):
        Finding("spelling", "error", "fi", "", "m")


def test_json_is_stable_and_complete(ws: Workspace) -> None:
    changed_range_and_bullet(ws)
    dhpc = load_dhpc(ws.content)
    found = run_checks(dhpc, termbase=termbase_for(dhpc), locales_dir=ws.locales)
    first = findings_json(
        found, dhpc_id=dhpc.id, source_language="sv", languages=dhpc.meta.languages
    )
    again = findings_json(
        list(reversed(found)), dhpc_id=dhpc.id, source_language="sv", languages=["sv", "fi"]
    )
    assert first == again
    document = json.loads(first)
    assert document["counts"]["error"] == 2
    assert document["counts"]["by_check"]["numbers"] == {"error": 1, "warning": 0, "note": 0}
    assert document["counts"]["note"] == 8  # the unreviewed catalog entries of sv and fi
    assert set(document["counts"]["by_check"]) == set(CHECK_IDS)
    keys = {
        "check",
        "severity",
        "language",
        "field",
        "message",
        "source",
        "target",
        "source_mark",
        "target_mark",
        "file",
        "line",
        "code",
        "source_span",
        "target_span",
    }
    assert all(set(f) == keys for f in document["findings"])
    (numbers,) = [f for f in document["findings"] if f["check"] == "numbers"]
    assert (numbers["source_mark"], numbers["target_mark"]) == ("1-3", "1-4")
    for key in ("source_span", "target_span"):
        assert isinstance(numbers[key], list) and len(numbers[key]) == 2, key


def changed_range_and_bullet(ws: Workspace) -> None:
    replace_text(ws, "fi", ("sections", 1, "paragraphs", 0), "1-3 päivän", "1-4 päivän")
    edit_yaml(ws.content / "fi.yaml", lambda data: data["summary"].pop(3))


# --- the command ----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_command_clean_example_exits_0() -> None:
    code, out, _err = run("check", str(EXAMPLE))
    assert code == 0
    assert "0 errors, 0 warnings" in out


def test_command_exits_1_and_names_file_line_field(ws: Workspace) -> None:
    changed_range_and_bullet(ws)
    code, out, _err = run("check", str(ws.content))
    assert code == 1
    assert re.search(r"fi\.yaml:\d+ sections\[1\]\.paragraphs\[0\]: error \[numbers\]", out)
    assert re.search(r"fi\.yaml:\d+ summary: error \[structure\]", out)
    assert "sv: …" in out and "fi: …" in out
    assert "2 errors, 0 warnings, 8 notes (structure 1, numbers 1, catalog 8)" in out


def test_command_json_is_the_same_twice(ws: Workspace) -> None:
    changed_range_and_bullet(ws)
    code, first, _ = run("check", str(ws.content), "--format", "json")
    _, again, _ = run("check", str(ws.content), "--format", "json")
    assert code == 1 and first == again
    # in reading order of fi.yaml: the summary comes before the sections
    findings = json.loads(first)["findings"]
    assert [f["check"] for f in findings if f["severity"] != "note"] == ["structure", "numbers"]


def test_command_warnings_fail_only_with_strict(ws: Workspace) -> None:
    edit_yaml(ws.content / "fi.yaml", lambda data: data.insert(1, "salutation", "Hyvä lääkäri"))
    assert run("check", str(ws.content))[0] == 0
    assert run("check", str(ws.content), "--strict")[0] == 1


def test_command_only_runs_the_named_checks(ws: Workspace) -> None:
    changed_range_and_bullet(ws)
    code, out, _ = run("check", str(ws.content), "--only", "structure", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["checks"] == ["structure"]
    assert {f["check"] for f in document["findings"]} == {"structure"}


def test_command_extra_termbase(ws: Workspace, tmp_path: Path) -> None:
    terms = tmp_path / "global-terms.yaml"
    terms.write_text("must_use:\n  - {sv: stroke, fi: aivoinfarkti}\n", encoding="utf-8")
    code, out, _ = run("check", str(ws.content), "--terms", str(terms))
    assert code == 1
    assert "the source has 'stroke'; fi must be 'aivoinfarkti'" in out


def test_command_bad_input_and_usage(tmp_path: Path, ws: Workspace) -> None:
    code, _out, err = run("check", str(tmp_path / "nowhere"))
    assert code == 1 and "no such content folder" in err
    code, _out, err = run("check", str(ws.content), "--only", "spelling")
    assert code == 2
    (ws.content / TERMS_FILE).write_text("must_use: [1, 2]\n", encoding="utf-8")
    code, _out, err = run("check", str(ws.content))
    assert code == 1 and "terms.yaml:1 must_use[0]" in err and "Traceback" not in err


def test_each_translation_is_checked_on_its_own(ws: Workspace) -> None:
    # A third language with one bullet dropped, in a country whose registry has no
    # English reporting block.
    add_third_language(ws)
    edit_yaml(ws.content / "en.yaml", lambda data: data["summary"].pop(0))
    found = check(ws)
    assert [(f.check, f.language, f.field) for f in found] == [
        ("structure", "en", "summary"),
        ("regulator", "en", "languages.en"),
    ]
    assert "most likely missing: summary[0]" in found[0].message
    assert "no 'en' reporting block for FI" in found[1].message


def test_alignment_of_huge_lists_pairs_in_order_without_the_table() -> None:
    def cost(i: int, j: int) -> float:
        raise AssertionError("no cost table for lists this long")

    pairs = align(["x"] * 1000, ["y"] * 998, cost)
    assert pairs[:2] == [(0, 0), (1, 1)] and pairs[-2:] == [(998, None), (999, None)]
    assert len(pairs) == 1000
