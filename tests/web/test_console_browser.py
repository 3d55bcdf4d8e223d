"""The console in headless Chromium, as an operator uses it: log in, see the failing
group, fix the mapping, retry, watch the record reach done; dismiss; reconcile a period
with one injected difference. Screenshots of each page go to tests/web/screenshots/."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector import demo
from connector.sandbox.acumatica.simulator import AcumaticaSimulator
from tests.commands.support import BAD, FLOW, KIND, change_posted_amount, cli
from tests.web.conftest import ACUMATICA_FLOW, TOKEN, ConsoleService, running_service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).parent / "screenshots"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)",
)

if CHROMIUM is not None:
    from playwright.async_api import Page, async_playwright, expect


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    """A fresh headless Chromium page (Debian's chromium: Playwright downloads nothing)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        yield await context.new_page()
        await context.close()
        await browser.close()


async def shot(page: Page, name: str) -> None:
    # Under pytest-xdist several tests log in at once and shoot the same page: each writes
    # its own file and renames it into place, so a screenshot is never half one, half other.
    partial = SCREENSHOTS / f".{name}.{os.getpid()}.png"
    await page.screenshot(path=str(partial), full_page=True)
    partial.replace(SCREENSHOTS / f"{name}.png")


async def log_in(page: Page, service: ConsoleService) -> None:
    await page.goto(f"{service.url}/console/")
    await expect(page).to_have_url(f"{service.url}/console/login")
    await shot(page, "01-login")
    await page.fill("input[name=token]", "not-the-token")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_contain_text("not the admin token")
    await page.fill("input[name=token]", TOKEN)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("Flows")


async def test_fix_a_failing_group_retry_it_and_dismiss_the_rest(
    service: ConsoleService, page: Page
) -> None:
    """Log in; the refused invoices are one group; fix the cost centers on the mappings
    page; retry one record (done, in its audit), then the group; dismiss the bill's group
    with a reason."""
    url = service.url
    await log_in(page, service)
    await expect(page.locator("body")).to_contain_text("servicetitan-infor")
    await shot(page, "02-flows")

    await page.click("header >> text=Runs")
    await expect(page.locator("table")).to_contain_text("completed with errors")
    await expect(page.locator("svg.chart rect.errors")).to_have_count(24)
    await shot(page, "03-runs")

    await page.click("header >> text=Errors")
    invoices = page.locator("section.group", has_text="invoices_to_m3")
    await expect(invoices).to_contain_text("4 × servicetitan-infor")
    await expect(invoices).to_contain_text(f"Accounting identity {BAD} does not exist")
    await shot(page, "04-errors")

    await page.click("header >> text=Mappings")
    for key, value in service.good.items():
        row = page.locator(f'tr[data-mapping="{KIND}:{key}"]')
        await row.locator("input[name=value]").fill(value)
        await row.get_by_role("button", name="Save").click()
        await expect(page.locator(".flash")).to_contain_text(f"Saved mapping {KIND} {key}")
    await shot(page, "05-mappings")

    await page.click("header >> text=Errors")
    await invoices.get_by_role("link", name="Records, retry one, dismiss…").click()
    first = page.locator("tr[data-source-id]").first
    source_id = await first.get_attribute("data-source-id")
    assert source_id is not None
    await shot(page, "06-error-group")
    await first.get_by_role("button", name="Retry").click()
    await expect(page.locator(".flash")).to_contain_text(
        f"Retried servicetitan-infor {source_id}: 1 done"
    )
    await expect(page.locator("tr[data-source-id]")).to_have_count(3)

    await page.goto(f"{url}/console/audit?q={source_id}")
    await expect(page.locator("strong.state").first).to_have_text("done")
    await shot(page, "07-audit")

    await page.click("header >> text=Errors")
    await invoices.get_by_role("button", name="Retry all 3").click()
    await expect(page.locator(".flash")).to_contain_text("Retried 3 record(s): 3 done")
    await expect(page.locator("section.group", has_text="invoices_to_m3")).to_have_count(0)

    bills = page.locator("section.group", has_text="ap_bills_to_m3")
    await bills.get_by_role("link", name="Records, retry one, dismiss…").click()
    await page.fill("input[name=reason]", "keyed by hand in M3 by accounting")
    await page.get_by_role("button", name="Dismiss").click()
    await expect(page.locator(".flash")).to_contain_text("Dismissed 1 record(s)")
    await expect(page.locator("main")).to_contain_text("No open errors.")
    await shot(page, "08-errors-cleared")



async def test_reconcile_a_period_lists_the_one_injected_difference(
    service: ConsoleService, page: Page
) -> None:
    """After the invoices land, one amount changed in M3 shows as the only difference of
    the period, and the CSV export lists it."""
    await log_in(page, service)
    await page.goto(f"{service.url}/console/mappings")
    for key, value in service.good.items():
        row = page.locator(f'tr[data-mapping="{KIND}:{key}"]')
        await row.locator("input[name=value]").fill(value)
        await row.get_by_role("button", name="Save").click()
    await page.goto(f"{service.url}/console/errors")
    for group in ("invoices_to_m3", "ap_bills_to_m3"):
        await page.locator("section.group", has_text=group).get_by_role(
            "button", name="Retry all"
        ).click()
    await expect(page.locator("main")).to_contain_text("No open errors.")

    inbn = change_posted_amount(service.env, "400003", "25.00")
    await page.click("header >> text=Reconcile")
    await page.select_option("select[name=flow]", "servicetitan-infor")
    await page.fill("input[name=from]", "2000-01-01")
    await page.fill("input[name=to]", "2099-12-31")
    await page.get_by_role("button", name="Reconcile").click()
    differences = page.locator("table.differences tr[data-source-id]")
    await expect(differences).to_have_count(1)
    await expect(differences.first).to_have_attribute("data-source-id", "400003")
    await expect(differences.first).to_contain_text(inbn)
    await expect(differences.first).to_contain_text("amount differs by -25.00")
    await shot(page, "10-reconcile")
    link = page.get_by_role("link", name="Export the differences as CSV")
    href = await link.get_attribute("href")
    assert href is not None
    response = await page.request.get(f"{service.url}{href}")
    assert response.ok and "400003" in await response.text()


async def test_the_review_queue_takes_the_missing_mapping_and_resumes(
    service: ConsoleService, page: Page
) -> None:
    """Cost center mappings deleted on the mappings page send the retried documents to
    review, one group per missing key; each group's form adds the mapping and resumes
    its records, which land."""
    await log_in(page, service)
    await page.goto(f"{service.url}/console/mappings")
    for key in service.good:
        await page.locator(f'tr[data-mapping="{KIND}:{key}"]').get_by_role(
            "button", name="Delete"
        ).click()
        await expect(page.locator(".flash")).to_contain_text(f"Deleted mapping {KIND} {key}")
    await page.goto(f"{service.url}/console/errors")
    await page.locator("section.group", has_text="invoices_to_m3").get_by_role(
        "button", name="Retry all"
    ).click()
    await expect(page.locator(".flash")).to_contain_text("4 waiting for review")
    await page.locator("section.group", has_text="ap_bills_to_m3").get_by_role(
        "button", name="Retry all"
    ).click()

    await page.click("header >> text=Review")
    groups = page.locator(f'section.group[data-mapping^="{KIND}:"]')
    await expect(groups.first).to_be_visible()
    await shot(page, "09-review")
    waiting = await groups.count()
    assert waiting >= 1
    for _ in range(waiting):
        group = groups.first
        key = (await group.get_attribute("data-mapping") or "").split(":", 1)[1]
        await group.locator("input[name=value]").fill(service.good[key])
        await group.get_by_role("button", name="Add mapping and resume").click()
        await expect(page.locator(".flash")).to_contain_text(
            f"Mapped {KIND} {key} → {service.good[key]}; resumed"
        )
        await expect(page.locator(".flash")).not_to_contain_text("still failing")
    await expect(page.locator("main")).to_contain_text("Nothing is waiting for a mapping.")


async def test_a_document_changed_after_posting_shows_its_diff_and_can_be_accepted(
    contractor: demo.DemoEnvironment, tmp_path: Path, page: Page
) -> None:
    """An invoice whose amount changed in ServiceTitan after it was posted waits in review
    with the field diff; Accept records the change as handled."""
    code, _, err = await cli(contractor, "sync", "--flow", FLOW)
    assert code == 0, err
    sim: Any = contractor.simulators["servicetitan"]
    invoice = sim.store.table("invoices").rows[400001]
    line = invoice["items"][0]
    line["price"] = str(Decimal(str(line["price"])) + 10)
    line["total"] = str(Decimal(str(line["total"])) + 10 * Decimal(str(line["quantity"])))
    invoice["total"] = str(Decimal(str(invoice["total"])) + 10 * Decimal(str(line["quantity"])))
    sim.store.touch("invoices", invoice, notify=False)
    code, _, err = await cli(contractor, "sync", "--flow", FLOW)
    assert code == 1 and "attention needed" in err, err

    async with running_service(contractor, tmp_path / "service.log", {}) as service:
        await log_in(page, service)
        await page.click("header >> text=Review")
        changed = page.locator('section.group[data-changed="400001"]')
        await expect(changed).to_contain_text("changed at the source after it was posted")
        await shot(page, "11-changed-after-posting")
        await changed.get_by_role("button", name="Accept").click()
        await expect(page.locator(".flash")).to_contain_text(
            "Accepted the change of servicetitan-infor 400001: 1 done"
        )
        await expect(page.locator("main")).to_contain_text("No posted document has changed")


async def test_an_acumatica_flow_reconciles_and_lists_the_invoice_changed_there(
    acumatica_service: ConsoleService, page: Page
) -> None:
    """The flows page says servicetitan-acumatica reconciles its invoices, payments and
    bills; its link opens the report, which agrees after the sync and then lists the one
    invoice whose amount was changed in Acumatica, with its RefNbr."""
    service = acumatica_service
    await log_in(page, service)
    row = page.locator(f'tr[data-flow="{ACUMATICA_FLOW}"] td.reconcile')
    await expect(row).to_contain_text("invoices_to_acumatica")
    await expect(row).to_contain_text("bills_to_acumatica")
    await shot(page, "11-flows-reconciliation")
    await row.get_by_role("link", name="reconcile").click()
    await page.fill("input[name=from]", "2000-01-01")
    await page.fill("input[name=to]", "2099-12-31")
    await page.get_by_role("button", name="Reconcile").click()
    await expect(page.locator("p.agrees")).to_have_text("Source and target agree.")

    sim = service.env.simulators["acumatica"]
    assert isinstance(sim, AcumaticaSimulator)
    invoice = next(r for r in sim.tenant.tables["Invoice"].ordered()
                   if str(r.values.get("CustomerOrder", "")).startswith("ST-INV-"))
    invoice.values["Amount"] = float(invoice.values["Amount"]) - 7
    await page.get_by_role("button", name="Reconcile").click()
    differences = page.locator("table.differences tr[data-source-id]")
    await expect(differences).to_have_count(1)
    await expect(differences.first).to_have_attribute(
        "data-source-id", invoice.values["CustomerOrder"].removeprefix("ST-INV-"))
    await expect(differences.first).to_contain_text(invoice.values["ReferenceNbr"])
    await expect(differences.first).to_contain_text("amount differs by 7.00")
    await shot(page, "12-reconcile-acumatica")
