"""XLIFF 1.2 to and from translation vendors: export, import, byte-exact round trips, refusals."""

from __future__ import annotations

import difflib
import filecmp
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from dhpc_gen.build import render_letters
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.editor import edit_language_file, fold_positions
from dhpc_gen.content.fields import parse_field_path, text_fields
from dhpc_gen.content.model import LanguageText
from dhpc_gen.errors import DhpcError, UsageError
from dhpc_gen.exchange.xliff import XLIFF_NS, export_xliff, import_xliff
from dhpc_gen.fsutil import sha256_file
from tests.conftest import CAMPAIGN, EXAMPLE, PROJECT
from tests.pdf_helpers import pdftotext

NS = f"{{{XLIFF_NS}}}"


# --- helpers ---------------------------------------------------------------------------


def texts_of(path: Path) -> dict[str, str]:
    """Field path → text of one language file, through the model."""
    data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    return {f.path: f.text for f in text_fields(LanguageText.model_validate(data))}


def units_of(xlf: Path) -> dict[str, ET.Element]:
    root = ET.parse(xlf).getroot()
    return {unit.get("id", ""): unit for unit in root.iter(f"{NS}trans-unit")}


def vendor_edit(
    xlf: Path,
    targets: Mapping[str, str] = {},
    *,
    file_attributes: Mapping[str, str] = {},
) -> None:
    """Change targets (and <file> attributes) the way a CAT tool would, and save."""
    tree = ET.parse(xlf)
    root = tree.getroot()
    for unit in root.iter(f"{NS}trans-unit"):
        if unit.get("id") in targets:
            target = unit.find(f"{NS}target")
            assert target is not None
            target.text = targets[unit.get("id", "")]
            target.set("state", "translated")
    file_element = root.find(f"{NS}file")
    assert file_element is not None
    for name, value in file_attributes.items():
        file_element.set(name, value)
    # ET writes ns0: prefixes: another tool's style, still XLIFF 1.2.
    xlf.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def exported(example_dir: Path, name: str = "fi.xlf") -> Path:
    xlf = example_dir.parent / name
    export_xliff(example_dir, xlf, target="fi")
    return xlf


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# --- export ----------------------------------------------------------------------------


def test_export_has_one_unit_per_text_field_with_context(example_dir: Path) -> None:
    xlf = exported(example_dir)
    root = ET.parse(xlf).getroot()
    assert root.tag == f"{NS}xliff" and root.get("version") == "1.2"
    files = root.findall(f"{NS}file")
    assert len(files) == 1
    file_element = files[0]
    assert file_element.get("original") == "lemtrada-2019"
    assert file_element.get("source-language") == "sv"
    assert file_element.get("target-language") == "fi"
    props = {p.get("prop-type"): p.text for p in file_element.iter(f"{NS}prop")}
    assert props["source-sha256"] == sha256_file(example_dir / "sv.yaml")
    assert props["target-sha256"] == sha256_file(example_dir / "fi.yaml")

    source = texts_of(example_dir / "sv.yaml")
    target = texts_of(example_dir / "fi.yaml")
    units = units_of(xlf)
    assert list(units) == list(source)
    for path, unit in units.items():
        assert unit.findtext(f"{NS}source") == source[path]
        target_element = unit.find(f"{NS}target")
        assert target_element is not None
        assert target_element.text == target[path]
        assert target_element.get("state") == "translated"
    notes = [n.text for n in units["summary[2]"].iter(f"{NS}note")]
    assert any(n and n.startswith("bullet:") for n in notes)
    assert "section: Sammanfattning" in notes
    section_notes = [n.text for n in units["sections[1].paragraphs[0]"].iter(f"{NS}note")]
    assert f"section: {source['sections[1].heading']}" in section_notes


def test_export_is_reproducible_and_marks_missing_translations_new(example_dir: Path) -> None:
    first = exported(example_dir, "a.xlf").read_bytes()
    assert exported(example_dir, "b.xlf").read_bytes() == first

    (example_dir / "fi.yaml").unlink()
    result = export_xliff(example_dir, example_dir.parent / "new.xlf", target="fi")
    assert result.translated == 0 and result.units == len(texts_of(example_dir / "sv.yaml"))
    for unit in units_of(example_dir.parent / "new.xlf").values():
        target = unit.find(f"{NS}target")
        assert target is not None and target.get("state") == "new" and not target.text


