"""The letters are typeset: read back from the PDFs, line by line and word box by word box.

The bundled example and generated letters in Swedish, Finnish, German and French are
rendered once for the module. The generated letters differ in length one step at a time
(short paragraphs added before the call for reporting), so that the page end falls at
every place around the closing; their text puts doses, ranges, comparisons, digit
groups, product names, e-mail addresses and URLs at many places in the lines.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyphen
import pytest
from pypdf import PdfReader

from dhpc_gen.addresses.recipients import Recipient, write_recipients
from dhpc_gen.build import build, render_letters
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.markup import plain_text
from dhpc_gen.distribution.merge import merge
from dhpc_gen.distribution.window import POINTS_PER_MM, WINDOWS
from dhpc_gen.i18n import translations
from dhpc_gen.render.hyphenation import finnish_positions, hyphenator, load_patterns
from dhpc_gen.render.typography import (
    NARROW_NBSP,
    NBSP,
    SOFT_HYPHEN,
    WORD_JOINER,
    Typesetter,
    letter_typesetter,
    typeset_html,
)
from dhpc_gen.review.extract import facts
from tests.conftest import CAMPAIGN, EXAMPLE
from tests.pdf_helpers import MM, Line, Page, layout

HYPHEN = "\u2010"
"""The character the layout puts at the end of a hyphenated line."""
TOP_MARGIN, RIGHT_MARGIN, BOTTOM_MARGIN, LEFT_MARGIN = 30 * MM, 22 * MM, 25 * MM, 25 * MM
"""``@page`` margins of templates/letter.css."""
SUMMARY_INSET = 4 * MM + 0.75
"""The summary box's padding and border."""
TOLERANCE = 0.6

EMAIL = "biverkningar@testimab-pharma.example"
URL = "https://www.testimab.example/produktinformation"
PRODUCTS = ("Testimab", "Testimab Pen")
SUBSTANCE = "testimabum"


@dataclass(frozen=True)
class Wording:
    country: str
    key_message: str
    opening: str
    summary: tuple[str, ...]
    sentence: str
    """A sentence with every kind of number, repeated after leads of growing length."""
    leads: tuple[str, ...]
    filler: str
    section: str
    kept: tuple[str, ...]
    """What must never be split across lines, as it appears in the sentence."""


