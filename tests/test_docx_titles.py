"""Class-wide letters through Word: titles read back exactly as they were composed, and the
reporting block of the letter's own country only.

No word processor is needed: documents are exports, edited where a case needs it with
python-docx. (tests/test_docx.py has the documents LibreOffice makes.)
"""

from __future__ import annotations

import itertools
import random
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.exchange.docx_import import import_docx
from dhpc_gen.exchange.docx_letter import Title, parse_title
from dhpc_gen.exchange.docx_write import export_docx
from dhpc_gen.render.letter import compose_title, format_title, title_key
from tests.conftest import PROJECT

VELITAMAB = PROJECT / "tests" / "data" / "velitamab-2025"

# --- the title, composed and read back ---------------------------------------------------

NAMES = [
    "Zentravo",
    "Zentravo Pen",
    "Quorvix",
    "Ciproxin 500",
    "Alpha, Beta",  # a comma in a name
    "Testimab (EU)",  # parentheses in a name
    "Straße-Mab",  # upper-cased it is longer: STRASSE-MAB
    "Tavanic",
    "Ödemix",
]
PLAIN_NAMES = ["Zentravo", "Zentravo Pen", "Quorvix", "Ciproxin 500", "Tavanic", "Ödemix", "B-12"]
SUBSTANCES = [
    ["vélitamab", "VÉLITAMAB", "Vélitamab"],  # spellings of one substance (one title key)
    ["doratamab", "Doratamab"],
    ["insulin (human)", "Insulin (human)"],
    ["ombitasvir, paritaprevir", "Ombitasvir,  paritaprevir"],
    ["*tozinameran*"],
    ["levofloxacin"],
]
KEYS = [
    "Risk of severe neutropenia",
    "risque (rare) : nouvelle posologie",
    "dose: 5 mg (not 10): new advice",
    "**Important**: restricted use",
]


def partitions(count: int) -> Iterator[list[int]]:
    """Every way ``count`` products can share substances: substance number per product."""

    def grow(prefix: list[int]) -> Iterator[list[int]]:
        if len(prefix) == count:
            yield prefix
            return
        for number in range(max(prefix, default=-1) + 2):
            yield from grow([*prefix, number])

    yield from grow([])


def shape(
    groups: Sequence[int], triangles: Sequence[bool], seed: int, names: Sequence[str] = NAMES
) -> tuple[list[tuple[str, bool]], list[str], str]:
    """Products, one substance each (spelled differently within a substance), key."""
    products = [
        (names[(seed + index) % len(names)], triangle) for index, triangle in enumerate(triangles)
    ]
    if len({name for name, _ in products}) != len(products):
        products = [(f"{name} {index}", tri) for index, (name, tri) in enumerate(products)]
    seen: dict[int, int] = {}
    substances = []
    for group in groups:
        spellings = SUBSTANCES[(seed + group) % len(SUBSTANCES)]
        substances.append(spellings[seen.get(group, 0) % len(spellings)])
        seen[group] = seen.get(group, 0) + 1
    return products, substances, KEYS[seed % len(KEYS)]


def title_order(substances: Sequence[str]) -> list[int]:
    groups: dict[str, list[int]] = {}
    for index, substance in enumerate(substances):
        groups.setdefault(title_key(substance), []).append(index)
    return [index for members in groups.values() for index in members]


def check_exact(products: list[tuple[str, bool]], substances: list[str], key: str) -> None:
    """parse(compose(x)) == x, given dhpc.yaml's names and the language file's spellings."""
    title = format_title(products, substances, key)
    names = [name for name, _ in products]
    parsed = parse_title(title, names, substances)
    assert parsed is not None, title
    assert parsed.substances == substances, title
    assert [(p.name, p.triangle) for p in parsed.products] == products, title
    assert parsed.key_message == key, title
    assert parsed.known and parsed.order == title_order(substances), title

    # Without the language file (a new language): the same title comes back out of it.
    fresh = parse_title(title, names)
    assert fresh is not None and fresh.known, title
    assert [title_key(s) for s in fresh.substances] == [title_key(s) for s in substances]
    assert format_title(products, fresh.substances, fresh.key_message) == title


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_every_shape_of_title_reads_back_as_it_was_composed(count: int) -> None:
    """One product, several of one substance, several substances (grouped or not), with
    and without ▼, names holding commas or parentheses: all shapes of up to 4 products."""
    cases = 0
    for groups in partitions(count):
        for triangles in itertools.product([False, True], repeat=count):
            for seed in range(3):
                check_exact(*shape(groups, triangles, seed))
                cases += 1
    assert cases == {1: 6, 2: 24, 3: 120, 4: 720}[count]