def test_export_target_must_be_a_target_language(example_dir: Path) -> None:
    out = example_dir.parent / "x.xlf"
    with pytest.raises(UsageError, match="source language"):
        export_xliff(example_dir, out, target="sv")
    with pytest.raises(UsageError, match=r"add 'de' to languages in .*dhpc\.yaml"):
        export_xliff(example_dir, out, target="de")
    assert not out.exists()
    # With one target language, --target may be left out.
    assert export_xliff(example_dir, out).language == "fi"


# --- import: exact round trips -----------------------------------------------------------


def test_unchanged_round_trip_leaves_every_file_byte_identical(example_dir: Path) -> None:
    xlf = exported(example_dir)
    before = snapshot(example_dir)
    result = import_xliff(example_dir, xlf)
    assert result.changed == () and result.added == () and not result.written
    assert result.unchanged == len(units_of(xlf))
    assert snapshot(example_dir) == before
    assert filecmp.cmp(example_dir / "fi.yaml", EXAMPLE / "fi.yaml", shallow=False)

    # Also after another tool re-serialised the XML.
    vendor_edit(xlf)
    import_xliff(example_dir, xlf)
    assert snapshot(example_dir) == before


def changed_region(before: str, after: str) -> tuple[list[str], list[str]]:
    """The one block of lines that differs (old lines, new lines)."""
    old, new = before.splitlines(), after.splitlines()
    blocks = [op for op in difflib.SequenceMatcher(a=old, b=new).get_opcodes() if op[0] != "equal"]
    assert len(blocks) == 1, blocks
    _, i1, i2, j1, j2 = blocks[0]
    return old[i1:i2], new[j1:j2]


def test_one_changed_unit_changes_only_its_value_and_keeps_it_folded(example_dir: Path) -> None:
    xlf = exported(example_dir)
    fi = example_dir / "fi.yaml"
    before = fi.read_text(encoding="utf-8")
    new_text = (
        "Alemtutsumabilla hoidettavien potilaiden vitaalielintoimintoja on seurattava tarkasti "
        "ennen infuusiota, sen aikana ja sen jälkeen, ja poikkeavista arvoista on "
        "keskusteltava hoitavan neurologin kanssa ennen seuraavaa annosta."
    )
    vendor_edit(xlf, {"summary[1]": new_text})
    result = import_xliff(example_dir, xlf)
    assert result.changed == ("summary[1]",) and result.written
    after = fi.read_text(encoding="utf-8")
    old_lines, new_lines = changed_region(before, after)
    assert old_lines[0].startswith("    Alemtutsumabilla hoidettavien")
    # Still the item of a folded scalar: only its content lines changed, wrapped to the file.
    assert all(line.startswith("    ") and len(line) <= 95 for line in new_lines)
    assert len(new_lines) >= 2
    assert " ".join(line.strip() for line in new_lines) == new_text
    assert after.startswith("# Finnish: an example translation")
    texts = texts_of(fi)
    expected = texts_of(EXAMPLE / "fi.yaml") | {"summary[1]": new_text}
    assert texts == expected
    load_dhpc(example_dir)


def test_long_plain_value_becomes_folded_short_one_stays_plain(example_dir: Path) -> None:
    xlf = exported(example_dir)
    fi = example_dir / "fi.yaml"
    long_text = "Maksan toiminta on arvioitava ennen hoitoa ja hoidon aikana, " * 3
    vendor_edit(xlf, {"summary[2]": long_text.strip()})
    import_xliff(example_dir, xlf)
    before = (EXAMPLE / "fi.yaml").read_text(encoding="utf-8")
    old_lines, new_lines = changed_region(before, fi.read_text(encoding="utf-8"))
    assert old_lines == ["  - Maksan toiminta on arvioitava ennen hoitoa ja hoidon aikana."]
    assert new_lines[0] == "  - >-" and len(new_lines) >= 3

    # A folded value stays folded, however short; a plain one stays plain.
    vendor_edit(xlf, {"summary[2]": "Maksan toiminta arvioidaan."})
    import_xliff(example_dir, xlf)
    _, new_lines = changed_region(before, fi.read_text(encoding="utf-8"))
    assert new_lines == ["  - >-", "    Maksan toiminta arvioidaan."]
    shutil.copy(EXAMPLE / "fi.yaml", fi)
    import_xliff(example_dir, xlf)
    _, new_lines = changed_region(before, fi.read_text(encoding="utf-8"))
    assert new_lines == ["  - Maksan toiminta arvioidaan."]