WORDINGS = {
    "sv": Wording(
        "SE",
        "Risk för allvarlig leverskada och ändrade doseringsrekommendationer",
        "Testimab Pharma AB vill i samråd med Europeiska läkemedelsmyndigheten (EMA) och "
        "Läkemedelsverket informera om följande:",
        (
            "Dosen ska minskas till 500 mg hos patienter med eGFR < 30 ml/min/1,73 m² och "
            "behandlingen avbrytas efter 10–14 dagar om leverenzymerna stiger.",
            "Leverfunktionen ska kontrolleras före behandlingsstart; i studien fick 1 204 "
            "patienter riskminimeringsåtgärdsprogrammets uppföljning i 12 månader.",
            f"Läs produktresumén på {URL} eller skriv till {EMAIL}.",
        ),
        "{lead} fick testimabum 500 mg i 10–14 dagar vid eGFR < 30 ml/min/1,73 m², och "
        "1 204 patienter (30 %) med Testimab Pen rapporterades till " + EMAIL + ".",
        ("I", "Hos vuxna", "Bland de behandlade", "I den kardiovaskulära gruppen"),
        "Uppföljningen fortsätter enligt plan.",
        "Uppföljning",
        ("500 mg", "10–14 dagar", "< 30", "ml/min/1,73 m²", "1 204", "30 %"),
    ),
    "fi": Wording(
        "FI",
        "Vakavan maksavaurion riski ja muuttuneet annossuositukset",
        "Testimab Pharma Oy haluaa yhteistyössä Euroopan lääkeviraston (EMA) ja Lääkealan "
        "turvallisuus- ja kehittämiskeskus Fimean kanssa tiedottaa seuraavaa:",
        (
            "Annos on pienennettävä 500 mg:aan potilailla, joiden eGFR on < 30 ml/min/1,73 m², "
            "ja hoito on keskeytettävä 10–14 päivän kuluttua, jos maksaentsyymiarvot suurenevat.",
            "Maksan toiminta on tarkistettava ennen hoidon aloittamista; tutkimuksessa 1 204 "
            "potilasta osallistui lääkitysturvallisuusseurantajärjestelmään 12 kuukauden ajan.",
            f"Valmisteyhteenveto on osoitteessa {URL}, ja kysymykset voi lähettää osoitteeseen "
            f"{EMAIL}.",
        ),
        "{lead} sai testimabumia 500 mg 10–14 päivää, kun eGFR oli < 30 ml/min/1,73 m², ja "
        "1 204 potilasta (30 %) Testimab Pen -valmisteella ilmoitettiin osoitteeseen "
        + EMAIL
        + ".",
        (
            "Ryhmä",
            "Aikuispotilaiden",
            "Munuaisten vajaatoimintaa sairastava",
            "Haittavaikutusilmoitusten perusteella jokainen",
        ),
        "Seurantaa jatketaan suunnitelman mukaisesti.",
        "Seuranta",
        ("500 mg", "10–14 päivää", "< 30", "ml/min/1,73 m²", "1 204", "30 %"),
    ),
    "de": Wording(
        "DE",
        "Risiko schwerer Leberschäden und geänderte Dosierungsempfehlungen",
        "Testimab Pharma GmbH möchte Sie in Abstimmung mit der Europäischen Arzneimittel-Agentur "
        "(EMA) und dem Bundesinstitut für Arzneimittel und Medizinprodukte über Folgendes "
        "informieren:",
        (
            "Die Dosis ist bei Patienten mit einer eGFR < 30 ml/min/1,73 m² auf 500 mg zu senken, "
            "und die Behandlung ist nach 10–14 Tagen abzubrechen, wenn die Leberwerte steigen.",
            "Die Leberfunktion ist vor Behandlungsbeginn zu prüfen; in der Studie erhielten 1 204 "
            "Patienten eine Arzneimittelsicherheitsüberwachung über 12 Monate.",
            f"Die Fachinformation steht unter {URL}, Fragen bitte an {EMAIL}.",
        ),
        "{lead} erhielten testimabum 500 mg über 10–14 Tage bei einer eGFR < 30 ml/min/1,73 m², "
        "und 1 204 Patienten (30 %) mit Testimab Pen wurden an " + EMAIL + " gemeldet.",
        (
            "Alle",
            "Erwachsene",
            "Nierenfunktionsgestörte Patienten",
            "Die Teilnehmenden der kardiovaskulären Gruppe",
        ),
        "Die Nachbeobachtung wird planmäßig fortgesetzt.",
        "Nachbeobachtung",
        ("500 mg", "10–14 Tage", "< 30", "ml/min/1,73 m²", "1 204", "30 %"),
    ),
    "fr": Wording(
        "FR",
        "Risque d’atteinte hépatique grave et nouvelles recommandations posologiques",
        "Testimab Pharma SAS, en accord avec l’Agence européenne des médicaments (EMA) et "
        "l’Agence nationale de sécurité du médicament, souhaite vous informer de ce qui suit :",
        (
            "La dose doit être réduite à 500 mg chez les patients dont le DFGe est < 30 "
            "ml/min/1,73 m², et le traitement arrêté après 10–14 jours si les enzymes "
            "hépatiques augmentent.",
            "La fonction hépatique doit être contrôlée avant le traitement ; dans l’étude, "
            "1 204 patients ont bénéficié d’une pharmacovigilance renforcée pendant 12 mois.",
            f"Le résumé des caractéristiques est disponible sur {URL} ; écrivez à {EMAIL}.",
        ),
        "{lead} ont reçu testimabum 500 mg pendant 10–14 jours avec un DFGe < 30 "
        "ml/min/1,73 m², et 1 204 patients (30 %) sous Testimab Pen ont été signalés "
        "à " + EMAIL + " : attention !",
        (
            "Tous",
            "Les adultes",
            "Les patients insuffisants rénaux",
            "Les participants du groupe cardiovasculaire",
        ),
        "Le suivi se poursuit comme prévu.",
        "Suivi",
        ("500 mg", "10–14 jours", "< 30", "ml/min/1,73 m²", "1 204", "30 %"),
    ),
}

LENGTHS = (0, 2, 4, 6, 8, 10)
"""Short paragraphs added: each step moves the closing by two lines (15 mm)."""


