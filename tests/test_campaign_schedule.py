"""How a campaign's letters are shared between workers, and what does not depend on it."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner

from dhpc_gen.campaign_build import (
    CountryPlan,
    Schedule,
    build_campaign,
    language_cost,
    letter_cost,
    plan_build,
    render_campaign,
)
from dhpc_gen.cli import main
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.errors import DhpcError, RenderError
from tests.conftest import CAMPAIGN

Task = tuple[str, str]


def simulate(
    schedule: Schedule,
    costs: Mapping[Task, float],
    language_costs: Mapping[str, float],
    workers: int,
) -> tuple[dict[int, list[Task]], dict[int, float]]:
    """Run ``schedule`` on ``workers`` simulated workers: a letter takes its cost, plus
    its language's cost the first time a worker renders that language. Returns each
    worker's letters, in order, and when it was done."""
    clock = dict.fromkeys(range(workers), 0.0)
    loaded: dict[int, set[str]] = {worker: set() for worker in clock}
    done: dict[int, list[Task]] = {worker: [] for worker in clock}
    free = set(clock)
    while free:
        worker = min(free, key=lambda w: (clock[w], w))
        task = schedule.next_for(worker)
        if task is None:
            free.remove(worker)
            continue
        if task[1] not in loaded[worker]:
            loaded[worker].add(task[1])
            clock[worker] += language_costs[task[1]]
        clock[worker] += costs[task]
        done[worker].append(task)
    return done, clock


def example_costs() -> tuple[dict[Task, float], dict[str, float]]:
    plans = plan_build(load_campaign(CAMPAIGN))
    costs = {
        (plan.dhpc.meta.country, language): letter_cost(plan.dhpc, language)
        for plan in plans
        for language in plan.languages
    }
    return costs, {language: language_cost(language) for _, language in costs}


def test_each_letter_once_each_language_loaded_once_and_the_workers_end_together() -> None:
    costs, language_costs = example_costs()
    # German's dictionary is the big one: it costs about as much as several letters.
    assert language_costs["de"] > 3 * max(
        language_costs[lang] for lang in language_costs if lang != "de"
    )
    done, done_at = simulate(Schedule(costs, language_costs), costs, language_costs, workers=2)
    assert sorted(task for tasks in done.values() for task in tasks) == sorted(costs)
    languages = [{language for _, language in tasks} for tasks in done.values()]
    assert not languages[0] & languages[1]  # no dictionary loaded twice
    # German, the most work, is begun first and kept by one worker.
    german = next(tasks for tasks in done.values() if tasks[0][1] == "de")
    assert [language for _, language in german[:3]] == ["de", "de", "de"]
    # The end: the workers finish within about a letter of each other, near half the work
    # each (a letter, and what starting on its language costs, cannot be split).
    first, last = sorted(done_at.values())
    assert last - first <= 1.5 * max(costs.values())
    assert last <= (sum(costs.values()) + sum(language_costs.values())) / 2 + max(costs.values())


def test_a_free_worker_takes_letters_of_a_begun_language_when_that_is_quicker() -> None:
    costs = {(f"C{n}", "en"): 1.0 for n in range(6)}
    done, _ = simulate(Schedule(costs, {"en": 0.5}), costs, {"en": 0.5}, workers=2)
    assert sorted(done[0] + done[1]) == sorted(costs)
    assert len(done[0]) == 3 and len(done[1]) == 3
    # Not when starting on the language costs more than the work that is left.
    costs = {("A", "de"): 1.0, ("B", "de"): 1.0}
    done, _ = simulate(Schedule(costs, {"de": 3.5}), costs, {"de": 3.5}, workers=2)
    assert done == {0: [("A", "de"), ("B", "de")], 1: []}


def test_the_longest_letter_and_the_costliest_language_come_first() -> None:
    costs = {("IE", "en"): 1.0, ("MT", "en"): 2.0, ("AT", "de"): 1.0, ("FI", "fi"): 1.5}
    schedule = Schedule(costs, {"en": 0.2, "de": 3.0, "fi": 0.2})
    assert schedule.next_for(0) == ("AT", "de")  # 3.0 + 1.0 of work
    assert schedule.next_for(1) == ("MT", "en")  # the longer English letter first
    assert schedule.next_for(1) == ("IE", "en")
    assert schedule.next_for(1) == ("FI", "fi")
    assert schedule.next_for(0) is None and schedule.next_for(1) is None


