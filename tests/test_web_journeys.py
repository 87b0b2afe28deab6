"""Each role's main journey in Debian chromium at desktop (1366×768) and phone (390×844)
width, with screenshots in test-artifacts/screenshots/ (`journey-*`), an axe-core scan of
the main pages (no serious or critical violation) and no sideways scrolling at 360 px.

The clicks from the login page to a task marked done on a phone are counted and written to
test-artifacts/clicks-officer-phone.txt (issue 12 asks for that figure)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from web_browser import (
    ARTIFACTS,
    DESKTOP,
    NARROW,
    PHONE,
    axe_violations,
    blocking,
    horizontal_overflow,
    launch,
    open_as,
    require_browser,
    shot,
)
from web_server import LOGINS, LiveServer, cheap_hashes, demo_database

from engine import api
from engine.directory import accounts
from engine.domain.tasks import TaskKey
from engine.reporting import dashboard

pytestmark = pytest.mark.browser

UNIT = "vinh-thanh"
GOOD_DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_browser()
    with cheap_hashes():
        db = demo_database(tmp_path_factory.mktemp("journeys"))
        with LiveServer(db) as live:
            yield live


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


class Clicks:
    """Counts the taps of a journey (each `tap` is one click or tap of a person)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.steps: list[str] = []

    def tap(self, selector: str, what: str) -> None:
        self.page.click(selector)
        self.steps.append(what)


