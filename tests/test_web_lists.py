"""Issue 12 item 5 on the admin lists: the reminder log, units and plans show an STT column,
pages of 25 rows (`?trang=N`, filters kept) and "Xuất Excel" (`?xuat=xlsx`) of every row the
filters keep — read back with openpyxl and compared with what the engine lists."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
    text_of,
)
from web_server import seed_failed_reminders

from engine import api
from engine.directory.units import list_units
from engine.domain.obligations import list_obligation_dues
from engine.reminders import outbox
from engine.runtime import Runtime
from web import create_app
from web.settings import WebSettings

PLAN_FILE = Path(__file__).resolve().parents[1] / "plans/data/vinh-thanh-2023/cchc-2023.yaml"
UNIT = "vinh-thanh"
STT = re.compile(r'<td class="stt num" data-label="STT">(\d+)</td>')


@pytest.fixture
def login(rt: Runtime) -> Iterator[Login]:
    with login_clients(create_app(rt, WebSettings())) as login_:
        yield login_


def workbook_rows(content: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def assert_paged(html_1: str, html_2: str, total: int) -> None:
    """Page 1 numbers 1–25 with a pager to page 2; page 2 goes on from 26 to `total`."""
    assert '<th scope="col" class="stt">STT</th>' in html_1
    assert STT.findall(html_1) == [str(i) for i in range(1, 26)]
    assert 'class="pager"' in html_1 and 'aria-label="Trang 2"' in html_1
    assert "đang xem 1–25" in text_of(html_1) and "Xuất Excel" in text_of(html_1)
    assert STT.findall(html_2) == [str(i) for i in range(26, min(total, 50) + 1)]


def queue_more_reminders(rt: Runtime, n: int) -> None:
    """`n` more pending reminders like the sweep's first one, one day apart (the demo's sweep
    queues only a few), written through the outbox's own insert."""
    model = outbox.list_outbox(rt, state="pending")[-1]
    with outbox.write_transaction(rt) as session:
        inserted = outbox.insert_rows(session, [outbox.new_row_values(
            key=f"{model.idempotency_key}:thu-{i}", unit_id=model.unit_id,
            person_id=model.person_id, channel=model.channel, item_kind=model.item_kind,
            item_id=model.item_id, due_on=model.due_on, step=model.step,
            send_on=model.send_on + timedelta(days=i), not_before=rt.now(), now=rt.now(),
            payload=model.payload) for i in range(1, n + 1)])
    assert inserted == n


def test_reminder_log_is_numbered_paged_and_exports_the_filtered_rows(login: Login,
                                                                       rt: Runtime) -> None:
    failed = seed_failed_reminders(rt)
    queue_more_reminders(rt, 40)
    pending = outbox.list_outbox(rt, state="pending", limit=10_000)
    assert len(pending) > 25
    admin = login("admin")
    first = admin.get("/admin/outbox", params={"state": "pending"}).text
    second = admin.get("/admin/outbox", params={"state": "pending", "trang": 2}).text
    assert_paged(first, second, len(pending))
    assert "/admin/outbox?state=pending&amp;trang=2" in first  # the filter survives paging
    assert f'id="row-{pending[0].id}"' in first and f'id="row-{pending[25].id}"' in second
    assert f'id="row-{failed[0]}"' not in first  # filtered out

    x = admin.get("/admin/outbox", params={"state": "pending", "trang": 2, "xuat": "xlsx"})
    assert x.status_code == 200 and "nhat-ky-nhac-viec.xlsx" in x.headers["content-disposition"]
    rows = workbook_rows(x.content)
    assert rows[0][:3] == ("STT", "Số thư", "Người nhận") and rows[0][10] == "Trạng thái"
    shown = min(len(pending), 300)  # the log shows the newest 300
    assert len(rows) == 1 + shown  # every filtered row, not one page
    assert [r[1] for r in rows[1:]] == [r.id for r in pending[:shown]]
    assert [r[0] for r in rows[1:4]] == [1, 2, 3]
    assert {r[10] for r in rows[1:]} == {outbox.STATE_LABELS["pending"]}
    names = outbox.people_names(rt, {pending[0].person_id})
    assert rows[1][2] == names[pending[0].person_id]
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", rows[1][7])  # dd/mm/yyyy, not a Python date

    fx = workbook_rows(admin.get("/admin/outbox",
                                 params={"state": "failed", "xuat": "xlsx"}).content)
    assert [r[1] for r in fx[1:]] == failed
    assert fx[1][10] == "Gửi không được" and "chưa quan tâm Zalo OA" in fx[1][12]


def test_units_are_numbered_paged_and_exported(login: Login, rt: Runtime) -> None:
    for i in range(1, 31):
        api.add_unit(rt, slug=f"xa-thu-{i:02d}", name=f"Xã Thử {i:02d}", kind="xã",
                     parent="nha-trang", report_cutoff_day=None)
    units = list_units(rt)
    assert len(units) > 25
    admin = login("admin")
    first = admin.get("/admin/units").text
    second = admin.get("/admin/units", params={"trang": 2}).text
    assert_paged(first, second, len(units))
    assert f'id="unit-{units[0].slug}"' in first and f'id="unit-{units[25].slug}"' in second
    assert f'id="unit-{units[25].slug}"' not in first
    assert 'id="unit-parent"' in first and f'value="{units[-1].slug}"' in first  # full picker

    rows = workbook_rows(admin.get("/admin/units", params={"xuat": "xlsx"}).content)
    assert rows[0] == ("STT", "Mã đơn vị", "Tên đơn vị", "Cấp", "Đơn vị cấp trên",
                       "Ngày chốt số liệu")
    assert len(rows) == 1 + len(units)
    assert [r[1] for r in rows[1:]] == [u.slug for u in units]
    added = next(r for r in rows if r[1] == "xa-thu-07")
    parent = next(u.display for u in units if u.slug == "nha-trang")
    assert added[2:5] == ("Xã Thử 07", "xã", parent)


