"""mailing-list, merge, send and report of one country of a campaign (``--country``)."""

from __future__ import annotations

import csv
import email
import email.policy
from pathlib import Path

from click.testing import CliRunner

from dhpc_gen.cli import main

REGISTER = [
    # id, first name, last name, profession, street, postal code, city, language, e-mail
    ("101", "Aino", "Mäkinen", "lääkäri", "Mannerheimintie 10", "00100", "Helsinki", "suomi",
     "a@x.example"),
    ("102", "Björn", "Lindholm", "lääkäri", "Storgatan 3", "22100", "Mariehamn", "ruotsi",
     "b@x.example"),
    ("103", "Eero", "Laine", "farmaseutti", "Hämeenkatu 5", "33100", "Tampere", "suomi", ""),
    ("104", "Greta", "Sjöberg", "lääkäri", "Runebergsgatan 7", "00100", "Helsingfors", "ruotsi",
     "g@x.example"),
]  # fmt: skip
HEADER = [
    "Tunnus", "Etunimi", "Sukunimi", "Ammatti", "Osoite", "Postinumero", "Kaupunki", "Kieli",
    "Sähköposti",
]  # fmt: skip

SOURCES = """\
sources:
  - name: Testirekisteri
    path: FI/register.csv
    columns:
      Tunnus: id
      Etunimi: first_name
      Sukunimi: last_name
      Ammatti: profession
      Osoite: street
      Postinumero: postal_code
      Kaupunki: city
      Kieli: language
      Sähköposti: email
    values:
      profession: {lääkäri: physician, farmaseutti: pharmacist}
      language: {suomi: fi, ruotsi: sv}
    defaults:
      country: FI
"""


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def test_one_country_of_a_campaign_from_mailing_list_to_report(
    campaign_dir: Path, tmp_path: Path
) -> None:
    sources = campaign_dir / "sources"
    (sources / "FI").mkdir(parents=True)
    (sources / "FI.yaml").write_text(SOURCES, encoding="utf-8")
    with (sources / "FI" / "register.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(REGISTER)
    out = tmp_path / "out"
    national = out / "fictumab-2026" / "FI"

    code, output = run("mailing-list", campaign_dir, "--out", out)
    assert code == 2
    assert "choose it with --country" in output
    code, output = run("mailing-list", campaign_dir, "--country", "FI", "--everyone", "--out", out)
    assert code == 0, output
    assert "recipients 4 (fi 2, sv 2)" in output
    assert (national / "mailing" / "recipients.csv").is_file()
    assert not (out / "fictumab-2026" / "mailing").exists()

    code, output = run("build", campaign_dir, "--country", "FI", "--out", out)
    assert code == 0, output
    code, output = run("merge", campaign_dir, "--country", "FI", "--out", out, "--jobs", "1")
    assert code == 0, output
    assert (national / "print" / "fictumab-2026_FI_fi_print.pdf").is_file()
    assert (national / "print" / "fictumab-2026_FI_sv_print.pdf").is_file()

    code, output = run("send", campaign_dir, "--country", "FI", "--out", out, "--no-limit")
    assert code == 0, output
    messages = sorted((national / "outbox").glob("*.eml"))
    assert len(messages) == 3  # one person has no e-mail address
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        (attachment,) = list(message.iter_attachments())
        language = message["Content-Language"]
        assert attachment.get_filename() == f"fictumab-2026_FI_{language}.pdf"
        letter = national / f"fictumab-2026_FI_{language}.pdf"
        assert attachment.get_content() == letter.read_bytes()

    code, output = run("report", campaign_dir, "--country", "FI", "--out", out)
    assert code == 0, output
    assert (national / "distribution-record.csv").is_file()
    code, output = run("report", campaign_dir, "--country", "SE", "--out", out)
    assert code == 1  # Sweden's folder is its own: nothing of Finland's is in its record
    assert "fictumab-2026/SE: nothing distributed yet" in output