def test_generated_titles_read_back_as_they_were_composed() -> None:
    """Property: parse(compose(x)) == x over random product and substance lists."""
    generator = random.Random(20250315)
    for _ in range(600):
        count = generator.randint(1, 7)
        groups = [generator.randint(0, count - 1) for _ in range(count)]
        triangles = [generator.random() < 0.5 for _ in range(count)]
        names = generator.sample(NAMES, min(count, len(NAMES)))
        check_exact(*shape(groups, triangles, generator.randint(0, 50), names))


def test_compose_title_is_format_title_and_an_override_stands_as_written() -> None:
    dhpc = load_dhpc(VELITAMAB)
    title = compose_title(dhpc, dhpc.text("fr"))
    assert title.startswith("Vélitamab (ZENTRAVO▼, ZENTRAVO PEN▼), doratamab (QUORVIX): ")
    parsed = parse_title(
        title, ["Zentravo", "Zentravo Pen", "Quorvix"], dhpc.text("fr").active_substances
    )
    assert parsed is not None
    assert parsed.substances == ["vélitamab", "vélitamab", "doratamab"]
    text = dhpc.text("fr").model_copy(update={"title": "Vélitamab et doratamab : neutropénie"})
    assert compose_title(dhpc, text) == "Vélitamab et doratamab : neutropénie"


def test_without_dhpc_yaml_the_products_are_the_names_in_the_parentheses() -> None:
    """A new DHPC: plain names, in the order the title gives them, rebuild the same title."""
    generator = random.Random(7)
    for count in range(1, 6):
        for groups in partitions(count):
            triangles = [generator.random() < 0.5 for _ in range(count)]
            products, substances, key = shape(groups, triangles, count, PLAIN_NAMES)
            title = format_title(products, substances, key)
            parsed = parse_title(title)
            assert parsed is not None and not parsed.known, title
            order = title_order(substances)
            assert [(p.name, p.triangle) for p in parsed.products] == [
                (products[i][0].upper(), products[i][1]) for i in order
            ], title
            rebuilt = [(p.name, p.triangle) for p in parsed.products]
            assert format_title(rebuilt, parsed.substances, parsed.key_message) == title


def names_and_triangles(parsed: Title | None) -> list[tuple[str, bool]]:
    assert parsed is not None
    return [(p.name, p.triangle) for p in parsed.products]


def test_titles_as_people_type_them() -> None:
    parsed = parse_title("Vélitamab (ZENTRAVO▼, ZENTRAVO PEN▼), doratamab (QUORVIX) : risque")
    assert names_and_triangles(parsed) == [
        ("ZENTRAVO", True),
        ("ZENTRAVO PEN", True),
        ("QUORVIX", False),
    ]
    assert parsed is not None and parsed.substances == ["Vélitamab", "Vélitamab", "doratamab"]
    assert parsed.key_message == "risque"
    assert names_and_triangles(parse_title("Ana (A▼), Bea (B) ▼: key")) == [
        ("A", True),
        ("B", True),
    ]
    assert names_and_triangles(parse_title("Alemtuzumab (Lemtrada ▼): key")) == [("Lemtrada", True)]
    assert names_and_triangles(parse_title("Testimab (TESTIMAB 2,5 MG, PEN): key")) == [
        ("TESTIMAB 2,5 MG", False),
        ("PEN", False),
    ]
    typed = parse_title("Vélitamab (Zentravo▼, zentravo pen▼): key", ["Zentravo", "Zentravo Pen"])
    assert typed is not None and typed.known
    for text in ("No products here", "Substance (PRODUCT):", "(PRODUCT): key", "A (B) C: key"):
        assert parse_title(text) is None, text


