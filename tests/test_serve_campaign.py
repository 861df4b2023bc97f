"""``dhpc serve`` on a campaign: a country chosen on each page, the matrix of ``dhpc status``.

One real server (``dhpc serve`` as a process) on a copy of the example campaign, over
plain HTTP; the browser test (test_serve_browser.py) looks at one of its pages too.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from serve_helpers import Server, running_server

from dhpc_gen.approval.log import read_log
from dhpc_gen.build import language_hash
from dhpc_gen.campaign_build import build_campaign
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.review.campaign import campaign_termbase, check_campaign
from dhpc_gen.status import campaign_status
from tests.conftest import CAMPAIGN

SECRET = "Pertti Personal-Data-Marker"
"""Written into Belgium's mailing list: never served."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve-campaign")
    content = root / "content" / CAMPAIGN.name
    shutil.copytree(CAMPAIGN, content)
    out = root / "output"
    build_campaign(load_campaign(content), out, countries=["IE"])  # one letter built
    mailing = out / CAMPAIGN.name / "BE" / "mailing"
    mailing.mkdir(parents=True)
    (mailing / "recipients.csv").write_text(f"recipient_id,name\nr1,{SECRET}\n", "utf-8")
    (mailing / "report.json").write_text(
        json.dumps({"recipients": 5, "recipients_per_language": {"nl": 2, "fr": 3}}), "utf-8"
    )
    return content


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[Server]:
    root = folder.parents[1]
    with running_server(folder, out=root / "output", cwd=root) as running:
        yield running


def _post(server: Server, path: str, fields: dict[str, str]) -> object:
    return server.request(
        "POST",
        path,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(fields),
    )


def _text(html: str) -> str:
    """A page's words without tags, soft hyphens, joiners and no-break spaces."""
    html = re.sub(r"<[^>]+>", " ", html)
    html = re.sub(r"[\u00ad\u2060]", "", html).replace("&#39;", "'")
    return " ".join(re.sub(r"[\u00a0\u202f]", " ", html).split())


def test_the_preview_chooses_a_country_and_one_of_its_languages(server: Server) -> None:
    page = server.get("/preview").body  # the first country, in its first language
    assert 'href="/preview?country=AT" aria-current="page">Austria (AT)</a>' in page
    assert 'src="/letter/AT/de"' in page
    countries = page[page.index('<nav class="tabs countries"') :]
    countries = countries[: countries.index("</nav>")]
    assert re.findall(r'href="/preview\?country=([A-Z]{2})"', countries) == [
        "AT", "BE", "CY", "DE", "FI", "GR", "IE", "MT", "NL", "SE",
    ]  # fmt: skip
    # The pages' own links keep the country chosen.
    assert '<a href="/review?country=AT">Review</a>' in page
    belgium = server.get("/preview?country=BE&lang=fr").body
    assert 'src="/letter/BE/fr" data-src="/letter/BE/fr"' in belgium
    assert [m for m in re.findall(r'href="/preview\?country=BE&amp;lang=(\w+)"', belgium)] == [
        "nl",
        "fr",
        "de",
    ]
    assert "National text (Belgium): placeholders filled in, deviations applied." in belgium
    assert "Deviations: 1" in belgium
    # The deviation is listed with the findings, linked to its place in the letter.
    assert 'href="/letter/BE/fr#field-summary-1"' in belgium and "[deviation]" in belgium
    swedish = server.get("/preview?country=BE", accept_language="sv").body
    assert ">Belgien (BE)</a>" in swedish and "Nationell text (Belgien)" in swedish


def test_each_countrys_letter_has_its_facts_and_deviations(server: Server) -> None:
    french = _text(server.get("/letter/BE/fr").body)
    assert "Fictapharm Belgium SA/NV souhaite vous informer" in french
    assert "l'Agence fédérale des médicaments" in french
    assert "(débit de filtration glomérulaire estimé [eGFR] inférieur à 30 ml" in french
    assert "{authority}" not in french and "{mah}" not in french
    dutch = _text(server.get("/letter/BE/nl").body)
    assert "débit de filtration" not in dutch and "Medische Informatie" in dutch
    german = _text(server.get("/letter/DE/de").body)
    assert "Rote-Hand-Brief" in german and "dem Paul-Ehrlich-Institut (PEI)" in german
    for path in ("/letter/fr", "/letter/XX/fr", "/letter/DE/fr", "/letter/BE/en"):
        assert server.get(path).status == 404, path