def _quoted(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join('"' + item.replace('"', '\\"') + '"' for item in items) + "]"


def write_letter(root: Path, language: str, fillers: int) -> Path:
    """A generated DHPC folder in ``language`` with ``fillers`` short paragraphs."""
    wording = WORDINGS[language]
    folder = root / f"testimab-{language}-{fillers}"
    folder.mkdir(parents=True)
    (folder / "dhpc.yaml").write_text(
        f"""\
id: testimab-{language}-{fillers}
country: {wording.country}
languages: [{language}]
source_language: {language}
date: 2026-03-05
status: final
products:
  - {{name: {PRODUCTS[0]}, additional_monitoring: true}}
  - {{name: {PRODUCTS[1]}, additional_monitoring: true}}
mahs:
  - {{name: Testimab Pharma, email: {EMAIL}, phone: "+46 8 123 456 78"}}
authorities: [EMA]
signatories:
  - {{name: Maria Esimerkki, title: Medical Director, company: Testimab Pharma}}
address_sources: [Läkemedelsregistret]
""",
        encoding="utf-8",
    )
    sentences = [wording.sentence.format(lead=lead) for lead in wording.leads]
    background = [" ".join(sentences[:2]), " ".join(sentences[2:])]
    (folder / f"{language}.yaml").write_text(
        f"""\
language: {language}
active_substances: [{SUBSTANCE}, {SUBSTANCE}]
key_message: "{wording.key_message}"
opening: "{wording.opening}"
summary: {_quoted(wording.summary)}
background: {_quoted(background)}
sections:
  - heading: "{wording.section}"
    paragraphs: {_quoted([wording.filler] * (fillers + 1))}
""",
        encoding="utf-8",
    )
    return folder


@dataclass(frozen=True)
class Letter:
    language: str
    fillers: int
    pdf: Path
    pages: list[Page]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Letter]:
    root = tmp_path_factory.mktemp("typeset")
    letters = []
    for language in WORDINGS:
        for fillers in LENGTHS:
            dhpc = load_dhpc(write_letter(root / "content", language, fillers))
            built = render_letters(dhpc, [language])[0]
            pdf = root / built.filename
            pdf.write_bytes(built.pdf)
            letters.append(Letter(language, fillers, pdf, layout(pdf)))
    return letters


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> list[Letter]:
    out = tmp_path_factory.mktemp("example")
    result = build(load_dhpc(EXAMPLE), out)
    return [
        Letter(letter.language, 0, path, layout(path))
        for letter, path in zip(
            result.letters,
            [out / "lemtrada-2019" / le.filename for le in result.letters],
            strict=True,
        )
    ]


def phrase(language: str, message: str) -> str:
    return str(translations(language).translations.gettext(message))


def body_lines(letter: Letter) -> Iterator[Line]:
    """The lines of the text, without the letterhead, page number and footer."""
    for page in letter.pages:
        for line in page.lines:
            if TOP_MARGIN - 2 < line.top < page.height - BOTTOM_MARGIN:
                yield line


def joined(letter: Letter) -> str:
    """The body text with a newline at every line end, hyphenated words as printed."""
    return "\n".join(line.text for line in body_lines(letter))


# --------------------------------------------------------------------- the closing


def test_the_closing_never_stands_alone(example: list[Letter], generated: list[Letter]) -> None:
    moved = stayed = 0
    for letter in [*example, *generated]:
        closing = phrase(letter.language, "Yours sincerely,")
        contact = phrase(letter.language, "Company contact point")
        lines = list(body_lines(letter))
        at = next(i for i, line in enumerate(lines) if line.text == closing)
        page = lines[at].page
        on_page = [line for line in lines if line.page == page]
        first = on_page[0]
        where = (letter.language, letter.fillers)
        # Something besides the closing is on its page: at least the contact point.
        assert first.text != closing, where
        assert any(line.text == contact for line in on_page), where
        # The closing is whole: the signatory and the address source are on its page.
        after = lines[at:]
        assert all(line.page == page for line in after), where
        if page > 1 and lines.index(first) > 0:
            previous_page_end = max(line.top for line in lines if line.page == page - 1)
            if previous_page_end < letter.pages[0].height - BOTTOM_MARGIN - 40 * MM:
                moved += 1  # the page before ends early: the ending was taken over
            else:
                stayed += 1
    # The lengths do bring the page end into the ending as well as before it.
    assert moved >= 4 and stayed >= 4, (moved, stayed)


# --------------------------------------------------------------------- no-break rules


