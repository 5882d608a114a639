"""From an analyst's own JupyterLab kernel, on a real hub stack (``ecc hub start``, as
``make demo`` runs it): every attempt of the issue's table fails. One script runs in the
analyst's kernel (:mod:`tests.security.attacks`); each test reads its part of the
outcome and names the finding it covers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.security.attacks import EXECUTE_JS, parse, script
from tests.support.builders import demo_sqlite
from tests.support.hubstack import Stack, hub_stack, need_proxy, passable, submit_login
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS, ROOT, need_chromium

pytestmark = pytest.mark.slow  # in the "servers" xdist group (conftest.py)
TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def live_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("live")
    passable(folder)  # the attacker may even pass through to the file's folder
    url = demo_sqlite(folder, customers=200, seed=5, today=TODAY)
    return Path(url.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def stack(live_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    need_chromium()
    need_proxy()
    if os.geteuid() != 0:
        pytest.fail("the attack suite runs the stack as root, as make demo does")
    env = {
        "ECC_SMTP_URL": "smtp://ops:mail-s3cr3t@127.0.0.1:9",
        "ECC_SECRET_KEY": "k" * 64,
        "ECC_HUB_SCHEDULER": "1",
    }
    folder = tmp_path_factory.mktemp("hub")
    with hub_stack(f"sqlite:///{live_db}", folder, pool_size=1, extra_env=env) as s:
        yield s


@pytest.fixture(scope="module")
def outcome(stack: Stack, live_db: Path) -> dict[str, Any]:
    """Sign in as the analyst, open JupyterLab, run the attacks in a kernel of theirs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            submit_login(page, stack, "analyst")
            page.wait_for_url("**/user/analyst/lab**", timeout=180_000)
            page.wait_for_selector(".jp-LabShell", timeout=120_000)
            xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
            code = script(str(stack.hub_dir), str(live_db), str(ROOT), stack.dashboards_port)
            printed = page.evaluate(EXECUTE_JS, [f"{stack.url}/user/analyst/", xsrf, code])
        finally:
            browser.close()
    return parse(printed)


def refused(outcome: dict[str, Any], *attempts: str) -> None:
    done = {a: outcome[a] for a in attempts if not str(outcome[a]).startswith("refused:")}
    assert not done, f"attempts that succeeded: {done}"


def test_finding_1_the_analyst_runs_as_a_system_user_of_their_own(outcome: dict[str, Any]) -> None:
    assert outcome["uid"] != 0 and outcome["uid"] != os.geteuid()
    assert outcome["identity"] == "ecc-analyst"


def test_finding_1_the_hubs_state_and_other_processes_are_out_of_reach(
    outcome: dict[str, Any],
) -> None:
    refused(
        outcome,
        "read the cookie secret",
        "read the demo logins",
        "read the hub database",
        "list the hub folder",
        "read the hub's environment",
        "read a service's environment",
        "read the proxy's environment",
        "read a VP kernel's connection file",
        "change a dashboard notebook",
        "write into the checkout",
    )


def test_finding_2_no_job_can_be_planted_for_the_scheduler(outcome: dict[str, Any]) -> None:
    refused(
        outcome,
        "write apscheduler_jobs in the live database",
        "apscheduler_jobs through the analysts' database",
    )


def test_finding_3_analysts_read_and_change_nothing(outcome: dict[str, Any]) -> None:
    assert outcome["given database reads"] == 200  # the analysts' own database works
    refused(
        outcome,
        "open the live database",
        "write dashboard_metrics in the live database",
        "write executive_alerts in the live database",
        "write share_links in the live database",
        "dashboard_metrics through the analysts' database",
        "executive_alerts through the analysts' database",
        "share_links through the analysts' database",
        "mail_outbox through the analysts' database",
        "alert_subscribers through the analysts' database",
        "ecc alerts ack --by vp",
        "ecc share create",
    )
    assert outcome["ecc_env"] == ["ECC_DATABASE_URL", "ECC_HOME", "ECC_NOTEBOOKS"]
    assert outcome["secrets_in_env"] == []


def test_finding_4_a_preheated_kernels_channel_needs_its_proof(outcome: dict[str, Any]) -> None:
    refused(outcome, "take a VP's page request")


def test_finding_7_the_service_port_answers_no_one_without_a_session(
    outcome: dict[str, Any],
) -> None:
    refused(outcome, "read the dashboards without a session")