def test_the_review_of_a_country_approves_its_national_texts(server: Server, folder: Path) -> None:
    page = server.get("/review?country=BE").body
    headers = re.findall(r'<th scope="col" lang="(\w+)">', page)
    assert headers == ["en", "nl", "fr", "de"]  # the core beside Belgium's languages
    assert re.findall(r'<li id="approval-(\w+)"', page) == ["nl", "fr", "de"]
    row = page[page.index('id="field-summary-1"') :]
    row = row[: row.index("</tr>")]
    assert "(débit de filtration glomérulaire estimé [eGFR]" in _text(row)
    assert 'name="country" value="BE"' in page

    belgium = load_campaign(folder).national("BE")
    fields = {
        "csrf": server.csrf(),
        "country": "BE",
        "language": "fr",
        "content_sha256": language_hash(belgium, "fr"),
        "name": "Claire Dubois",
        "role": "Medical reviewer, Belgium",
        "back": "/review?country=BE",
    }
    for refused in ({"country": ""}, {"country": "PT"}, {"language": "en"}):
        reply = _post(server, "/approve", {**fields, **refused})
        assert reply.status == 400, refused  # type: ignore[attr-defined]
    assert not (folder / "signoffs.jsonl").exists()
    reply = _post(server, "/approve", fields)
    assert reply.status == 303  # type: ignore[attr-defined]
    assert reply.headers["location"] == "/review?country=BE#approval-fr"  # type: ignore[attr-defined]
    (entry,) = read_log(folder, "fictumab-2026").entries
    assert (entry.country, entry.language, entry.name) == ("BE", "fr", "Claire Dubois")
    # What dhpc status reads: Belgium's French letter is approved, and nothing else.
    campaign = load_campaign(folder)
    matrix = campaign_status(campaign, folder.parents[1] / "output", ())
    reviewed = {(c.country, c.language): c.reviewed for c in matrix.cells}
    assert reviewed[("BE", "fr")].startswith("approved by Claire Dubois")
    assert {key for key, value in reviewed.items() if value != "not recorded"} == {("BE", "fr")}
    page = server.get("/review?country=BE").body
    assert "Approved by Claire Dubois (Medical reviewer, Belgium) on" in page
    assert "Approve French" not in page and "Approve Dutch" in page


def test_a_comment_belongs_to_its_countrys_review(server: Server, folder: Path) -> None:
    fields = {
        "csrf": server.csrf(),
        "country": "BE",
        "language": "fr",
        "field": "summary[1]",
        "text": "L'AFMPS demande « DFGe ».",
        "name": "Claire Dubois",
        "role": "Medical reviewer",
        "back": "/review?country=BE",
    }
    reply = _post(server, "/comments", fields)
    assert reply.status == 303  # type: ignore[attr-defined]
    (line,) = (folder / "comments.jsonl").read_text("utf-8").splitlines()
    record = json.loads(line)
    assert list(record)[-2:] == ["content_sha256", "country"] and record["country"] == "BE"
    assert record["content_sha256"] == language_hash(load_campaign(folder).national("BE"), "fr")
    assert "« DFGe »" in server.get("/review?country=BE").body
    assert "« DFGe »" not in server.get("/review?country=FI").body
    (folder / "comments.jsonl").unlink()


def test_the_status_page_is_the_matrix_of_dhpc_status(server: Server, folder: Path) -> None:
    page = server.get("/status").body
    campaign = load_campaign(folder)
    findings = check_campaign(campaign, termbase=campaign_termbase(campaign))
    matrix = campaign_status(campaign, folder.parents[1] / "output", findings)
    rows = re.findall(r'<tr id="status-([A-Z]{2})-(\w+)">(.*?)</tr>', page, re.DOTALL)
    assert [(c, lang) for c, lang, _ in rows] == [(c.country, c.language) for c in matrix.cells]
    cells = {(c, lang): _text(html) for c, lang, html in rows}
    for cell in matrix.cells:
        shown = cells[(cell.country, cell.language)]
        checks = cell.checks
        assert (
            f"Errors: {checks.errors}, warnings: {checks.warnings}, notes: {checks.notes}" in shown
        )
        assert ("Deviations: 1" in shown) == (cell.deviations == 1)
        assert ("source text" in shown) == (cell.translated == "source")
    assert "up to date" in cells[("IE", "en")] and "not built" in cells[("MT", "en")]
    assert "Recipients: 3" in cells[("BE", "fr")] and "Recipients: 2" in cells[("BE", "nl")]
    assert "no list" in cells[("DE", "de")]
    assert SECRET not in page
    for path in ("/output/fictumab-2026/BE/mailing/recipients.csv", "/BE/mailing/recipients.csv"):
        assert server.get(path).status == 404


def test_a_saved_country_file_reaches_the_pages(server: Server, folder: Path) -> None:
    version = int(re.search(r'data-version="(\d+)"', server.get("/status").body).group(1))  # type: ignore[union-attr]
    belgium = folder / "countries" / "BE.yaml"
    before = belgium.read_text("utf-8")
    belgium.write_text(before.replace("débit de filtration", "débit de la filtration"), "utf-8")
    try:
        deadline = time.monotonic() + 5
        while True:  # the watcher sees the countries folder too
            page = server.get("/status").body
            now = int(re.search(r'data-version="(\d+)"', page).group(1))  # type: ignore[union-attr]
            if now > version or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert now > version
        assert "débit de la filtration" in _text(server.get("/letter/BE/fr").body)
        assert "débit de la filtration" not in _text(server.get("/letter/BE/nl").body)
    finally:
        belgium.write_text(before, "utf-8")