def test_difference_only_in_spacing_keeps_the_value(example_dir: Path) -> None:
    xlf = exported(example_dir)
    opening = texts_of(example_dir / "fi.yaml")["opening"]
    vendor_edit(xlf, {"opening": opening.replace(" ", "  ", 3)})
    result = import_xliff(example_dir, xlf)
    assert result.whitespace_only == ("opening",) and not result.written
    assert filecmp.cmp(example_dir / "fi.yaml", EXAMPLE / "fi.yaml", shallow=False)


def test_new_bullet_section_and_boilerplate_are_added_in_place(example_dir: Path) -> None:
    sv = example_dir / "sv.yaml"
    text = sv.read_text(encoding="utf-8")
    text = text.replace(
        "    uppträder några dagar efter infusion eller symtom på leverskada.\n",
        "    uppträder några dagar efter infusion eller symtom på leverskada.\n"
        "  - Behandlingen ska avbrytas vid tecken på HLH.\n",
    )
    text += (
        "\nboilerplate:\n  Summary: Sammanfattning av säkerhetsinformationen\n"
        '  "Don\'t": Gör inte\n'
    )
    sv.write_text(text, encoding="utf-8")
    xlf = exported(example_dir)
    assert units_of(xlf)["summary[5]"].find(f"{NS}target") is not None
    vendor_edit(
        xlf,
        {
            "summary[5]": "Hoito on keskeytettävä, jos potilaalla on HLH:n merkkejä.",
            "boilerplate['Summary']": "Yhteenveto turvallisuustiedoista",
            'boilerplate["Don\'t"]': "Älä",
        },
    )
    result = import_xliff(example_dir, xlf)
    assert result.added == ("summary[5]", 'boilerplate["Don\'t"]', "boilerplate['Summary']")
    assert result.warnings == ()
    before = (EXAMPLE / "fi.yaml").read_text(encoding="utf-8").splitlines()
    after = (example_dir / "fi.yaml").read_text(encoding="utf-8").splitlines()
    ops = difflib.SequenceMatcher(a=before, b=after).get_opcodes()
    assert {op[0] for op in ops} == {"equal", "insert"}  # nothing else moved or changed
    texts = texts_of(example_dir / "fi.yaml")
    assert texts["summary[5]"] == "Hoito on keskeytettävä, jos potilaalla on HLH:n merkkejä."
    assert texts["summary[4]"] == texts_of(EXAMPLE / "fi.yaml")["summary[4]"]
    assert texts["boilerplate['Summary']"] == "Yhteenveto turvallisuustiedoista"
    assert load_dhpc(example_dir).text("fi").boilerplate["Don't"] == "Älä"


def test_missing_language_file_is_created(example_dir: Path) -> None:
    full = exported(example_dir, "full.xlf")
    (example_dir / "fi.yaml").unlink()
    result = import_xliff(example_dir, full)
    assert len(result.added) == len(units_of(full)) and result.written
    assert texts_of(example_dir / "fi.yaml") == texts_of(EXAMPLE / "fi.yaml")
    assert load_dhpc(example_dir).text("fi").language == "fi"
    # A second export of the new file gives the same units.
    again = exported(example_dir, "again.xlf")
    assert {k: ET.tostring(v) for k, v in units_of(again).items()} == {
        k: ET.tostring(v) for k, v in units_of(full).items()
    }


def test_crlf_bom_quotes_and_flow_lists_are_kept(example_dir: Path) -> None:
    fi = example_dir / "fi.yaml"
    text = fi.read_text(encoding="utf-8").replace(
        "key_message: Käytön rajoittaminen vakavien haittavaikutusten vuoksi",
        "key_message: 'Käytön rajoittaminen vakavien haittavaikutusten vuoksi'  # Fimea",
    )
    fi.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    original = fi.read_bytes()
    xlf = exported(example_dir)
    import_xliff(example_dir, xlf)
    assert fi.read_bytes() == original

    vendor_edit(
        xlf,
        {
            "key_message": "Käytön rajoittaminen vakavien haittojen vuoksi",
            "active_substances[0]": "alemtutsumabi, ei muuta",
        },
    )
    import_xliff(example_dir, xlf)
    data = fi.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\n") == data.count(b"\r\n") == original.count(b"\r\n")
    lines = data.decode("utf-8").splitlines()
    assert "key_message: 'Käytön rajoittaminen vakavien haittojen vuoksi'  # Fimea" in lines
    assert "active_substances: ['alemtutsumabi, ei muuta']" in lines
    assert load_dhpc(example_dir).text("fi").active_substances == ("alemtutsumabi, ei muuta",)


