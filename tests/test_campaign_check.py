"""``dhpc check`` and ``dhpc review`` of a campaign: shared texts once, national facts apart."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from dhpc_gen.cli import main
from tests.conftest import CAMPAIGN


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_the_example_is_clean_and_lists_its_deviations_with_references() -> None:
    code, out = run("check", str(CAMPAIGN))
    assert code == 0, out
    assert re.search(
        r"countries/BE\.yaml:\d+ summary\[1\]: note \[deviation\] BE replaces the shared fr "
        r"text here, as its authority asked: AFMPS, courriel du 12 octobre 2026",
        out,
    ), out
    assert "    shared fr: Le fictumab est désormais" in out
    assert "    BE fr: Le fictumab est désormais" in out
    assert re.search(r"countries/AT\.yaml:\d+ background\[2\]: note \[deviation\] AT", out)
    # Notes of the catalogs (entries no native speaker has reviewed) may come before.
    assert re.search(
        r"fictumab-2026: 0 errors, 0 warnings(, \d+ notes \(catalog \d+\))?, 2 national "
        r"deviations; 6 translations checked against en for 10 countries",
        out,
    ), out
    assert run("check", str(CAMPAIGN), "--strict")[0] == 0  # notes never fail


def test_a_shared_text_is_checked_once_for_every_country_using_it(campaign_dir: Path) -> None:
    replace_in(campaign_dir / "de.yaml", "davon 6 mit", "davon 7 mit")
    code, out = run("check", str(campaign_dir))
    assert code == 1
    errors = [line for line in out.splitlines() if ": error [" in line]
    assert len(errors) == 1, out
    assert re.match(r".*de\.yaml:\d+ background\[1\]: error \[numbers\] number '6'", errors[0])
    code, out = run("check", str(campaign_dir), "--country", "FI", "--country", "SE")
    assert code == 0, out
    assert "2 translations checked against en for 2 countries" in out
    assert "[deviation]" not in out


def test_a_deviation_is_checked_against_the_core_and_names_the_country_file(
    campaign_dir: Path,
) -> None:
    belgium = campaign_dir / "countries" / "BE.yaml"
    replace_in(belgium, "      30 ml/min/1,73 m²).", "      40 ml/min/1,73 m²).")
    code, out = run("check", str(campaign_dir), "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["countries"]["BE"] == ["nl", "fr", "de"]
    assert sum(f["check"] == "deviation" for f in document["findings"]) == 2
    (error,) = [f for f in document["findings"] if f["severity"] == "error"]
    assert error["check"] == "numbers" and error["country"] == "BE"
    assert error["language"] == "fr" and error["field"] == "summary[1]"
    assert error["file"].endswith("countries/BE.yaml")
    lines = belgium.read_text(encoding="utf-8").splitlines()
    assert lines[error["line"] - 1].strip().startswith("text:")


def test_a_translation_must_keep_the_placeholders_of_the_core(campaign_dir: Path) -> None:
    replace_in(campaign_dir / "fi.yaml", "ja {authority} kanssa", "ja Fimean kanssa")
    code, out = run("check", str(campaign_dir), "--only", "structure")
    assert code == 1
    assert re.search(
        r"fi\.yaml:\d+ opening: error \[structure\] fi lacks \{authority\} of the source \(en\)",
        out,
    ), out


def test_review_of_the_whole_campaign_signs_each_language_once(tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    code, output = run("review", str(CAMPAIGN), "-o", str(out))
    assert code == 0, output
    assert re.search(r"0 errors, 0 warnings(, \d+ notes \(catalog \d+\))?, 2 national", output)
    html = out.read_text(encoding="utf-8")
    signed = re.findall(r'<table class="signature" data-language="(\w+)"', html)
    assert signed == ["en", "de", "nl", "fr", "el", "fi", "sv"]
    assert "countries AT, BE, CY, DE, FI, GR, IE, MT, NL, SE" in html
    assert len(re.findall(r'class="finding note" data-check="deviation"', html)) == 2, html
    assert "AFMPS, courriel du 12 octobre 2026" in html
    for name in ("fictumab-2026/countries/BE.yaml", "dhpc_gen/regulators/data/SE.yaml"):
        assert f"<code>{name}</code>" in html
    # Each language's thumbnails are of the first country that sends it.
    letters = re.findall(r"<code>(fictumab-2026_\w+\.pdf)</code>", html)
    assert letters == [
        "fictumab-2026_IE_en.pdf",
        "fictumab-2026_AT_de.pdf",
        "fictumab-2026_BE_nl.pdf",
        "fictumab-2026_BE_fr.pdf",
        "fictumab-2026_CY_el.pdf",
        "fictumab-2026_FI_fi.pdf",
        "fictumab-2026_FI_sv.pdf",
    ]


def test_review_of_one_country_shows_its_national_texts(tmp_path: Path) -> None:
    out = tmp_path / "be.html"
    code, output = run("review", str(CAMPAIGN), "--country", "BE", "-o", str(out))
    assert code == 0, output
    html = out.read_text(encoding="utf-8")
    assert re.findall(r'<table class="signature" data-language="(\w+)"', html) == [
        "en", "nl", "fr", "de",
    ]  # fmt: skip
    assert "débit de filtration glomérulaire estimé" in html
    assert "l&#39;Agence fédérale des médicaments" in html
    letters = re.findall(r"<code>(fictumab-2026_\w+\.pdf)</code>", html)
    assert letters == [
        "fictumab-2026_BE_nl.pdf",
        "fictumab-2026_BE_fr.pdf",
        "fictumab-2026_BE_de.pdf",
    ]
    assert "Arzneispezialitätenregister" not in html  # Austria's deviation is not Belgium's
