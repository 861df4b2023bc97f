"""``dhpc serve`` in a real browser: Debian's Chromium driven by Playwright.

One server (``dhpc serve`` as a process, on a free loopback port) and one browser for
the module; the tests run in order on one content folder, a git repository with a
seeded defect (the range "1-3" of the source changed into "1-4" in Finnish), the way a
reviewer works through it: see the finding, comment, approve, see later edits.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Page, expect, sync_playwright
from serve_helpers import PROJECT, Server, running_server

from dhpc_gen.approval.log import read_log
from dhpc_gen.build import language_hash
from dhpc_gen.content import load_dhpc

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
DOCS = PROJECT / "docs"
EXAMPLE = PROJECT / "content" / "lemtrada-2019"
SEEDED_FIELD = "sections[1].paragraphs[0]"
SEEDED_ROW = "#field-sections-1-paragraphs-0"
SEEDED_MARK = re.compile("^1-\u2060?4$")
"""The letter's typesetting joins a range's parts (U+2060 WORD JOINER) so it never breaks."""

LETTER_TEXT = """() => {
    const frame = document.getElementById('letter-frame');
    const body = frame && frame.contentDocument && frame.contentDocument.body;
    return body ? body.innerText.replace(/[\\u00ad\\u2060]/g, '').replace(/[\\u00a0\\u202f]/g, ' ')
                : '';
}"""
"""The letter's words as a reader sees them: without soft hyphens, joiners, no-break spaces."""


def _wait_for_letter(page: Page, *, has: str = "", lacks: str = "", timeout: float = 2000) -> None:
    page.wait_for_function(
        f"([has, lacks]) => {{ const text = ({LETTER_TEXT})(); "
        "return text.length > 0 && text.includes(has) && (!lacks || !text.includes(lacks)); }",
        arg=[has, lacks],
        timeout=timeout,
    )


