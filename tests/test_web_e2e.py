"""End to end in a real browser: Debian's chromium driven by Playwright against uvicorn.

One server per module over a fresh Vĩnh Thạnh demo whose 2023-Q3 is NOT frozen yet (see
tests/web_server.py); its clock starts at 20/09/2023 09:00. Without /usr/bin/chromium (or
$CHROMIUM) the tests are skipped with the reason — unless CCHC_REQUIRE_BROWSER=1 (CI), where
that is a failure. Full-page screenshots of the main pages, at 1366 px (desktop) and 390 px
(phone) wide, are saved under test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pdf_samples import clean_pdf
from web_browser import DESKTOP, PHONE, launch, open_as, require_browser, shot
from web_server import LiveServer, cheap_hashes, demo_database, seed_failed_reminders

from engine import api
from engine.domain.tasks import TaskKey
from engine.reporting.reader import read_docx, read_xlsx

pytestmark = pytest.mark.browser

UNIT = "vinh-thanh"
TASK = TaskKey(UNIT, "cchc-2023", "5")  # Chưa triển khai, Công chức Văn phòng - Thống kê
BAD_DOC = "Kế hoạch số 223/KH-UBND ngày 24/02/20232"
GOOD_DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
PDF = clean_pdf()  # a real one-page PDF: uploads are parsed and checked


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_browser()
    with cheap_hashes():
        db = demo_database(tmp_path_factory.mktemp("e2e"))
        with LiveServer(db) as live:
            seed_failed_reminders(live.rt)
            yield live


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


def plan_progress(page: Any, plan: str) -> str:
    text: str = page.locator(f"li[data-plan='{plan}'] .progress-num strong").inner_text()
    return text


def test_officer_fixes_a_wrong_reference_and_the_dashboard_moves(browser: Any,
                                                                 server: LiveServer) -> None:
    login_page = browser.new_page(viewport=PHONE)
    login_page.goto(f"{server.url}/login")
    shot(login_page, "login-phone")
    login_page.set_viewport_size(DESKTOP)
    shot(login_page, "login-desktop")
    login_page.close()

    page = open_as(browser, server, "officer")
    shot(page, "dashboard-officer-desktop")
    before = plan_progress(page, "cchc-2023")
    done, total = map(int, before.split("/"))
    mine = int(page.locator("#my-count").inner_text())

    # the task list, searched without diacritics
    page.click("nav.mainnav >> text=Nhiệm vụ")
    page.fill("#q", "so hoa ket qua")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*q=so\+hoa\+ket\+qua.*"))
    assert "số hóa kết quả giải quyết TTHC" in page.locator("table.task-table").inner_text()
    shot(page, "tasks-search-desktop")
    page.click(f"a[href='/units/{UNIT}/tasks/cchc-2023/5']")
    page.wait_for_url(f"**/units/{UNIT}/tasks/cchc-2023/5")
    assert "Chưa triển khai" in page.locator("h1").inner_text()
    version = api.get_task(server.rt, TASK).version
    history = len(api.history(server.rt, TASK))

    # a wrong document number: the reason next to the field, nothing saved, input kept
    page.click("#action-complete > summary")
    page.fill("#complete-docs", BAD_DOC)
    page.fill("#complete-result", "Đã số hóa 1.250 kết quả giải quyết TTHC còn hiệu lực")
    page.click("#action-complete button[type=submit]")
    error = page.locator("#err-complete-docs")
    error.wait_for()
    assert "Năm '20232' trong ngày '24/02/20232' có 5 chữ số" in error.inner_text()
    assert page.input_value("#complete-docs") == BAD_DOC
    assert page.input_value("#complete-result").startswith("Đã số hóa 1.250")
    assert api.get_task(server.rt, TASK).version == version
    assert len(api.history(server.rt, TASK)) == history
    shot(page, "task-error-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "task-error-phone")
    page.set_viewport_size(DESKTOP)

    # corrected, with the PDF of the document: saved, back on the task with a message
    page.fill("#complete-docs", GOOD_DOC)
    page.set_input_files("#complete-file", files=[{
        "name": "KH-223.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.click("#action-complete button[type=submit]")
    page.wait_for_url(re.compile(r".*\?ok=complete$"))
    assert "Đã lưu: Hoàn thành (kèm văn bản)" in page.locator("main").inner_text()
    assert "Đã thực hiện" in page.locator("#state").inner_text()
    assert "KH-223.pdf" in page.locator("main").inner_text()
    task = api.get_task(server.rt, TASK)
    assert (task.state, task.version) == ("done", version + 1)
    shot(page, "task-done-desktop")

    page.click("nav.mainnav >> text=Tổng quan")
    assert plan_progress(page, "cchc-2023") == f"{done + 1}/{total}"
    assert int(page.locator("#my-count").inner_text()) == mine - 1
    page.context.close()

    phone = open_as(browser, server, "officer", PHONE)
    shot(phone, "dashboard-officer-phone")
    phone.goto(f"{server.url}/units/{UNIT}/tasks?q=cong+khai")
    shot(phone, "tasks-search-phone")
    phone.goto(f"{server.url}/units/{UNIT}/obligations")
    shot(phone, "obligations-phone")
    phone.context.close()


def test_leader_freezes_the_quarter_and_downloads_the_appendices(
        browser: Any, server: LiveServer, tmp_path: Path) -> None:
    page = open_as(browser, server, "leader")
    page.click("nav.mainnav >> text=Chốt số liệu")
    page.wait_for_url(f"**/units/{UNIT}/reports")
    assert "Quý III năm 2023" in page.locator("#h-period").inner_text()
    assert "Chưa chốt" in page.locator("#frozen-status").inner_text()
    # the check before freezing: errors and notes counted and grouped; with an error not
    # confirmed the freeze is refused, then each error is ticked and the period frozen
    errors = sum(1 for f in api.check(server.rt, UNIT, "2023-Q3") if f.severity == "error")
    boxes = page.locator("input[name=xac_nhan]")
    assert boxes.count() == errors
    shot(page, "reports-before-freeze-desktop")
    if errors:
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#freeze-button")
        assert "chưa được xác nhận" in page.locator("main").inner_text()
        assert not api.take_snapshot(server.rt, UNIT, "2023-Q3").frozen
        for i in range(boxes.count()):
            boxes.nth(i).check()
    page.once("dialog", lambda dialog: dialog.accept())  # "Chốt số liệu …?" (app.js)
    page.click("#freeze-button")
    page.wait_for_url(re.compile(r".*period=2023-Q3&ok=freeze$"))
    assert "Đã chốt lúc" in page.locator("#frozen-status").inner_text()
    assert "Nguyễn Quốc Bảo" in page.locator("#frozen-status").inner_text()
    frozen = api.take_snapshot(server.rt, UNIT, "2023-Q3")
    assert frozen.frozen

    for n in (1, 2, 3):
        row = page.locator(f"tr[data-appendix='{n}']")
        done = int(row.locator("td[data-label='Đã thực hiện']").inner_text())
        total = int(row.locator("td[data-label='Tổng số']").inner_text())
        appendix = next(a for a in frozen.appendices if a.number == n)
        assert (total, done) == (appendix.total, appendix.done)
        for fmt, reader in (("docx", read_docx), ("xlsx", read_xlsx)):
            with page.expect_download() as info:
                row.locator(f"a[href$='phu-luc-{n}.{fmt}']").click()
            download = info.value
            assert download.suggested_filename == f"phu-luc-{n}_vinh-thanh_2023-Q3.{fmt}"
            path = tmp_path / download.suggested_filename
            download.save_as(path)
            read = reader(path)
            assert [(a.number, len(a.rows), a.done) for a in read] == [(n, total, done)]
    shot(page, "reports-frozen-desktop")

    page.click("text=Kiểm tra báo cáo")
    page.wait_for_url(f"**/units/{UNIT}/reports/2023-Q3/check")
    assert page.locator("table.findings tbody tr").count() > 0
    shot(page, "reports-check-desktop")
    page.set_viewport_size(PHONE)
    shot(page, "reports-check-phone")
    page.context.close()


def test_reviewer_sees_the_city_overview_read_only(browser: Any, server: LiveServer) -> None:
    page = open_as(browser, server, "reviewer")
    shot(page, "dashboard-reviewer-desktop")
    page.click("nav.mainnav >> text=Các xã, phường")
    page.wait_for_url("**/city")
    row = page.locator(f"tr[data-unit='{UNIT}']")
    assert "xã Vĩnh Thạnh" in row.inner_text()
    assert "Quý III năm 2023" in row.inner_text()
    shot(page, "city-desktop")
    row.locator("a", has_text="Phụ lục, tải về").click()
    page.wait_for_url(f"**/units/{UNIT}/reports?period=2023-Q3")
    assert page.locator("#freeze-button").count() == 0
    page.goto(f"{server.url}/units/{UNIT}/tasks/cchc-2023/2")
    assert page.locator("form[action$='/transition']").count() == 0
    page.set_viewport_size(PHONE)
    page.goto(f"{server.url}/city")
    shot(page, "city-phone")
    page.context.close()


def test_admin_retries_a_failed_reminder(browser: Any, server: LiveServer) -> None:
    page = open_as(browser, server, "admin")
    page.click("nav.mainnav >> text=Nhắc việc")
    page.select_option("#state", "failed")
    page.click("form[action='/admin/outbox'] button[type=submit]")
    page.wait_for_url(re.compile(r".*state=failed$"))
    shot(page, "outbox-desktop")
    page.click("text=Gửi lại")
    page.wait_for_url(re.compile(r".*ok=\d+$"))
    assert "vào hàng chờ gửi lại" in page.locator("main").inner_text()
    page.goto(f"{server.url}/admin/outbox")
    page.set_viewport_size(PHONE)
    shot(page, "outbox-phone")
    page.context.close()