def test_a_hostile_title_is_given_up_quickly() -> None:
    title = "a (" * 400 + "B" + ")" * 400 + ": key"
    started = time.perf_counter()
    parse_title(title, [f"P{n}" for n in range(30)])
    assert time.perf_counter() - started < 5


# --- class-wide letters through Word, into their folder ---------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture
def velitamab(tmp_path: Path) -> Path:
    target = tmp_path / "content" / "velitamab-2025"
    shutil.copytree(VELITAMAB, target)
    return target


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_unchanged_export_of_a_class_wide_letter_changes_no_byte(
    velitamab: Path, tmp_path: Path, language: str
) -> None:
    """Two products of one substance and one of another: the import changes nothing."""
    document = tmp_path / f"velitamab_{language}.docx"
    export_docx(velitamab, document, language=language)
    before = snapshot(velitamab)
    code, out, err = run("import-docx", str(document), str(velitamab))
    assert code == 0, err
    assert "0 changed, 0 added, 0 removed" in out
    assert "Differences from" not in out, out
    assert snapshot(velitamab) == before


def with_products(
    folder: Path, products: Sequence[tuple[str, bool]], substances: dict[str, str]
) -> None:
    """The Lemtrada example as a class-wide letter: other products, their substances."""
    meta = folder / "dhpc.yaml"
    listed = "".join(
        f"  - name: {name}\n    additional_monitoring: {'true' if tri else 'false'}\n"
        for name, tri in products
    )
    text = re.sub(
        r"products:\n(?:  .*\n)+", lambda _: "products:\n" + listed, meta.read_text("utf-8")
    )
    meta.write_text(text, encoding="utf-8")
    for language, flow in substances.items():
        path = folder / f"{language}.yaml"
        path.write_text(
            re.sub(r"active_substances: \[.*\]", f"active_substances: {flow}", path.read_text()),
            encoding="utf-8",
        )