def test_other_indentation_and_literal_blocks_are_kept() -> None:
    text = (
        "language: fi\n"
        "summary:\n"
        "- first\n"
        "- |\n"
        "  line one\n"
        "  - a list item\n"
        "background:\n"
        "- plain but\n"
        "  on two lines   # a comment\n"
    )
    outcome = edit_language_file(
        text,
        [
            ("summary[1]", "new line\n- another item"),
            ("background[0]", "plain again"),
            ("summary[0]", "first"),
        ],
        language="fi",
        shown="fi.yaml",
    )
    assert outcome.changed == ("summary[1]", "background[0]")
    assert outcome.text == (
        "language: fi\n"
        "summary:\n"
        "- first\n"
        "- |\n"
        "  new line\n"
        "  - another item\n"
        "background:\n"
        "- plain again   # a comment\n"
    )


def test_a_value_shared_through_an_alias_is_not_changed_for_two_fields() -> None:
    text = "language: fi\nsummary:\n  - &bullet Sama teksti.\n  - *bullet\n"
    same = [("summary[0]", "Sama teksti."), ("summary[1]", "Sama teksti.")]
    assert edit_language_file(text, same, language="fi", shown="fi.yaml").text == text
    with pytest.raises(DhpcError, match=r"summary\[0\] and summary\[1\] are one value"):
        edit_language_file(
            text, [same[0], ("summary[1]", "Eri teksti.")], language="fi", shown="fi.yaml"
        )


def test_fold_positions_fit_the_width_and_skip_double_spaces() -> None:
    text = "word " * 40 + "a  b " + "x" * 50 + " end"
    positions = fold_positions(text, 30)
    assert positions
    starts = [0, *(p + 1 for p in positions)]
    ends = [*positions, len(text)]
    for start, end in zip(starts, ends, strict=True):
        segment = text[start:end]
        assert len(segment) <= 30 or " " not in segment.strip()
    for p in positions:
        assert text[p] == " " and text[p - 1] != " " and text[p + 1] != " "


def test_field_paths_parse_back_including_boilerplate_keys(example_dir: Path) -> None:
    source = load_dhpc(example_dir).text("sv")
    text = source.model_copy(update={"boilerplate": {"Don't [x]": "a", 'Say "hi".': "b"}})
    for item in text_fields(text):
        steps = parse_field_path(item.path)
        assert steps[0] in LanguageText.model_fields
    assert parse_field_path('boilerplate["Don\'t [x]"]') == ("boilerplate", "Don't [x]")
    assert parse_field_path("sections[1].paragraphs[0]") == ("sections", 1, "paragraphs", 0)
    with pytest.raises(ValueError):
        parse_field_path("summary[1")


# --- import: refusals --------------------------------------------------------------------


REFUSALS = [
    ({"original": "other-dhpc"}, r"for DHPC 'other-dhpc', not 'lemtrada-2019'"),
    ({"source-language": "en"}, r"translated from 'en', but the source language .* is 'sv'"),
    ({"target-language": "sv"}, r"target language 'sv' is the source language"),
    ({"target-language": "de"}, r"target language is 'de', but lemtrada-2019 is sent in sv, fi"),
]


@pytest.mark.parametrize(("attributes", "message"), REFUSALS)
def test_file_for_another_dhpc_or_language_is_refused(
    example_dir: Path, attributes: dict[str, str], message: str
) -> None:
    xlf = exported(example_dir)
    vendor_edit(xlf, {"summary[0]": "Muutettu."}, file_attributes=attributes)
    before = snapshot(example_dir)
    with pytest.raises(DhpcError, match=message) as caught:
        import_xliff(example_dir, xlf)
    assert "fi.xlf" in str(caught.value)
    assert snapshot(example_dir) == before


def test_region_subtags_are_accepted_and_target_option_checked(example_dir: Path) -> None:
    xlf = exported(example_dir)
    vendor_edit(
        xlf, {"summary[2]": "Maksa tutkitaan."}, file_attributes={"target-language": "fi-FI"}
    )
    with pytest.raises(DhpcError, match="not 'sv'"):
        import_xliff(example_dir, xlf, target="sv")
    assert import_xliff(example_dir, xlf, target="fi").changed == ("summary[2]",)