def _flexible(text: str) -> re.Pattern[str]:
    """``text`` wherever a line end may have come between two of its characters."""
    parts = []
    for char in text:
        parts.append(r"[ \n]" if char == " " else re.escape(char))
    return re.compile(r"(?:\n|‐\n)?".join(parts))


@pytest.mark.parametrize("language", list(WORDINGS))
def test_numbers_stay_with_their_units_groups_ranges_and_signs(
    generated: list[Letter], language: str
) -> None:
    wording = WORDINGS[language]
    touching = 0
    for letter in (le for le in generated if le.language == language):
        text = joined(letter)
        for kept in wording.kept:
            found = _flexible(kept).findall(text)
            # Every occurrence is there (the sentences and the summary) ...
            assert len(found) >= len(wording.leads), (kept, letter.fillers, found)
            # ... and none is broken over two lines.
            assert all("\n" not in match for match in found), (kept, letter.fillers, found)
            touching += len(
                re.findall(rf"(?:^|\n){re.escape(kept)}|{re.escape(kept)}(?:\n|$)", text)
            )
    # The phrases did come to line ends, where a break could have split them.
    assert touching >= 5, touching


def test_nothing_of_the_example_is_broken_either(example: list[Letter]) -> None:
    for letter in example:
        text = joined(letter)
        for kept in ("0201 200 368", "1-3", "11 april 2019", "11. huhtikuuta 2019", "PB 55"):
            for match in _flexible(kept).findall(text):
                assert "\n" not in match, (letter.language, match)


# --------------------------------------------------------------------- overflow


def _check_inside(letter: Letter, line: Line, left: float, right: float) -> None:
    for word in line.words:
        assert word.x0 >= left - TOLERANCE and word.x1 <= right + TOLERANCE, (
            letter.language,
            letter.fillers,
            line.page,
            word,
        )


def test_no_text_overflows_the_margins_or_the_summary_box(
    example: list[Letter], generated: list[Letter]
) -> None:
    for letter in [*example, *generated]:
        summary = phrase(letter.language, "Summary")
        background = phrase(letter.language, "Background on the safety concern")
        inside_box = False
        for page in letter.pages:
            right = page.width - RIGHT_MARGIN
            for line in page.lines:
                assert line.top >= 0 and max(w.y1 for w in line.words) <= page.height
                _check_inside(letter, line, LEFT_MARGIN, right)
                if line.text == summary:
                    inside_box = True
                elif line.text == background:
                    inside_box = False
                elif inside_box and TOP_MARGIN < line.top < page.height - BOTTOM_MARGIN:
                    _check_inside(letter, line, LEFT_MARGIN + SUMMARY_INSET, right - SUMMARY_INSET)