def _git(folder: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    content = root / "lemtrada-2019"
    shutil.copytree(EXAMPLE, content, ignore=shutil.ignore_patterns("sources"))
    fi = content / "fi.yaml"
    text = fi.read_text("utf-8")
    assert text.count("1-3 päivän") == 1
    fi.write_text(text.replace("1-3 päivän", "1-4 päivän"), "utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "the text as sent for review")
    return content


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[Server]:
    with running_server(folder, cwd=folder.parent) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.is_file(), "Debian's chromium is needed (make sysdeps)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1360, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def _serious_violations(page: Page, frame_selector: str | None = None) -> list[str]:
    """What axe-core finds serious or critical on the page (and in one of its frames)."""
    if frame_selector is None:
        target: Page | Frame = page
    else:
        handle = page.locator(frame_selector).element_handle()
        assert handle is not None
        frame = handle.content_frame()
        assert frame is not None
        target = frame
    target.add_script_tag(content=AXE.read_text("utf-8"))
    found = target.evaluate(
        """async () => {
            const result = await axe.run(document, {iframes: false, resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3)}));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['nodes']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def _reviewer(page: Page) -> None:
    page.fill("#reviewer-name", "Maija Tarkastaja")
    page.fill("#reviewer-role", "Regulatory affairs, Finland")


# --- in the order a reviewer works ------------------------------------------------------------


def test_pages_pass_axe_and_are_shown_in_the_readme(server: Server, browser: Browser) -> None:
    # axe is injected as a script: the pages' policy forbids that, on purpose.
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1360, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    page.goto(server.url + "preview?lang=fi")
    frame = page.frame_locator("#letter-frame")
    expect(frame.locator("mark.finding.error")).to_have_text(SEEDED_MARK)
    _wait_for_letter(page, has="1-4 päivän")
    page.wait_for_function("document.fonts.status === 'loaded'")
    # The finding's link shows its place in the letter.
    page.locator("#findings").get_by_role("link", name=SEEDED_FIELD).click()
    page.wait_for_function(
        "document.getElementById('letter-frame').contentWindow.location.hash === "
        "'#field-sections-1-paragraphs-0' && "
        "document.getElementById('letter-frame').contentWindow.scrollY > 0"
    )
    page.evaluate(
        "() => { window.scrollTo(0, 0); const w = "
        "document.getElementById('letter-frame').contentWindow; w.scrollBy(0, -120); }"
    )
    page.screenshot(path=str(DOCS / "serve-preview.png"))
    assert _serious_violations(page) == []
    assert _serious_violations(page, "#letter-frame") == []

    page.goto(server.url + "review")
    page.locator(SEEDED_ROW).scroll_into_view_if_needed()
    page.screenshot(path=str(DOCS / "serve-review.png"))
    assert _serious_violations(page) == []

    page.goto(server.url + "status")
    assert _serious_violations(page) == []
    context.close()


def test_keyboard_reaches_every_control(server: Server, page: Page) -> None:
    page.goto(server.url + "review")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    seen = set()
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement.id || document.activeElement.textContent"))
    assert "reviewer-name" in seen and "reviewer-role" in seen


def test_review_marks_the_seeded_finding_on_its_field(server: Server, page: Page) -> None:
    page.goto(server.url + "review")
    row = page.locator(SEEDED_ROW)
    expect(row.locator("th code")).to_have_text(SEEDED_FIELD)
    fi = row.locator('td[data-language="fi"]')
    expect(fi).to_have_class(re.compile(r"\bstate-error\b"))
    expect(fi.locator("mark.error")).to_have_text("1-4")  # the review shows the plain text
    expect(fi.locator("li.finding")).to_contain_text("range '1-3' of the source is '1-4' in fi")
    expect(row.locator('td[data-language="sv"] mark')).to_have_text("1-3")
    # No other row has this finding.
    assert page.locator("td mark.error", has_text="1-4").count() == 1


def test_a_comment_is_shown_and_written_to_the_folder(
    server: Server, page: Page, folder: Path
) -> None:
    page.goto(server.url + "review")
    _reviewer(page)
    row = page.locator(SEEDED_ROW)
    cell = row.locator('td[data-language="fi"]')
    cell.locator("summary").click()
    cell.get_by_label(f"Comment on {SEEDED_FIELD} in Finnish").fill(
        "Lähteessä 1–3 päivää, ei 1–4. <b>Korjattava</b>."
    )
    cell.get_by_role("button", name="Add comment").click()
    page.wait_for_url(re.compile(r"/review#field-sections-1-paragraphs-0$"))
    shown = page.locator(SEEDED_ROW).locator('td[data-language="fi"] ul.comments li')
    expect(shown).to_contain_text("Maija Tarkastaja (Regulatory affairs, Finland)")
    expect(shown).to_contain_text("<b>Korjattava</b>")  # shown as typed, not as markup
    (line,) = (folder / "comments.jsonl").read_text("utf-8").splitlines()
    record = json.loads(line)
    assert (record["language"], record["field"], record["author"]) == (
        "fi",
        SEEDED_FIELD,
        "Maija Tarkastaja",
    )
    assert record["content_sha256"] == language_hash(load_dhpc(folder), "fi")


def test_the_name_is_asked_once_and_kept_in_the_browser(server: Server, page: Page) -> None:
    page.goto(server.url + "review")
    _reviewer(page)
    page.reload()
    expect(page.locator("#reviewer-name")).to_have_value("Maija Tarkastaja")
    page.fill("#reviewer-name", "")
    page.get_by_role("button", name="Approve Finnish").click()
    expect(page.locator("#reviewer-missing")).to_be_visible()
    assert page.url.endswith("/review")


def test_approve_fi_writes_the_signoff_entry(server: Server, page: Page, folder: Path) -> None:
    page.goto(server.url + "review")
    _reviewer(page)
    page.get_by_label("Note (optional)").nth(1).fill("checked against the source")
    page.get_by_role("button", name="Approve Finnish").click()
    page.wait_for_url(re.compile(r"#approval-fi$"))
    expect(page.locator("#approval-fi")).to_contain_text(
        "Approved by Maija Tarkastaja (Regulatory affairs, Finland) on"
    )
    expect(page.get_by_role("button", name="Approve Finnish")).to_have_count(0)
    dhpc = load_dhpc(folder)
    (entry,) = read_log(folder, dhpc.id).entries  # the chain checks out, as dhpc signoff reads it
    assert (entry.language, entry.decision, entry.name, entry.role, entry.comment) == (
        "fi",
        "approved",
        "Maija Tarkastaja",
        "Regulatory affairs, Finland",
        "checked against the source",
    )
    assert entry.content_sha256 == language_hash(dhpc, "fi")
    result = subprocess.run(
        [sys.executable, "-m", "dhpc_gen", "check", str(folder)], capture_output=True, text=True
    )
    assert "fi: approved by Maija Tarkastaja" in result.stdout + result.stderr


def test_an_approval_without_the_csrf_token_is_refused(
    server: Server, page: Page, folder: Path
) -> None:
    page.goto(server.url + "review")
    before = (folder / "signoffs.jsonl").read_bytes()
    status = page.evaluate(
        """async () => (await fetch('/approve', {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: new URLSearchParams({language: 'sv', name: 'X', role: 'Y',
                                       content_sha256: 'x', back: '/review'})})).status"""
    )
    assert status == 403
    assert (folder / "signoffs.jsonl").read_bytes() == before


def test_preview_follows_a_save_within_two_seconds(
    server: Server, page: Page, folder: Path
) -> None:
    page.goto(server.url + "preview?lang=fi")
    frame = page.frame_locator("#letter-frame")
    expect(frame.locator("mark.finding.error")).to_have_text(SEEDED_MARK)
    _wait_for_letter(page, has="1-4 päivän")
    fi = folder / "fi.yaml"
    fi.write_text(fi.read_text("utf-8").replace("1-4 päivän", "1-3 päivän"), "utf-8")
    saved = time.monotonic()
    _wait_for_letter(page, has="1-3 päivän", lacks="1-4 päivän", timeout=2000)
    assert time.monotonic() - saved < 2.0
    expect(frame.locator("mark.finding.error")).to_have_count(0)
    expect(page.locator("#findings")).not_to_contain_text("'1-4'")


def test_review_highlights_the_change_since_the_approval(server: Server, page: Page) -> None:
    page.goto(server.url + "review")
    row = page.locator(SEEDED_ROW)
    expect(row.locator(".badge.changed")).to_contain_text("Changed since the last approval")
    expect(row.locator('td[data-language="fi"] .before del')).to_contain_text("1-4 päivän")
    expect(page.locator("#approval-fi")).to_contain_text("the text has changed since")
    # Only the changed field is highlighted.
    assert page.locator("tr.field.changed").count() == 1


def test_a_broken_yaml_shows_its_message_in_the_page(
    server: Server, page: Page, folder: Path
) -> None:
    page.goto(server.url + "preview?lang=fi")
    expect(page.frame_locator("#letter-frame").locator("h1")).to_be_visible()
    fi = folder / "fi.yaml"
    good = fi.read_text("utf-8")
    fi.write_text(good.replace("summary:", "summary: [", 1), "utf-8")
    build = subprocess.run(
        [sys.executable, "-m", "dhpc_gen", "build", folder.name, "--out", "out"],
        cwd=folder.parent,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 1
    message = build.stderr.strip()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(message.splitlines()[0], timeout=2000)
    assert message in alert.inner_text()
    assert "Traceback" not in page.content()
    fi.write_text(good, "utf-8")
    expect(page.frame_locator("#letter-frame").locator("h1")).to_be_visible(timeout=2000)


def test_the_pages_speak_the_browsers_language(server: Server, browser: Browser) -> None:
    context = browser.new_context(locale="sv-FI")
    page = context.new_page()
    page.goto(server.url + "review")
    expect(page.locator("h1")).to_have_text("Granskning")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    context.close()


def test_a_campaign_is_previewed_country_by_country(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """One page more, on the example campaign: Belgium's French letter, then the matrix."""
    root = tmp_path_factory.mktemp("campaign")
    shutil.copytree(PROJECT / "content" / "fictumab-2026", root / "fictumab-2026")
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1360, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    with running_server(root / "fictumab-2026", cwd=root) as server:
        page.goto(server.url + "preview?country=BE&lang=fr")
        countries = page.get_by_role("navigation", name="Country")
        expect(countries.get_by_role("link", name="Belgium (BE)")).to_have_attribute(
            "aria-current", "page"
        )
        # The national text: Belgium's wording of the placeholders, its deviation applied.
        _wait_for_letter(page, has="Fictapharm Belgium SA/NV souhaite vous informer")
        _wait_for_letter(page, has="débit de filtration glomérulaire estimé")
        deviated = page.frame_locator("#letter-frame").locator("#field-summary-1")
        expect(deviated).to_have_class(re.compile(r"\bfinding-note\b"))
        assert _serious_violations(page) == []
        page.get_by_role("link", name="Status").click()
        expect(page.locator("#status-BE-fr")).to_contain_text("Deviations: 1")
        assert _serious_violations(page) == []
    context.close()