def edit_header(xlf: Path, **props: str | None) -> None:
    """Change (or, with None, drop) dhpc_gen's header properties and, as ``note``, its note."""
    tree = ET.parse(xlf)
    header = tree.getroot().find(f"{NS}file/{NS}header")
    assert header is not None
    note = props.pop("note", "")
    if note != "":
        element = header.find(f"{NS}note")
        assert element is not None
        if note is None:
            header.remove(element)
        else:
            element.text = note
    group = header.find(f"{NS}prop-group")
    assert group is not None
    for prop in list(group):
        name = prop.get("prop-type", "").replace("-", "_")
        if name in props:
            if props[name] is None:
                group.remove(prop)
            else:
                prop.text = props[name]
    tree.write(xlf, encoding="utf-8", xml_declaration=True)


VELITAMAB = PROJECT / "tests" / "data" / "velitamab-2025"


@pytest.fixture
def velitamab(tmp_path: Path) -> Path:
    """A DHPC written in Dutch, translated into French and German."""
    target = tmp_path / "content" / "velitamab-2025"
    shutil.copytree(VELITAMAB, target)
    return target


def test_a_french_file_labelled_german_is_refused_naming_the_header_fields(
    velitamab: Path,
) -> None:
    """Only target-language was changed: the rest of the header still names fr.yaml."""
    xlf = velitamab.parent / "de.xlf"
    export_xliff(velitamab, xlf, target="fr")
    vendor_edit(xlf, file_attributes={"target-language": "de"})
    before = snapshot(velitamab)
    code = CliRunner().invoke(main, ["xliff", "import", str(velitamab), str(xlf)])
    assert code.exit_code == 1, code.output
    message = code.stderr
    assert "de.xlf: its header contradicts itself or this folder" in message
    assert "<file target-language> says 'de', target-file says 'fr.yaml'" in message
    assert "target-sha256 is the SHA-256 of fr.yaml, not of de.yaml" in message
    assert "the header's <note> says it translates into 'fr'" in message
    assert "it looks like the file exported for 'fr'" in message
    assert "Traceback" not in code.output
    assert snapshot(velitamab) == before


def sha_of(path: Path) -> str:
    return sha256_file(path)


CONTRADICTIONS = {
    "dhpc-id": ({"dhpc_id": "other-dhpc"}, "<file original> says 'lemtrada-2019', dhpc-id says"),
    "source-file": ({"source_file": "fi.yaml"}, "source-file says 'fi.yaml'"),
    "target-file": ({"target_file": "sv.yaml"}, "target-file says 'sv.yaml'"),
    "note": (
        {"note": "… Translate each unit from sv into de; keep the unit ids."},
        "<note> says it translates into 'de'",
    ),
    "target-sha256": ({"target_sha256": "sv.yaml"}, "target-sha256 is the SHA-256 of sv.yaml"),
    "source-sha256": ({"source_sha256": "fi.yaml"}, "source-sha256 is the SHA-256 of fi.yaml"),
}


@pytest.mark.parametrize("field", sorted(CONTRADICTIONS))
def test_every_identity_of_the_header_must_agree(example_dir: Path, field: str) -> None:
    xlf = exported(example_dir)
    props, message = CONTRADICTIONS[field]
    props = {
        name: sha_of(example_dir / value) if name.endswith("sha256") and value else value
        for name, value in props.items()
    }
    edit_header(xlf, **props)
    vendor_edit(xlf, {"summary[2]": "Maksa tutkitaan."})
    before = snapshot(example_dir)
    with pytest.raises(DhpcError, match="header contradicts itself") as caught:
        import_xliff(example_dir, xlf, dry_run=True)
    assert message in str(caught.value)
    assert snapshot(example_dir) == before


def test_a_units_xml_lang_must_be_the_files_language(example_dir: Path) -> None:
    xlf = exported(example_dir)
    text = xlf.read_text(encoding="utf-8").replace(
        '<target state="translated">', '<target state="translated" xml:lang="et-EE">', 1
    )
    with pytest.raises(
        DhpcError, match=r"unit active_substances\[0\]: the xml:lang of its <target> says 'et-EE'"
    ):
        import_xliff(example_dir, write_xlf(example_dir.parent, text))
    same = xlf.read_text(encoding="utf-8").replace(
        '<target state="translated">', '<target state="translated" xml:lang="fi-FI">'
    )
    assert import_xliff(example_dir, write_xlf(example_dir.parent, same)).changed == ()