def test_window_address_of_merged_letters_stays_in_the_window(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("merge")
    people = [
        Recipient(
            recipient_id=f"FI-{index}",
            language=language,
            title="LT",
            first_name="Annamaria Kristiina",
            last_name=last,
            profession="physician",
            specialty="neurology",
            organisation="HUS Neurologian klinikka ja poliklinikka",
            street="Haartmaninkatu 4 rakennus 12",
            postal_code="00290",
            city="Helsinki",
            country="FI",
            email="",
            sources="Suomen Lääkäriliitto",
        )
        for index, (language, last) in enumerate(
            [("fi", "Lindqvist-Häkkinen"), ("sv", "Wahlström"), ("fi", "Virtanen")]
        )
    ]
    write_recipients(root / "mailing" / "recipients.csv", people)
    result = merge(load_dhpc(EXAMPLE), root / "mailing", root / "out", per_recipient=True, jobs=1)
    window = WINDOWS["din5008-b"]
    left, right = window.left * POINTS_PER_MM, (window.left + window.width) * POINTS_PER_MM
    top, bottom = window.top * POINTS_PER_MM, window.bottom * POINTS_PER_MM
    letters = sorted((result.out_dir / "letters").rglob("*.pdf"))
    assert len(letters) == 3
    for path in letters:
        first = layout(path)[0]
        in_window = [
            word
            for line in first.lines
            for word in line.words
            if word.y1 > top and word.y0 < bottom and word.x0 < right
        ]
        assert any(word.text == "Haartmaninkatu" for word in in_window), path
        for word in in_window:
            assert left - TOLERANCE <= word.x0 and word.x1 <= right + TOLERANCE, (path, word)
            assert word.y1 <= bottom + TOLERANCE, (path, word)


# --------------------------------------------------------------------- hyphenation


def hyphenated_words(letter: Letter) -> list[str]:
    """Each word the layout hyphenated, whole: "haittavaiku‐" + "tusten"."""
    lines = [line.text for line in body_lines(letter)]
    words = []
    for line, following in itertools.pairwise(lines):
        if line.endswith(HYPHEN):
            words.append(line.split()[-1][:-1] + following.split()[0])
    return words


def test_finnish_compounds_are_hyphenated_in_the_letter_and_the_summary_box(
    example: list[Letter], generated: list[Letter]
) -> None:
    finnish = next(le for le in example if le.language == "fi")
    words = hyphenated_words(finnish)
    assert len(words) >= 5, words
    assert any(len(word.strip(".,")) >= 12 for word in words), words
    # In the summary box too: its lines are hyphenated.
    summary = phrase("fi", "Summary")
    background = phrase("fi", "Background on the safety concern")
    text = joined(finnish)
    box = text[text.index(summary) : text.index(background)]
    assert re.search(rf"{HYPHEN}\n", box), box
    generated_fi = [le for le in generated if le.language == "fi"]
    assert any(
        "lääkitysturvallisuusseurantajärjestelmään" in word
        for le in generated_fi
        for word in hyphenated_words(le)
    ) or all("lääkitysturvallisuusseurantajärjestelmään" in joined(le) for le in generated_fi)


def test_no_hyphen_inside_names_urls_e_mails_or_numbers(
    example: list[Letter], generated: list[Letter]
) -> None:
    names = [*PRODUCTS, SUBSTANCE, "Lemtrada", "alemtuzumab", "alemtutsumabi", "Sanofi"]
    count = 0
    for letter in [*example, *generated]:
        for word in hyphenated_words(letter):
            count += 1
            folded = word.casefold()
            assert not any(name.casefold() in folded for name in names), word
            assert "@" not in word and "www" not in word and "://" not in word, word
            assert not re.search(r"\d", word), word
        text = joined(letter)
        if letter in generated:
            # The e-mail address and the URL are printed whole every time.
            assert text.count(EMAIL) >= len(WORDINGS[letter.language].leads), letter.fillers
            assert URL in text.replace("\n", "")
            for name in (*PRODUCTS, SUBSTANCE):
                assert not re.search(rf"{re.escape(name[:4])}\w*{HYPHEN}\n", text), name
    assert count >= 20, count


def test_every_language_hyphenates() -> None:
    for language, word in (
        ("sv", "riskminimeringsåtgärderna"),
        ("fi", "haittavaikutusilmoitus"),
        ("de", "Arzneimittelsicherheit"),
        ("fr", "pharmacovigilance"),
        ("nl", "geneesmiddelenbewaking"),
    ):
        positions = hyphenator(language)
        assert positions is not None and len(positions(word)) >= 3, (language, word)
    assert hyphenator("ga") is None  # no rules known: no soft hyphens, no guessing


@pytest.mark.parametrize(
    ("word", "hyphenated"),
    [
        ("haittavaikutusten", "hait-ta-vai-ku-tus-ten"),
        ("maailma", "maa-il-ma"),
        ("kauan", "kau-an"),
        ("radio", "ra-di-o"),
        ("lääkeaine", "lää-ke-ai-ne"),
        ("prosentti", "pro-sent-ti"),
        ("tiedot", "tie-dot"),
        # "uo" after the first syllable may be where two words of a compound meet: no
        # break next to it rather than "hu-ollon".
        ("Terveydenhuollon", "Ter-vey-den-huollon"),
    ],
)
def test_finnish_rules(word: str, hyphenated: str) -> None:
    points = finnish_positions(word)
    shown = "".join(("-" if i in points else "") + c for i, c in enumerate(word))
    assert shown == hyphenated


# --------------------------------------------------------------------- the text itself


def test_typesetting_changes_text_between_tags_only() -> None:
    typesetter = Typesetter.for_names("sv", ["Lemtrada"])
    html = (
        '<html><head><title>500 mg</title></head><body><h1 title="500 mg">Dos 500 mg</h1>'
        "<p>Ge <strong>500</strong> mg i 10–14 dagar &amp; kardiovaskulära Lemtradainfusioner "
        '<a href="https://x.example/a b">kardiovaskulära</a></p></body></html>'
    )
    out = typeset_html(html, typesetter)
    assert "<title>500 mg</title>" in out and 'title="500 mg"' in out
    assert f'<h1 title="500 mg">Dos 500{NBSP}mg</h1>' in out
    assert (
        f"<strong>500</strong>{NBSP}mg i 10–{WORD_JOINER}14{NBSP}dagar &amp; kar{SOFT_HYPHEN}"
        in out
    )
    assert 'href="https://x.example/a b">kardiovaskulära</a>' in out  # links keep their words
    assert "Lemtradainfusioner" in out  # a product name, even in a compound


def test_french_spacing() -> None:
    typesetter = Typesetter.for_names("fr", [])
    text = typesetter.text(
        "Attention: «bien» et « mal » ; quoi ? 14:30, https://x.fr/?a=1 !", False
    )
    assert text == (
        f"Attention{NBSP}: «{NBSP}bien{NBSP}» et «{NBSP}mal{NBSP}»{NARROW_NBSP}; "
        f"quoi{NARROW_NBSP}? 14:30, https://x.fr/?a=1{NARROW_NBSP}!"
    )


def test_dhpc_check_reads_the_typeset_text_as_the_typed_one() -> None:
    """The numbers, ranges, dates and contacts ``dhpc check`` compares are the same in the
    text as typed and as typeset, in every language's form."""
    dhpc = load_dhpc(EXAMPLE)
    texts = []
    for language, text in dhpc.iter_texts():
        fields = [text.opening, *text.summary, *text.background]
        fields += [p for s in text.sections for p in s.paragraphs]
        texts += [(language, plain_text(field)) for field in fields]
    for language, wording in WORDINGS.items():
        texts += [(language, t) for t in (*wording.summary, wording.sentence.format(lead="X"))]
    changed = 0
    for language, text in texts:
        typeset = letter_typesetter(dhpc, language).text(text)
        changed += typeset != text
        assert [(t.kind, t.value) for t in facts(typeset, language)] == [
            (t.kind, t.value) for t in facts(text, language)
        ], text
    assert changed > len(texts) // 2


def test_title_of_several_products_of_one_substance(generated: list[Letter]) -> None:
    info = PdfReader(generated[0].pdf).metadata
    assert info is not None and info.title is not None
    assert info.title.startswith("Testimabum (TESTIMAB▼, TESTIMAB PEN▼): Risk för"), info.title


@pytest.mark.parametrize("dictionary", ["sv", "de_DE", "fr", "nl_NL", "en_GB", "el_GR", "hu_HU"])
def test_compiled_patterns_hyphenate_as_pyphen_parses_them(dictionary: str, tmp_path: Path) -> None:
    """The patterns kept in the cache folder give pyphen's positions, point for point."""
    path = Path(pyphen.LANGUAGES[dictionary])
    words = sorted(
        {w for p in [*EXAMPLE.glob("*.yaml"), *CAMPAIGN.glob("*.yaml")]
         for w in re.findall(r"[^\W\d_]{6,}", p.read_text(encoding="utf-8"))}
    )  # fmt: skip
    parsed = pyphen.HyphDict(path)
    written = load_patterns(path, tmp_path)  # parses, then keeps them
    kept = list(tmp_path.glob("hyphenation-*.json"))
    nonstandard = dictionary == "hu_HU"  # "ssz" → "sz-sz": parsed each time, never kept
    assert len(kept) == (0 if nonstandard else 1)
    read = load_patterns(path, tmp_path)  # read from the cache folder
    assert nonstandard or read.patterns is not parsed.patterns
    for word in words:
        expected = [(int(p), p.data) for p in parsed.positions(word)]
        assert [(int(p), p.data) for p in written.positions(word)] == expected, word
        assert [(int(p), p.data) for p in read.positions(word)] == expected, word


def test_a_damaged_pattern_cache_is_passed_over(tmp_path: Path) -> None:
    path = Path(pyphen.LANGUAGES["sv"])
    load_patterns(path, tmp_path)
    (kept,) = tmp_path.glob("hyphenation-*.json")
    for damage in ("{not json", '{"ab": 3}', "{}"):
        kept.write_text(damage, encoding="utf-8")
        assert load_patterns(path, tmp_path).positions("riskminimeringsåtgärderna")
    unwritable = tmp_path / "file"
    unwritable.write_text("", encoding="utf-8")
    assert load_patterns(path, unwritable / "cache").positions("riskminimeringsåtgärderna")