def outputs(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_outputs_results_and_manifests_do_not_depend_on_the_workers(tmp_path: Path) -> None:
    campaign = load_campaign(CAMPAIGN)
    chosen = ["FI", "BE", "AT"]  # six letters in four languages
    builds = {}
    seen: dict[int, list[tuple[str, str]]] = {}
    for jobs in (1, 3):
        seen[jobs] = []
        builds[jobs] = build_campaign(
            campaign,
            tmp_path / str(jobs),
            countries=chosen,
            jobs=jobs,
            progress=lambda country, language, jobs=jobs: seen[jobs].append((country, language)),
        )
    one, three = builds[1], builds[3]
    assert outputs(tmp_path / "1") == outputs(tmp_path / "3")
    assert [r.out_dir.name for r in one.countries] == [r.out_dir.name for r in three.countries]
    assert [r.out_dir.name for r in one.countries] == chosen  # the order they were named in
    assert [p.relative_to(tmp_path / "1") for p in one.written] == [
        p.relative_to(tmp_path / "3") for p in three.written
    ]
    assert one.manifest == three.manifest
    assert [r.manifest for r in one.countries] == [r.manifest for r in three.countries]
    # Progress comes as the letters do; every letter once.
    assert sorted(seen[1]) == sorted(seen[3]) and len(seen[3]) == 6
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_letter_that_fails_is_named_and_the_workers_stop(jobs: int) -> None:
    campaign = load_campaign(CAMPAIGN)
    plans = [
        CountryPlan(campaign.national("IE"), ("en", "xx")),
        CountryPlan(campaign.national("MT"), ("en",)),
    ]
    with pytest.raises(DhpcError) as raised:
        render_campaign(plans, jobs=jobs)
    assert str(raised.value).startswith("the xx letter of IE: no catalog for language 'xx'")
    assert raised.value.exit_code == 1
    assert multiprocessing.active_children() == []


def test_a_country_that_cannot_be_written_leaves_nothing_half_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "fictumab-2026").mkdir(parents=True)
    (out / "fictumab-2026" / "SE").write_text("in the way", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(CAMPAIGN), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 1
    assert "SE" in result.output and "Traceback" not in result.output
    # Every other country's letters were rendered and staged, and are gone again.
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "fictumab-2026",
        "fictumab-2026/SE",
    ]
    assert multiprocessing.active_children() == []


def test_a_check_reports_in_plan_order_whatever_finishes_first(tmp_path: Path) -> None:
    # Austria's German letter comes back last (its dictionary is the big one), yet is
    # named first, as Austria is named first.
    order = ["AT", "SE", "IE"]
    build_campaign(load_campaign(CAMPAIGN), tmp_path, countries=order, jobs=2)
    for country in order:
        pdf = next((tmp_path / "fictumab-2026" / country).glob("*.pdf"))
        pdf.write_bytes(pdf.read_bytes() + b"\n")
    selected = [arg for country in order for arg in ("--country", country)]
    result = CliRunner().invoke(
        main, ["build", str(CAMPAIGN), "--out", str(tmp_path), "--check", "--jobs", "2", *selected]
    )
    assert result.exit_code == 1
    named = [line.strip() for line in result.output.splitlines() if ".pdf: differs" in line]
    assert [Path(line.split(":")[0]).parent.name for line in named] == order


def test_characters_the_fonts_lack_are_refused_even_when_typed_as_escapes(
    campaign_dir: Path, tmp_path: Path
) -> None:
    sweden = campaign_dir / "countries" / "SE.yaml"
    text = sweden.read_text(encoding="utf-8")
    sweden.write_text(text.replace("title: Medicinsk chef", "title: Medicinsk chef 😀"), "utf-8")
    finland = campaign_dir / "countries" / "FI.yaml"
    text = finland.read_text(encoding="utf-8")
    company = text.split("company: ", 1)[1].split("\n", 1)[0]
    finland.write_text(text.replace(f"company: {company}", 'company: "Ficta\\u2011pharm"'), "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(campaign_dir), "--out", str(out)])
    assert result.exit_code == 1
    assert re.search(
        r"SE\.yaml:\d+ signatories\[0\]\.title: the letter's font cannot print '😀'", result.output
    )
    assert re.search(r"FI\.yaml:\d+ signatories\[0\]\.company: .*U\+2011", result.output)
    assert not out.exists()


def test_a_worker_that_dies_stops_the_build_and_nothing_is_written(tmp_path: Path) -> None:
    killed: list[int] = []

    def kill_a_worker(country: str, language: str) -> None:
        if not killed:  # the first letter is back: both workers are rendering the next
            worker = multiprocessing.active_children()[0]
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(worker.pid)

    with pytest.raises(RenderError, match=r"letter of \w\w: the process rendering it stopped"):
        build_campaign(load_campaign(CAMPAIGN), tmp_path, jobs=2, progress=kill_a_worker)
    assert killed
    assert list(tmp_path.iterdir()) == []
    assert multiprocessing.active_children() == []