def test_translations_in_another_language_are_refused_without_the_header(
    velitamab: Path,
) -> None:
    """A tool that writes its own header keeps no dhpc_gen property: the text gives it away."""
    xlf = velitamab.parent / "de.xlf"
    export_xliff(velitamab, xlf, target="fr")
    edit_header(xlf, target_file=None, target_sha256=None, note=None)
    vendor_edit(xlf, file_attributes={"target-language": "de-DE"})
    before = snapshot(velitamab)
    with pytest.raises(
        DhpcError, match=r"its translations read as 'fr': words of the 'fr'"
    ) as caught:
        import_xliff(velitamab, xlf)
    assert "import it with --skip-language-check" in str(caught.value)
    assert snapshot(velitamab) == before
    # Told so, it is imported: the check can be wrong for a text of names and numbers.
    result = import_xliff(velitamab, xlf, check_language=False, dry_run=True)
    assert len(result.changed) == 17


def test_units_left_in_the_source_language_are_refused(example_dir: Path) -> None:
    xlf = exported(example_dir)
    units = units_of(xlf)
    vendor_edit(xlf, {key: (unit.findtext(f"{NS}source") or "") for key, unit in units.items()})
    with pytest.raises(DhpcError, match=r"read as 'sv'.*20 of its 20 units have the source text"):
        import_xliff(example_dir, xlf)


@pytest.mark.parametrize("language", ["fr", "de"])
def test_real_translations_pass_the_language_check(velitamab: Path, language: str) -> None:
    xlf = velitamab.parent / f"{language}.xlf"
    export_xliff(velitamab, xlf, target=language)
    before = snapshot(velitamab)
    assert import_xliff(velitamab, xlf).changed == ()
    assert snapshot(velitamab) == before


def write_xlf(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vendor.xlf"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_and_duplicate_unit_ids_are_listed(example_dir: Path) -> None:
    xlf = exported(example_dir)
    text = xlf.read_text(encoding="utf-8")
    unknown = text.replace('id="summary[4]"', 'id="summary[9]"').replace(
        'id="opening"', 'id="closing"'
    )
    before = snapshot(example_dir)
    with pytest.raises(DhpcError, match=r"2 unit ids are not .*: closing, summary\[9\]"):
        import_xliff(example_dir, write_xlf(example_dir.parent, unknown))
    twice = text.replace('id="summary[4]"', 'id="summary[3]"')
    with pytest.raises(DhpcError, match=r"units appear twice: summary\[3\]"):
        import_xliff(example_dir, write_xlf(example_dir.parent, twice))
    assert snapshot(example_dir) == before


def test_empty_targets_are_named_and_nothing_is_written(example_dir: Path) -> None:
    xlf = exported(example_dir)
    vendor_edit(xlf, {"summary[0]": "Muutettu.", "summary[3]": "  ", "background[1]": ""})
    before = snapshot(example_dir)
    with pytest.raises(DhpcError, match=r"2 units have no translation: summary\[3\], background"):
        import_xliff(example_dir, xlf)
    assert snapshot(example_dir) == before


def test_malformed_xml_names_the_line(example_dir: Path) -> None:
    xlf = exported(example_dir)
    lines = xlf.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if "</source>" in line)
    lines[number] = lines[number].replace("</source>", "</sourc>")
    with pytest.raises(DhpcError, match=rf"vendor\.xlf:{number + 1}: not well-formed XML"):
        import_xliff(example_dir, write_xlf(example_dir.parent, "\n".join(lines)))


