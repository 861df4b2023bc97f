"""Loading and validating DHPC content: every problem at once, with file, line and field."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from dhpc_gen.content import load_dhpc
from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.loader import consistency_problems
from dhpc_gen.content.markup import plain_text, render_block, render_inline
from dhpc_gen.errors import ContentError
from tests.conftest import EXAMPLE


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_number(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_dhpc(directory)
    return [str(p) for p in caught.value.problems]


def test_example_loads(example_dir: Path) -> None:
    dhpc = load_dhpc(example_dir)
    assert dhpc.id == "lemtrada-2019"
    assert dhpc.meta.languages == ("sv", "fi")
    assert dhpc.meta.date == dt.date(2019, 4, 24)
    assert len(dhpc.text("sv").summary) == 5
    assert len(dhpc.text("fi").sections) == 3
    assert [p.name for p in dhpc.files] == ["dhpc.yaml", "sv.yaml", "fi.yaml"]
    assert consistency_problems(dhpc) == []


def test_all_problems_reported_at_once_with_line_and_field(example_dir: Path) -> None:
    fi = example_dir / "fi.yaml"
    meta = example_dir / "dhpc.yaml"
    replace_in(meta, "status: final", "status: published")
    replace_in(meta, "email: pharmacovigilance.finland@sanofi.com", "email: not-an-address")
    replace_in(fi, "key_message:", "key_mesage:")
    problems = problems_of(example_dir)
    joined = "\n".join(problems)
    status_line = line_number(meta, "status: published")
    assert f"dhpc.yaml:{status_line} status:" in joined
    email_line = line_number(meta, "email: not-an-address")
    assert f"dhpc.yaml:{email_line} mahs[0].email: " in joined
    assert "not an e-mail address" in joined
    # The language files are only read once dhpc.yaml is valid; fix it and look again.
    replace_in(meta, "status: published", "status: final")
    replace_in(meta, "email: not-an-address", "email: pharmacovigilance.finland@sanofi.com")
    joined = "\n".join(problems_of(example_dir))
    typo_line = line_number(fi, "key_mesage:")
    assert f"fi.yaml:{typo_line} key_mesage: unknown field" in joined
    assert re.search(r"fi\.yaml:\d+ key_message: required field is missing", joined)


def test_bad_bullet_names_its_index_and_line(example_dir: Path) -> None:
    fi = example_dir / "fi.yaml"
    replace_in(fi, "  - Maksan toiminta on arvioitava ennen hoitoa ja hoidon aikana.", '  - ""')
    problems = problems_of(example_dir)
    line = line_number(fi, '  - ""')
    assert any(
        p.endswith(f"fi.yaml:{line} summary[2]: String should have at least 1 character")
        for p in problems
    ), problems


def test_broken_yaml_names_the_line(example_dir: Path) -> None:
    sv = example_dir / "sv.yaml"
    replace_in(sv, "key_message: Begränsad", "key_message: [Begränsad")
    problems = problems_of(example_dir)
    assert len(problems) == 1
    assert "sv.yaml:" in problems[0] and "invalid YAML" in problems[0]


def test_unknown_language_and_country(example_dir: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    replace_in(meta, "languages: [sv, fi]", "languages: [sv, fi, xx]")
    replace_in(meta, "country: FI", "country: ZZ")
    joined = "\n".join(problems_of(example_dir))
    assert (
        f"dhpc.yaml:{line_number(meta, 'languages:')} languages[2]: unknown language 'xx'" in joined
    )
    assert f"dhpc.yaml:{line_number(meta, 'country:')} country: unknown country 'ZZ'" in joined


def test_missing_language_file(example_dir: Path) -> None:
    (example_dir / "fi.yaml").unlink()
    joined = "\n".join(problems_of(example_dir))
    assert "fi.yaml: missing: dhpc.yaml lists language 'fi'" in joined


def test_file_for_other_language_is_refused(example_dir: Path) -> None:
    replace_in(example_dir / "fi.yaml", "language: fi", "language: sv")
    assert any(
        "language: says 'sv' but the file is for 'fi'" in p for p in problems_of(example_dir)
    )


def test_substances_must_match_products(example_dir: Path) -> None:
    replace_in(
        example_dir / "sv.yaml", "active_substances: [alemtuzumab]", "active_substances: [a, b]"
    )
    assert any(
        "active_substances: has 2 entries but dhpc.yaml has 1 products" in p
        for p in problems_of(example_dir)
    )


def test_missing_section_is_a_consistency_problem(example_dir: Path) -> None:
    fi = example_dir / "fi.yaml"
    text = fi.read_text(encoding="utf-8")
    start = text.index("  - heading: Hemofagosyyttinen")
    end = text.index("contact_points:")
    fi.write_text(text[:start] + "\n" + text[end:], encoding="utf-8")
    problems = [str(p) for p in consistency_problems(load_dhpc(example_dir))]
    line = line_number(fi, "sections:")
    assert any(
        f"fi.yaml:{line} sections: has 2 but the source language 'sv' has 3" in p for p in problems
    )


def test_not_utf8_and_not_a_mapping(example_dir: Path) -> None:
    (example_dir / "sv.yaml").write_bytes("key_message: Begr\xe4nsad\n".encode("latin-1"))
    (example_dir / "fi.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    joined = "\n".join(problems_of(example_dir))
    assert "sv.yaml:1: not UTF-8 text: byte 0xE4 at column 18" in joined
    assert "fi.yaml:1: expected a mapping" in joined


def test_alias_bomb_is_refused(example_dir: Path) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefg":
        previous = chr(ord(level) - 1)
        refs = ", ".join([f"*{previous}"] * 10)
        bomb.append(f"{level}: &{level} [{refs}]")
    (example_dir / "fi.yaml").write_text("\n".join(bomb) + "\n", encoding="utf-8")
    assert any("aliases" in p for p in problems_of(example_dir))


def test_markup_is_safe() -> None:
    hostile = '<script>alert(1)</script> <img src="file:///etc/passwd"> [x](javascript:alert(1)) [y](file:///etc/passwd)'
    html = str(render_inline(hostile))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "href" not in html
    assert str(render_inline("**bold** and *italic* [EMA](https://www.ema.europa.eu)")) == (
        '<strong>bold</strong> and <em>italic</em> <a href="https://www.ema.europa.eu">EMA</a>'
    )
    assert "<ul>" in str(render_block("Intro\n\n- one\n- two"))
    assert plain_text("**Bold** [EMA](https://ema.eu)") == "Bold EMA https://ema.eu"


def test_text_fields_name_every_text(example_dir: Path) -> None:
    fields = {f.path: f.text for f in text_fields(load_dhpc(example_dir).text("sv"))}
    assert fields["summary[2]"] == "Leverfunktion ska utvärderas före och under behandling."
    assert fields["sections[2].heading"] == "Hemofagocytisk lymfohistiocytos (HLH)"
    assert "contact_points[0].department" in fields


def test_link_to_a_file_outside_the_folder_is_refused(example_dir: Path, tmp_path: Path) -> None:
    """``fi.yaml -> elsewhere`` is not read, even when the other file is valid content."""
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_bytes((example_dir / "fi.yaml").read_bytes())
    (example_dir / "fi.yaml").unlink()
    (example_dir / "fi.yaml").symlink_to(elsewhere)
    (example_dir / "terms.yaml").unlink()
    (example_dir / "terms.yaml").symlink_to("/etc/passwd")
    joined = "\n".join(problems_of(example_dir))
    assert "fi.yaml: is a link to a file outside its folder" in joined
    (example_dir / "fi.yaml").unlink()
    (example_dir / "fi.yaml").symlink_to("sv.yaml")  # a link inside the folder is fine
    with pytest.raises(ContentError, match=r"fi\.yaml:\d+ language: says 'sv'"):
        load_dhpc(example_dir)


def test_codes_and_ids_are_explained_in_words(example_dir: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    replace_in(meta, "id: lemtrada-2019", "id: lemtrada..2019")
    replace_in(meta, "country: FI", "country: fi")
    replace_in(meta, "languages: [sv, fi]", "languages: [sv, FI]")
    replace_in(meta, "email: pharmacovigilance.finland@sanofi.com", "email: nope")
    problems = problems_of(example_dir)
    assert [p.split(": ", 1)[0].split(" ", 1)[1] for p in problems] == [
        "id",
        "country",
        "languages[1]",
        "mahs[0].email",
    ], problems
    joined = "\n".join(problems)
    assert "'lemtrada..2019' contains '..'" in joined
    assert "'fi' is not valid: a two-letter country code in capitals" in joined
    assert "'FI' is not valid: a language code in lower case" in joined
    assert "mahs[0].email: not an e-mail address: 'nope'" in joined
    assert "pattern" not in joined and "Value error" not in joined and "Tuple" not in joined


def test_duplicate_key_is_named_in_one_short_line(example_dir: Path) -> None:
    fi = example_dir / "fi.yaml"
    fi.write_text(fi.read_text(encoding="utf-8") + "summary: []\n", encoding="utf-8")
    (problem,) = problems_of(example_dir)
    assert "fi.yaml:" in problem and 'duplicate key "summary"' in problem
    reason = problem.split("invalid YAML: ", 1)[1]
    assert "\n" not in reason and len(reason) <= 200, reason


def test_a_source_language_sent_nowhere_is_read_but_not_built(tmp_path: Path) -> None:
    """An English core for a letter sent in Finnish only: checked against, never built."""
    from dhpc_gen.build import selected_languages

    folder = tmp_path / "fi-only"
    shutil.copytree(EXAMPLE, folder)
    meta = folder / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("languages: [sv, fi]", "languages: [fi]"),
        encoding="utf-8",
    )
    dhpc = load_dhpc(folder)
    assert dhpc.meta.languages == ("fi",)
    assert dhpc.text("sv").language == "sv"  # the source, to check the Finnish against
    assert folder / "sv.yaml" in dhpc.files
    assert selected_languages(dhpc, ()) == ["fi"]
    (folder / "sv.yaml").unlink()
    with pytest.raises(ContentError) as caught:
        load_dhpc(folder)
    assert "sv.yaml: missing: the source text, in 'sv' (source_language)" in str(caught.value)
