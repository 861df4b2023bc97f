"""National conventions in the registry: heading, envelope text, approval, languages."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from dhpc_gen.addresses.language import LanguagePolicy
from dhpc_gen.addresses.mailing import default_language
from dhpc_gen.addresses.recipients import Recipient, write_recipients
from dhpc_gen.build import content_hash, render_letter
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.distribution.merge import merge
from dhpc_gen.distribution.message import MessageComposer
from dhpc_gen.distribution.pdf_overlay import load_font
from dhpc_gen.distribution.send import refuse_unapproved
from dhpc_gen.distribution.smtp import SmtpSettings
from dhpc_gen.distribution.window import WINDOWS
from dhpc_gen.errors import DhpcError, RegistryError
from dhpc_gen.regulators import registry
from dhpc_gen.resources import REGULATORS_DIR
from tests.conftest import CAMPAIGN
from tests.pdf_helpers import pdftotext

DANISH_ENVELOPE = (
    "Ny sikkerhedsinformation om brugen af medicin – i samarbejde med Lægemiddelstyrelsen"
)


def test_the_registry_holds_each_countrys_conventions() -> None:
    germany = registry.conventions("DE")
    assert germany.heading_in("de") == "Rote-Hand-Brief"
    assert germany.mark is not None and germany.mark.name == "red-hand.svg"
    assert germany.mark.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert registry.conventions("AT").heading_in("de") == "Rote-Hand-Brief"
    assert registry.conventions("BE").heading_in("de") is None  # Belgium's German letter
    assert registry.conventions("NL").heading_in("nl") == "DHPC-brief"
    denmark = registry.conventions("DK")
    assert denmark.envelope_in("da") == DANISH_ENVELOPE
    assert denmark.envelope_colours == "black-on-yellow"
    assert denmark.approval_before_sending
    finland = registry.conventions("FI")
    assert finland.required_languages == ("fi", "sv") and finland.default_language == "fi"
    assert not registry.conventions("SE").approval_before_sending


def test_a_convention_in_a_language_the_country_lacks_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "registry"
    shutil.copytree(REGULATORS_DIR, folder)
    finland = folder / "FI.yaml"
    finland.write_text(
        finland.read_text(encoding="utf-8").replace("[fi, sv]", "[fi, sv, se]"), encoding="utf-8"
    )
    with pytest.raises(RegistryError, match=r"FI\.yaml: conventions\.required_languages: 'se'"):
        registry.conventions("FI", folder)


def test_regulators_command_shows_the_conventions() -> None:
    result = CliRunner().invoke(main, ["regulators", "DE"])
    assert result.exit_code == 0, result.output
    assert "DE conventions:" in result.output
    assert "heading (de): Rote-Hand-Brief with the mark red-hand" in result.output
    assert "the authority approves the final letter before it is sent" in result.output
    assert "(reporting_authority: PEI)" in result.output
    assert "DE Germany — de: Bundesinstitut für Arzneimittel und Medizinprodukte" in result.output
    assert "  Kurt-Georg-Kiesinger-Allee 3" in result.output
    result = CliRunner().invoke(main, ["regulators", "DK", "--format", "json"])
    (entry,) = json.loads(result.output)
    assert entry["conventions"]["envelope"] == DANISH_ENVELOPE
    assert entry["conventions"]["envelope_colours"] == "black-on-yellow"


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The German, Austrian, Belgian-German and Dutch letters of the example campaign."""
    campaign = load_campaign(CAMPAIGN)
    folder = tmp_path_factory.mktemp("letters")
    paths = {}
    for country, language in (("DE", "de"), ("AT", "de"), ("BE", "de"), ("NL", "nl")):
        letter = render_letter(campaign.national(country), language)
        paths[country] = folder / letter.filename
        paths[country].write_bytes(letter.pdf)
    return paths


def test_the_letter_shows_the_countrys_heading_with_its_mark(letters: dict[str, Path]) -> None:
    for country in ("DE", "AT"):
        lines = [line for line in pdftotext(letters[country]).splitlines() if line.strip()]
        heading = lines.index("Rote-Hand-Brief")
        assert lines[heading + 1].startswith("Fictumab (FICTAVIO▼)"), lines[: heading + 2]
        content = PdfReader(letters[country]).pages[0].get_contents()
        assert content is not None
        assert b"0.823529 0 0.117647 rg" in content.get_data(), "the red hand, on page 1"
    assert "Rote-Hand-Brief" not in pdftotext(letters["BE"])
    assert "DHPC-brief" in pdftotext(letters["NL"])


def test_the_email_subject_uses_the_heading() -> None:
    germany = load_campaign(CAMPAIGN).national("DE")
    composer = MessageComposer(germany, content_hash(germany), SmtpSettings())  # type: ignore[call-arg]
    person = Recipient(
        "r1", "de", "Dr.", "Anna", "Schmidt", "physician", "dermatology", "", "Hauptstr. 1",
        "10115", "Berlin", "DE", "anna@example.de", "Register",
    )  # fmt: skip
    subject = composer.render(person).subject
    assert subject.startswith("Rote-Hand-Brief: Fictumab (FICTAVIO▼): Risiko"), subject
    assert composer.attachment_name("de") == "fictumab-2026_DE_de.pdf"