HOSTILE = {
    "billion laughs": """<?xml version="1.0"?>
<!DOCTYPE xliff [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2"><file original="lemtrada-2019"
 source-language="sv" target-language="fi" datatype="plaintext"><body>
<trans-unit id="opening"><source>x</source><target>&c;</target></trans-unit></body></file></xliff>
""",
    "external entity": """<?xml version="1.0"?>
<!DOCTYPE xliff [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2"><file original="lemtrada-2019"
 source-language="sv" target-language="fi" datatype="plaintext"><body>
<trans-unit id="opening"><source>x</source><target>&secret;</target></trans-unit>
</body></file></xliff>
""",
    "doctype only": """<?xml version="1.0"?>
<!DOCTYPE xliff SYSTEM "http://example.invalid/xliff.dtd">
<xliff xmlns="urn:oasis:names:tc:xliff:document:1.2" version="1.2"/>
""",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_doctype_and_entities_are_refused(example_dir: Path, name: str) -> None:
    before = snapshot(example_dir)
    with pytest.raises(DhpcError, match=r"vendor\.xlf:2: refusing a file with a DOCTYPE"):
        import_xliff(example_dir, write_xlf(example_dir.parent, HOSTILE[name]))
    assert snapshot(example_dir) == before


def test_not_xliff_12_is_refused(example_dir: Path) -> None:
    xliff2 = '<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0"/>'
    with pytest.raises(DhpcError, match=r"XLIFF 2\.0"):
        import_xliff(example_dir, write_xlf(example_dir.parent, xliff2))
    with pytest.raises(DhpcError, match=r"not an XLIFF 1\.2 file"):
        import_xliff(example_dir, write_xlf(example_dir.parent, "<html><body/></html>"))


def test_changed_source_is_refused_unless_allowed(example_dir: Path) -> None:
    xlf = exported(example_dir)
    vendor_edit(xlf, {"summary[2]": "Maksa tutkitaan aina."})
    sv = example_dir / "sv.yaml"
    sv.write_text(
        sv.read_text(encoding="utf-8").replace(
            "Leverfunktion ska utvärderas före och under behandling.",
            "Leverfunktion ska utvärderas före, under och efter behandling.",
        ),
        encoding="utf-8",
    )
    fi_before = (example_dir / "fi.yaml").read_bytes()
    with pytest.raises(DhpcError, match=r"source text of 1 unit .*sv\.yaml changed.*summary\[2\]"):
        import_xliff(example_dir, xlf)
    assert (example_dir / "fi.yaml").read_bytes() == fi_before
    result = import_xliff(example_dir, xlf, allow_changed_source=True)
    assert result.changed == ("summary[2]",)
    assert any("changed since the export" in w for w in result.warnings)


def test_inline_elements_are_read_and_placeholders_refused(example_dir: Path) -> None:
    xlf = exported(example_dir)
    text = xlf.read_text(encoding="utf-8")
    old = '<target state="translated">Maksan toiminta on arvioitava ennen hoitoa ja hoidon aikana.'
    assert old in text
    segmented = text.replace(
        old,
        '<target state="translated"><mrk mtype="seg" mid="1">Maksan <g id="1">toiminta</g> '
        'arvioidaan</mrk> <ph id="2">**</ph>aina<ph id="3">**</ph>.',
    ).replace("ennen hoitoa ja hoidon aikana.</target>", "</target>", 1)
    result = import_xliff(example_dir, write_xlf(example_dir.parent, segmented))
    assert result.changed == ("summary[2]",)
    assert texts_of(example_dir / "fi.yaml")["summary[2]"] == "Maksan toiminta arvioidaan **aina**."

    placeholder = text.replace(old, '<target state="translated">Maksan <x id="1"/> toiminta.')
    placeholder = placeholder.replace("ennen hoitoa ja hoidon aikana.</target>", "</target>", 1)
    with pytest.raises(DhpcError, match=r"unit summary\[2\]: <x> inside <target>"):
        import_xliff(example_dir, write_xlf(example_dir.parent, placeholder))


def test_invalid_result_is_restored_and_reported(example_dir: Path) -> None:
    xlf = exported(example_dir)
    vendor_edit(xlf, {"summary[0]": "liian pitkä " * 2000})
    before = snapshot(example_dir)
    with pytest.raises(DhpcError, match=r"would not be valid[\s\S]*fi\.yaml:\d+ summary\[0\]"):
        import_xliff(example_dir, xlf)
    assert snapshot(example_dir) == before


def test_problems_of_other_languages_do_not_block_an_import(example_dir: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("languages: [sv, fi]", "languages: [sv, fi, en]"),
        encoding="utf-8",
    )
    xlf = exported(example_dir)  # en.yaml does not exist yet
    vendor_edit(xlf, {"summary[2]": "Maksa tutkitaan."})
    result = import_xliff(example_dir, xlf, target="fi")
    assert result.changed == ("summary[2]",) and result.written
    assert any("problem in other files" in w for w in result.warnings), result.warnings


def test_fields_the_source_dropped_are_reported(example_dir: Path) -> None:
    sv = example_dir / "sv.yaml"
    text = sv.read_text(encoding="utf-8")
    start = text.index("  - >-\n    Patienter ska uppmanas")
    end = text.index("\nbackground:")
    sv.write_text(text[:start] + text[end:], encoding="utf-8")
    xlf = exported(example_dir)
    result = import_xliff(example_dir, xlf)
    assert result.extra_in_target == ("summary[4]",) and not result.written


def test_dry_run_writes_nothing(example_dir: Path) -> None:
    xlf = exported(example_dir)
    vendor_edit(xlf, {"summary[2]": "Maksa tutkitaan."})
    before = snapshot(example_dir)
    result = import_xliff(example_dir, xlf, dry_run=True)
    assert result.changed == ("summary[2]",) and not result.written
    assert snapshot(example_dir) == before


# --- the command line --------------------------------------------------------------------


def test_cli_export_and_import(example_dir: Path) -> None:
    runner = CliRunner()
    xlf = example_dir.parent / "fi.xlf"
    result = runner.invoke(
        main, ["xliff", "export", str(example_dir), "--target", "fi", "-o", str(xlf)]
    )
    assert result.exit_code == 0, result.output
    assert "20 units into fi, 20 with the current translation, 0 new" in result.output
    vendor_edit(xlf, {"summary[2]": "Maksa tutkitaan."})
    result = runner.invoke(main, ["xliff", "import", str(example_dir), str(xlf), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "changed summary[2]" in result.output and "would change: 1 changed" in result.output
    result = runner.invoke(main, ["xliff", "import", str(example_dir), str(xlf)])
    assert result.exit_code == 0, result.output
    assert "updated: 1 changed, 0 added, 19 unchanged" in result.output
    result = runner.invoke(main, ["xliff", "export", str(example_dir), "--target", "sv", "-o", "x"])
    assert result.exit_code == 2 and "source language" in result.output


def test_installed_command_exit_codes_without_traceback(example_dir: Path) -> None:
    dhpc = PROJECT / ".venv" / "bin" / "dhpc"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}  # this tree, wherever the venv points
    xlf = example_dir.parent / "fi.xlf"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(dhpc), "xliff", *args], capture_output=True, text=True, env=env, check=False
        )

    export_xliff(example_dir, xlf, target="fi")
    hostile = write_xlf(example_dir.parent, HOSTILE["external entity"])
    done = run("import", str(example_dir), str(hostile))
    assert done.returncode == 1
    assert "refusing a file with a DOCTYPE" in done.stderr and "Traceback" not in done.stderr
    vendor_edit(xlf, {"summary[2]": "Maksa tutkitaan."})
    done = run("import", str(example_dir), str(xlf))
    assert done.returncode == 0, done.stderr
    assert "1 changed" in done.stdout