def test_officer_marks_a_task_done_on_a_phone_in_few_taps(browser: Any,
                                                           server: LiveServer) -> None:
    context = browser.new_context(viewport=PHONE, locale="vi-VN",
                                  timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    clicks = Clicks(page)
    page.goto(f"{server.url}/login")
    username, password = LOGINS["officer"]
    page.fill("#username", username)
    page.fill("#password", password)
    clicks.tap("form[action='/login'] button[type=submit]", "Đăng nhập")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    shot(page, "journey-officer-dashboard-phone")
    first = page.locator("#my-tasks .task-line a").first
    href = first.get_attribute("href")
    assert href
    plan, code = href.rsplit("/", 2)[-2:]
    key = TaskKey(UNIT, plan, code)
    before = api.get_task(server.rt, key)
    assert not server.rt.machine.is_done(before.state)
    clicks.tap(f"#my-tasks a[href='{href}']", "Việc của tôi: nhiệm vụ đầu tiên")
    page.wait_for_url(f"**{href}")
    quick = page.locator(".quick-actions a.primary")
    box = quick.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"], box  # on the first screen
    shot(page, "journey-officer-task-phone")
    clicks.tap(".quick-actions a.primary", "Hoàn thành (kèm văn bản)")
    page.wait_for_url(re.compile(r".*\?form=complete#action-complete$"))
    page.fill("#complete-docs", GOOD_DOC)
    page.fill("#complete-result", "Đã triển khai theo kế hoạch")
    clicks.tap("#action-complete button[type=submit]", "Lưu")
    page.wait_for_url(re.compile(r".*\?ok=complete$"))
    assert server.rt.machine.is_done(api.get_task(server.rt, key).state)
    shot(page, "journey-officer-done-phone")
    (ARTIFACTS / "clicks-officer-phone.txt").write_text(
        f"{len(clicks.steps)} lần chạm từ trang đăng nhập đến nhiệm vụ đã hoàn thành "
        f"(điện thoại {PHONE['width']}×{PHONE['height']}): " + " → ".join(clicks.steps)
        + "\n", "utf-8")
    assert len(clicks.steps) <= 4, clicks.steps
    context.close()


def test_officer_desktop_my_tasks_and_search(browser: Any, server: LiveServer) -> None:
    page = open_as(browser, server, "officer", DESKTOP)
    mine = int(page.locator("#my-count").inner_text())
    page.click("nav.mainnav a[href='/my-tasks']")
    page.wait_for_url(re.compile(r".*tasks\?mine=1$"))
    assert f"{mine} nhiệm vụ" in page.locator("#result-count").inner_text()
    rows = page.locator("table.task-table tbody tr")
    assert rows.count() == min(mine, 25)
    person = dashboard.person_of(server.rt, next(
        u for u in accounts.list_users(server.rt) if u.username == LOGINS["officer"][0]))
    assert person is not None
    ordered = dashboard.work_order(server.rt, dashboard.owned_by(
        server.rt, api.list_tasks(server.rt, UNIT), person))
    first_ref = rows.first.get_attribute("data-task")
    assert first_ref == f"{ordered[0].plan}/{ordered[0].code}"  # overdue first, then by date
    shot(page, "journey-officer-my-tasks-desktop")
    page.goto(f"{server.url}/units/{UNIT}/tasks")
    page.fill("#q", "khao sat hai long")
    page.click("form.filters .search-row button")
    assert page.locator("table.task-table tbody tr").count() > 0
    assert "Khảo sát" in page.locator("table.task-table").inner_text() or \
        "khảo sát" in page.locator("table.task-table").inner_text()
    shot(page, "journey-officer-search-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "journey-officer-search-phone")
    page.context.close()


def test_leader_sees_who_is_behind_and_assigns_from_the_list(browser: Any,
                                                             server: LiveServer) -> None:
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_as(browser, server, "leader", viewport)
        page.goto(f"{server.url}/behind")
        page.wait_for_url(f"**/units/{UNIT}/behind")
        load = dashboard.workload(server.rt, UNIT)
        first = page.locator("table.people-load tbody tr").first
        assert load.people[0].person.name in first.inner_text()
        shot(page, f"journey-leader-behind-{name}")
        page.context.close()
    page = open_as(browser, server, "leader", DESKTOP)
    key = TaskKey(UNIT, "cchc-2023", "3")
    page.goto(f"{server.url}/units/{UNIT}/tasks/cchc-2023/3")
    page.click("#action-assign > summary")
    page.select_option("#assign-owner", "Nguyễn Văn Sỹ")
    page.click("#action-assign button[type=submit]")
    page.wait_for_url(re.compile(r".*\?ok=assign$"))
    assert api.get_task(server.rt, key).owner == "Nguyễn Văn Sỹ"
    page.fill("#comment-body", "Đề nghị hoàn thành trong tháng 10/2023")
    page.click("#comments button[type=submit]")
    page.wait_for_url(re.compile(r".*\?ok=comment#comments$"))
    assert "Ý kiến chỉ đạo" in page.locator("#comments").inner_text()
    shot(page, "journey-leader-task-desktop")
    page.goto(f"{server.url}/units/{UNIT}/reports")
    assert page.locator("#check-summary").count() == 1
    shot(page, "journey-leader-freeze-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "journey-leader-freeze-phone")
    page.context.close()


def test_reviewer_drills_down_and_comments(browser: Any, server: LiveServer) -> None:
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_as(browser, server, "reviewer", viewport)
        shot(page, f"journey-reviewer-home-{name}")
        page.goto(f"{server.url}/city")
        shot(page, f"journey-reviewer-city-{name}")
        page.context.close()
    page = open_as(browser, server, "reviewer", DESKTOP)
    page.goto(f"{server.url}/city")
    page.click(f"tr[data-unit='{UNIT}'] th a")  # commune
    page.wait_for_url(f"**/dashboard?unit={UNIT}")
    page.click("li[data-plan='cchc-2023'] a.plan-title")  # plan
    page.wait_for_url(re.compile(r".*tasks\?plan=cchc-2023$"))
    page.locator("table.task-table tbody tr a.clamp").first.click()  # task
    page.wait_for_url(re.compile(r".*/tasks/cchc-2023/\w+$"))
    assert page.locator("form[action$='/transition']").count() == 0  # reads only
    page.fill("#comment-body", "Đề nghị bổ sung văn bản minh chứng")
    page.click("#comments button[type=submit]")
    page.wait_for_url(re.compile(r".*\?ok=comment#comments$"))
    assert "Ý kiến của cơ quan thẩm định" in page.locator("#comments").inner_text()
    shot(page, "journey-reviewer-task-desktop")
    page.context.close()


def test_admin_pages(browser: Any, server: LiveServer) -> None:
    for viewport, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page = open_as(browser, server, "admin", viewport)
        for path, slug in (("/admin/people", "people"), ("/admin/outbox", "outbox"),
                           ("/admin/units", "units")):
            page.goto(f"{server.url}{path}")
            shot(page, f"journey-admin-{slug}-{name}")
        page.context.close()


MAIN_PAGES = {
    "officer": ["/dashboard", f"/units/{UNIT}/tasks?mine=1", f"/units/{UNIT}/tasks",
                f"/units/{UNIT}/tasks/cchc-2023/5", f"/units/{UNIT}/obligations",
                f"/units/{UNIT}/reports"],
    "leader": [f"/units/{UNIT}/behind", f"/units/{UNIT}/tasks/cchc-2023/5",
               f"/units/{UNIT}/reports"],
    "reviewer": ["/dashboard", "/city"],
    "admin": ["/admin/people", "/admin/outbox", "/admin/units", "/admin/plans"],
}


@pytest.mark.parametrize("role", sorted(MAIN_PAGES))
def test_main_pages_pass_axe_and_fit_360_px(browser: Any, server: LiveServer,
                                            role: str) -> None:
    page = open_as(browser, server, role, DESKTOP)
    report: dict[str, Any] = {}
    failures: list[str] = []
    for path in MAIN_PAGES[role]:
        page.goto(f"{server.url}{path}")
        violations = axe_violations(page)
        report[path] = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])}
                        for v in violations]
        failures += [f"{path}: {line}" for line in blocking(violations)]
    page.set_viewport_size(NARROW)
    for path in MAIN_PAGES[role]:
        page.goto(f"{server.url}{path}")
        over = horizontal_overflow(page)
        if over > 0:
            failures.append(f"{path}: {over} px wider than 360 px")
    (ARTIFACTS / f"axe-{role}.json").write_text(json.dumps(report, ensure_ascii=False,
                                                           indent=1), "utf-8")
    page.context.close()
    assert not failures, "\n".join(failures)