def test_send_refuses_a_country_whose_authority_approval_is_not_recorded(
    campaign_dir: Path,
) -> None:
    refuse_unapproved(load_campaign(campaign_dir).national("DE"))  # recorded: goes on
    refuse_unapproved(load_campaign(campaign_dir).national("SE"))  # not required
    germany = campaign_dir / "countries" / "DE.yaml"
    text = germany.read_text(encoding="utf-8")
    start = text.index("authority_approval:")
    germany.write_text(text[:start], encoding="utf-8")
    with pytest.raises(DhpcError, match="records no approval"):
        refuse_unapproved(load_campaign(campaign_dir).national("DE"))
    result = CliRunner().invoke(
        main, ["send", str(campaign_dir), "--country", "DE", "--no-dry-run"]
    )
    assert result.exit_code == 1
    assert "DE: the authority approves the final letter before it is sent" in result.output
    assert "countries/DE.yaml records no approval" in result.output
    assert "authority_approval: {reference:" in result.output
    assert "Sending through" not in result.output


def test_check_names_a_language_the_country_requires(example_dir: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("languages: [sv, fi]", "languages: [sv]"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", str(example_dir), "--only", "regulator"])
    assert result.exit_code == 1
    assert re.search(
        r"dhpc\.yaml:\d+ languages: error \[regulator\] FI requires letters in fi, sv .*"
        r"'fi' is missing",
        result.output,
    ), result.output


def test_the_default_language_of_a_recipient(campaign_dir: Path) -> None:
    belgium = load_campaign(campaign_dir).national("BE")
    assert default_language(belgium) == "nl"  # the registry's convention
    finland = campaign_dir / "countries" / "FI.yaml"
    finland.write_text(
        finland.read_text(encoding="utf-8").replace("default_language: fi", "default_language: sv"),
        encoding="utf-8",
    )
    assert default_language(load_campaign(campaign_dir).national("FI")) == "sv"
    policy = LanguagePolicy.for_dhpc("FI", ("fi", "sv"), registry.languages, default="sv")
    assert policy.assign("", "FI", "00100") == ("sv", "default")


DANISH_META = """\
id: testimab-dk
country: DK
languages: [da]
source_language: da
date: 2026-05-04
status: final
products:
  - name: Testimab
mahs:
  - {name: Testimab Danmark A/S, email: info@testimab.example, phone: "+45 70 12 34 56"}
authorities: [EMA, Lægemiddelstyrelsen]
signatories:
  - {name: Mette Jensen, title: Medicinsk direktør, company: Testimab Danmark A/S}
"""

DANISH_TEXT = """\
language: da
active_substances: [testimab]
key_message: risiko for leverskade
opening: Testimab Danmark A/S vil i samarbejde med EMA og Lægemiddelstyrelsen informere om følgende.
summary:
  - Der er indberettet tilfælde af leverskade hos patienter i behandling med testimab.
background:
  - Leverfunktionen skal kontrolleres før behandlingen.
"""


def test_merged_danish_letters_carry_the_envelope_text_in_the_window(tmp_path: Path) -> None:
    folder = tmp_path / "testimab-dk"
    folder.mkdir()
    (folder / "dhpc.yaml").write_text(DANISH_META, encoding="utf-8")
    (folder / "da.yaml").write_text(DANISH_TEXT, encoding="utf-8")
    people = [
        Recipient(
            recipient_id=f"dk-{number}",
            language="da",
            title="",
            first_name="Søren",
            last_name=f"Ærø{number}",
            profession="physician",
            specialty="",
            organisation="",
            street="Nørregade 10",
            postal_code="1165",
            city="København K",
            country="DK",
            email="",
            sources="Register",
        )
        for number in range(2)
    ]
    write_recipients(tmp_path / "mailing" / "recipients.csv", people)
    result = merge(load_dhpc(folder), tmp_path / "mailing", tmp_path / "out", jobs=1)
    (language,) = result.languages
    assert language.envelope is not None and language.envelope.text == DANISH_ENVELOPE
    assert language.print_file is not None
    first_page = pdftotext(language.print_file).split("\f")[0]
    lines = [line.strip() for line in first_page.splitlines() if line.strip()]
    note = next(i for i, line in enumerate(lines) if line.startswith("Ny sikkerhedsinformation"))
    assert f"{lines[note]} {lines[note + 1]}" == DANISH_ENVELOPE
    assert lines.index("Søren Ærø0") > note + 1  # the address below it
    content = PdfReader(language.print_file).pages[0].get_contents()
    assert content is not None
    assert re.search(rb"1 0\.85 0 rg [\d.]+ [\d.]+ [\d.]+ [\d.]+ re f", content.get_data())


def test_the_envelope_text_takes_room_from_the_address() -> None:
    font = load_font()
    window = WINDOWS["din5008-b"]
    note = window.note_lines(font, DANISH_ENVELOPE)
    assert len(note) == 2
    assert window.misfit(font, ["x"] * 6, [], note) is None
    assert "holds 4 below the envelope text" in (
        window.misfit(font, ["x"] * 6, [], [*note, *note]) or ""
    )