# --- the letter ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vendor_letter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Finnish PDF after a vendor changed one bullet and the XLIFF was imported."""
    root = tmp_path_factory.mktemp("vendor")
    content = root / "lemtrada-2019"
    shutil.copytree(EXAMPLE, content)
    xlf = root / "fi.xlf"
    export_xliff(content, xlf, target="fi")
    vendor_edit(xlf, {"summary[2]": "Maksan toiminta tarkistetaan Zebrakokeella."})
    import_xliff(content, xlf)
    (letter,) = render_letters(load_dhpc(content), ["fi"])
    pdf = root / letter.filename
    pdf.write_bytes(letter.pdf)
    return pdf


def test_imported_translation_is_printed_in_the_letter(vendor_letter: Path) -> None:
    text = pdftotext(vendor_letter)
    assert "Maksan toiminta tarkistetaan Zebrakokeella." in " ".join(text.split())


def test_import_into_a_link_outside_the_folder_is_refused(
    example_dir: Path, tmp_path: Path
) -> None:
    """A ``fi.yaml`` linked elsewhere is neither read, nor copied into the folder."""
    xlf = exported(example_dir)
    secret = tmp_path / "secret.txt"
    secret.write_text("password: hunter2\n", encoding="utf-8")
    (example_dir / "fi.yaml").unlink()
    (example_dir / "fi.yaml").symlink_to(secret)
    with pytest.raises(DhpcError, match=r"fi\.yaml: is a link to a file outside its folder"):
        import_xliff(example_dir, xlf)
    assert (example_dir / "fi.yaml").is_symlink()
    assert secret.read_text(encoding="utf-8") == "password: hunter2\n"


def test_a_campaign_target_is_added_under_countries(tmp_path: Path) -> None:
    campaign = tmp_path / "fictumab-2026"
    shutil.copytree(CAMPAIGN, campaign)
    with pytest.raises(UsageError, match=r"add 'sk' to the languages of the country .*countries:"):
        export_xliff(campaign, tmp_path / "sk.xlf", target="sk")