def test_plans_are_numbered_paged_and_exported(login: Login, rt: Runtime,
                                               tmp_path: Path) -> None:
    text = PLAN_FILE.read_text(encoding="utf-8")
    files = []
    for i in range(1, 28):
        plan = text.replace("id: cchc-2023", f"id: kh-thu-{i:02d}", 1).replace(
            "title: Kế hoạch cải cách hành chính xã Vĩnh Thạnh năm 2023",
            f"title: Kế hoạch thử số {i:02d}", 1)
        path = tmp_path / f"kh-thu-{i:02d}.yaml"
        path.write_text(plan, encoding="utf-8")
        files.append(path)
    api.load_plans(rt, ["vinh-thanh"], files)
    plans = api.list_plans(rt)
    assert len(plans) > 25
    admin = login("admin")
    first = admin.get("/admin/plans").text
    second = admin.get("/admin/plans", params={"trang": 2}).text
    assert_paged(first, second, len(plans))
    assert f'id="plan-{plans[0]["id"]}"' in first
    assert f'id="plan-{plans[25]["id"]}"' in second

    rows = workbook_rows(admin.get("/admin/plans", params={"xuat": "xlsx"}).content)
    assert rows[0] == ("STT", "Mã kế hoạch", "Tên kế hoạch", "Cơ quan ban hành", "Năm",
                       "Phụ lục", "Số nhiệm vụ", "Số đơn vị")
    assert len(rows) == 1 + len(plans)
    assert [r[1] for r in rows[1:]] == [p["id"] for p in plans]
    exported = next(r for r in rows if r[2] == "Kế hoạch thử số 05")
    original = next(p for p in plans if p["title"] == "Kế hoạch thử số 05")
    assert exported[3:] == (original["issued_by"], original["year"], original["appendix"],
                        original["tasks"], 1)
    assert original["tasks"] > 0


def test_report_calendar_is_numbered_and_exports_every_period(login: Login,
                                                              rt: Runtime) -> None:
    officer = login("officer")
    first = list_obligation_dues(rt, UNIT)[0]
    doc = f"Báo cáo số 120/BC-UBND ngày {first.due_on.strftime('%d/%m/%Y')}"
    r = officer.post(f"/units/{UNIT}/obligations/{first.id}/submit",
                     data={"version": first.version, "doc": doc, "csrf_token": csrf(officer)},
                     follow_redirects=False)
    assert r.status_code == 303, text_of(r.text)
    second = list_obligation_dues(rt, UNIT)[1]
    refused = officer.post(f"/units/{UNIT}/obligations/{second.id}/submit",
                           data={"version": second.version, "doc": "Báo cáo số 1",
                                 "csrf_token": csrf(officer)})
    assert refused.status_code == 400 and f'id="due-{second.id}"' in refused.text
    assert "xuat=xlsx" not in refused.text  # no links to the POST address it is shown at
    dues = list_obligation_dues(rt, UNIT)
    page = officer.get(f"/units/{UNIT}/obligations").text
    numbers = re.findall(r'<span class="stt num" title="STT">(\d+)\.</span>', page)
    assert numbers == [str(i) for i in range(1, min(len(dues), 25) + 1)]
    assert f"{len(dues)} kỳ báo cáo" in text_of(page) and "Xuất Excel" in text_of(page)
    assert ('class="pager"' in page) == (len(dues) > 25)
    x = officer.get(f"/units/{UNIT}/obligations", params={"xuat": "xlsx"})
    assert f"bao-cao-dinh-ky_{UNIT}.xlsx" in x.headers["content-disposition"]
    rows = workbook_rows(x.content)
    assert rows[0] == ("STT", "Hạn gửi", "Tên báo cáo", "Kỳ báo cáo", "Nơi nhận",
                       "Người phụ trách", "Trạng thái", "Văn bản báo cáo", "Ngày gửi")
    assert len(rows) == 1 + len(dues)
    assert [r[2] for r in rows[1:]] == [d.title for d in dues]
    assert [r[1] for r in rows[1:]] == [d.due_on.strftime("%d/%m/%Y") for d in dues]
    assert [r[6] for r in rows[1:]] == ["Quá hạn" if d.overdue else d.state_label
                                        for d in dues]
    sent = next(r for r in rows[1:] if r[2] == first.title and r[3] == first.period_label)
    stored = next(d for d in dues if d.id == first.id).report_doc
    assert stored and "120/BC-UBND" in stored
    assert sent[6:8] == ("Đã gửi đúng hạn", stored) and re.fullmatch(r"\d\d/\d\d/\d{4}", sent[8])