SHAPES = {
    "one substance, two products": (
        [("Lemtrada", True), ("Lemtrada Pen", True)],
        {"sv": "[alemtuzumab, alemtuzumab]", "fi": "[alemtutsumabi, alemtutsumabi]"},
    ),
    "substances interleaved": (
        [("Lemtrada", False), ("Campath", True), ("Lemtrada Pen", True)],
        {
            "sv": "[alemtuzumab, rituximab, alemtuzumab]",
            "fi": "[alemtutsumabi, rituksimabi, alemtutsumabi]",
        },
    ),
    "second spelling not printed": (
        [("Lemtrada", True), ("Lemtrada, Pen", False)],
        {"sv": "[alemtuzumab, Alemtuzumab]", "fi": "[alemtutsumabi, ALEMTUTSUMABI]"},
    ),
    "three substances": (
        [("Lemtrada", True), ("Tavanic", False), ("Ciproxin (EU)", True)],
        {
            "sv": "[alemtuzumab, levofloxacin, ciprofloxacin]",
            "fi": "[alemtutsumabi, levofloksasiini, siprofloksasiini]",
        },
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("language", ["sv", "fi"])
def test_every_title_shape_survives_an_unchanged_round_trip(
    example_dir: Path, tmp_path: Path, name: str, language: str
) -> None:
    products, substances = SHAPES[name]
    with_products(example_dir, products, substances)
    load_dhpc(example_dir)
    document = tmp_path / "letter.docx"
    export_docx(example_dir, document, language=language)
    before = snapshot(example_dir)
    result = import_docx(document, example_dir)
    assert (result.changed, result.added, result.removed) == ((), (), ())
    assert not [f for f in result.findings if f.kind == "meta"], result.findings
    assert snapshot(example_dir) == before


def test_a_title_override_survives_an_unchanged_round_trip(
    example_dir: Path, tmp_path: Path
) -> None:
    products, substances = SHAPES["substances interleaved"]
    with_products(example_dir, products, substances)
    sv = example_dir / "sv.yaml"
    sv.write_text(
        sv.read_text("utf-8").replace(
            "key_message:",
            "title: 'Alemtuzumab och rituximab (LEMTRADA, CAMPATH▼): risker'\nkey_message:",
        ),
        encoding="utf-8",
    )
    document = tmp_path / "letter.docx"
    export_docx(example_dir, document, language="sv")
    before = snapshot(example_dir)
    result = import_docx(document, example_dir)
    assert (result.changed, result.added, result.removed) == ((), (), ())
    assert snapshot(example_dir) == before


def set_title(document: Path, text: str) -> None:
    word = docx.Document(str(document))
    title = next(p for p in word.paragraphs if p.style is not None and p.style.name == "Title")
    for run_ in title.runs[1:]:
        run_._r.getparent().remove(run_._r)
    title.runs[0].text = text
    word.save(str(document))


def test_a_product_missing_from_the_title_keeps_its_substance(
    velitamab: Path, tmp_path: Path
) -> None:
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")
    set_title(document, "Vélitamab (ZENTRAVO▼), doratamab (QUORVIX): Risque de neutropénie")
    before = (velitamab / "fr.yaml").read_text("utf-8")
    result = import_docx(document, velitamab)
    assert result.changed == ("key_message",)
    after = (velitamab / "fr.yaml").read_text("utf-8")
    assert "active_substances: [vélitamab, vélitamab, doratamab]" in after
    assert after.replace("Risque de neutropénie\n", "") != before  # only the key message
    messages = [f.message for f in result.findings if f.kind == "meta"]
    assert any("does not name 'Zentravo Pen'" in m for m in messages), messages


def test_a_substance_changed_in_word_changes_its_products_only(
    velitamab: Path, tmp_path: Path
) -> None:
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")
    word = docx.Document(str(document))
    title = next(p for p in word.paragraphs if p.style is not None and p.style.name == "Title")
    set_title(document, title.text.replace("doratamab (QUORVIX)", "doratamabum (QUORVIX)"))
    result = import_docx(document, velitamab)
    assert result.changed == ("active_substances[2]",)
    text = (velitamab / "fr.yaml").read_text("utf-8")
    assert "active_substances: [vélitamab, vélitamab, doratamabum]" in text


def test_products_in_another_order_are_reported_and_printed_in_dhpc_yamls(
    velitamab: Path, tmp_path: Path
) -> None:
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")
    set_title(document, "Doratamab (QUORVIX), vélitamab (ZENTRAVO PEN▼, ZENTRAVO▼): Risque")
    result = import_docx(document, velitamab, dry_run=True)
    assert "active_substances[0]" not in result.changed
    messages = [f.message for f in result.findings]
    assert any(
        "another order" in m and "Vélitamab (ZENTRAVO▼, ZENTRAVO PEN▼)" in m for m in messages
    )


# --- a new DHPC from a class-wide letter ------------------------------------------------


def test_a_new_folder_gets_each_product_with_its_own_triangle(
    velitamab: Path, tmp_path: Path
) -> None:
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")
    folder = tmp_path / "new" / "velitamab-fr"
    code, _, err = run("import-docx", str(document), str(folder))
    assert code == 0, err
    dhpc = load_dhpc(folder)
    assert [(p.name, p.additional_monitoring) for p in dhpc.meta.products] == [
        ("Zentravo", True),
        ("Zentravo Pen", True),
        ("Quorvix", False),
    ]
    assert dhpc.text("fr").active_substances == ("vélitamab", "vélitamab", "doratamab")
    original = load_dhpc(velitamab)
    assert compose_title(dhpc, dhpc.text("fr")) == compose_title(original, original.text("fr"))


# --- the reporting block: the letter's country's part only ------------------------------

LUXEMBOURG = (
    "Luxembourg\nCentre Régional de Pharmacovigilance de Nancy ou Division de la pharmacie et "
    "des médicaments de la Direction de la santé\nSite internet : www.guichet.lu/pharmacovigilance"
)


def with_luxembourg(document: Path, *, opening: str | None = None) -> None:
    """Appendix V's French row copied whole: Belgium's part under 'Belgique', then
    Luxembourg's, as people paste it."""
    word = docx.Document(str(document))
    paragraphs = word.paragraphs
    block = next(p for p in paragraphs if p.text.startswith("Agence fédérale"))
    block.runs[0].text = "Belgique\n" + block.runs[0].text
    after = paragraphs[paragraphs.index(block) + 1]
    after.insert_paragraph_before(LUXEMBOURG)
    if opening is not None:
        first = next(p for p in paragraphs if p.text.startswith("Fictiva Pharma NV et"))
        for run_ in first.runs[1:]:
            run_._r.getparent().remove(run_._r)
        first.runs[0].text = opening
    word.save(str(document))


def test_another_countrys_part_of_the_block_is_reported_never_copied(
    velitamab: Path, tmp_path: Path
) -> None:
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")
    with_luxembourg(document)
    before = snapshot(velitamab)
    result = import_docx(document, velitamab)
    assert (result.changed, result.added, result.removed) == ((), (), ())
    assert snapshot(velitamab) == before
    registry = [f.message for f in result.findings if f.kind == "registry"]
    assert len(registry) == 1, registry
    assert "Luxembourg's part (LU)" in registry[0] and "left out" in registry[0]
    assert not [f for f in result.findings if f.kind == "meta"]


def test_a_new_folder_takes_the_country_whose_authority_the_letter_names(
    velitamab: Path, tmp_path: Path
) -> None:
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")
    with_luxembourg(document)
    folder = tmp_path / "new" / "be"
    result = import_docx(document, folder)
    assert result.country == "BE"  # the opening names the AFMPS
    dhpc = load_dhpc(folder)
    assert dhpc.meta.country == "BE"
    assert not any("guichet" in p or "Luxembourg" in p for p in dhpc.text("fr").reporting)
    assert any("Luxembourg's part (LU)" in f.message for f in result.findings)

    luxembourg = tmp_path / "lu.docx"
    export_docx(velitamab, luxembourg, language="fr")
    with_luxembourg(
        luxembourg,
        opening="Fictiva Pharma NV, en accord avec la Direction de la santé, vous informe :",
    )
    result = import_docx(luxembourg, tmp_path / "new" / "lu")
    assert result.country == "LU"
    assert any("Belgium's part (BE)" in f.message for f in result.findings)


def test_a_new_folder_with_two_countries_blocks_and_no_authority_named_is_refused(
    velitamab: Path, tmp_path: Path
) -> None:
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")
    with_luxembourg(document, opening="Fictiva Pharma NV souhaite vous informer :")
    folder = tmp_path / "new" / "nobody"
    code, _, err = run("import-docx", str(document), str(folder))
    assert code == 1
    assert "Belgium (BE) and Luxembourg (LU)" in err and "delete the part" in err, err
    assert not folder.exists()


def test_a_luxembourg_letter_compares_its_own_part_of_the_row(
    velitamab: Path, tmp_path: Path
) -> None:
    meta = velitamab / "dhpc.yaml"
    text = meta.read_text("utf-8").replace("country: BE", "country: LU")
    text = text.replace("languages: [nl, fr, de]", "languages: [fr, de]")
    meta.write_text(text.replace("source_language: nl", "source_language: fr"), "utf-8")
    (velitamab / "nl.yaml").unlink()
    document = tmp_path / "fr.docx"
    export_docx(velitamab, document, language="fr")  # prints Luxembourg's block
    word = docx.Document(str(document))
    block = next(p for p in word.paragraphs if p.text.startswith("Centre Régional"))
    block.insert_paragraph_before(
        "Belgique\nAgence fédérale des médicaments et des produits de santé\nwww.afmps.be\n"
        "Division Vigilance:\nSite internet : www.notifieruneffetindesirable.be\n"
        "e-mail : adr@fagg-afmps.be"
    )
    for run_ in block.runs[1:]:
        run_._r.getparent().remove(run_._r)
    block.runs[0].text = LUXEMBOURG  # its name line, and the division's name on one line
    word.save(str(document))
    before = snapshot(velitamab)
    result = import_docx(document, velitamab)
    assert snapshot(velitamab) == before
    messages = [f.message for f in result.findings]
    assert not [m for m in messages if "reads like" in m], messages
    assert [m for m in messages if "Belgium's part (BE)" in m]
    assert not [m for m in messages if "Agence fédérale" in m or "Belgique" in m], messages
