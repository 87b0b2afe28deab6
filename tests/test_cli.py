"""The `cchc` command-line contract: Vietnamese for officers, `--json` for scripts, exit codes.

Every command runs the real Typer app against a throw-away SQLite file named by
CCHC_DATABASE_URL; the clock is set with `--at` (Vietnam time) so dates are the seed's.
One end-to-end case runs the installed `cchc` executable in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import require_seed
from typer.testing import CliRunner, Result

from cli.main import app
from engine.reporting.reader import read_report
from plans import DEMO_BUNDLE

UNIT = "vinh-thanh"
AT = "2023-09-20T09:00"
GOOD_DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
BAD_DOC = "Kế hoạch số 223/KH-UBND ngày 24/02/20232"
FILES = ["phu-luc-1.docx", "phu-luc-1.xlsx", "phu-luc-2.docx", "phu-luc-2.xlsx",
         "phu-luc-3.docx", "phu-luc-3.xlsx", "snapshot.json"]
CCHC = Path(sys.executable).with_name("cchc")

Run = Callable[..., Result]


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone (it breaks lines only at spaces)."""
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cchc.sqlite3'}"


@pytest.fixture
def cchc(db: str) -> Run:
    runner = CliRunner()
    env = {"CCHC_DATABASE_URL": db, "COLUMNS": "200", "CCHC_ACTOR": None, "CCHC_ROLE": None}

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, list(args), env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    return run


def data_hash(out: Path) -> str:
    return str(json.loads((out / "snapshot.json").read_text(encoding="utf-8"))["content_hash"])


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def loaded(cchc: Run) -> Run:
    cchc("db", "init")
    cchc("unit", "load", str(DEMO_BUNDLE / "units.yaml"))
    cchc("plan", "load", UNIT, "-f", str(DEMO_BUNDLE / "cchc-2023.yaml"),
         "-f", str(DEMO_BUNDLE / "papi-2023.yaml"), "-f", str(DEMO_BUNDLE / "kl91-2023.yaml"))
    return cchc


def state(cchc: Run, plan: str, code: str) -> dict[str, Any]:
    return dict(as_json(cchc("task", "show", UNIT, plan, code, "--json"))["task"])


# ---------------------------------------------------------------- database, units, plans


def test_db_init_unit_load_plan_load(cchc: Run, db: str) -> None:
    out = cchc("db", "init").stdout
    assert out.startswith("Cơ sở dữ liệu sẵn sàng (sqlite, phiên bản ")
    info = as_json(cchc("db", "init", "--json"))
    assert info["database"] == db and info["revision"]

    assert cchc("unit", "load", str(DEMO_BUNDLE / "units.yaml")).stdout.strip() == \
        "Đã nạp 3 đơn vị."
    units = {u["slug"]: u for u in as_json(cchc("unit", "list", "--json"))}
    assert (units[UNIT]["parent_slug"], units[UNIT]["cutoff_day"]) == ("nha-trang", 13)

    files = ["-f", str(DEMO_BUNDLE / "cchc-2023.yaml"), "-f", str(DEMO_BUNDLE / "papi-2023.yaml")]
    out = flat(cchc("plan", "load", UNIT, *files).stdout)
    assert "Kế hoạch cchc-2023 (khung chung): 23 nhiệm vụ (cập nhật), 1 đơn vị." in out
    assert "Kế hoạch papi-2023 (khung chung): 54 nhiệm vụ (cập nhật)" in out
    assert "│ vinh-thanh │ 23 │ 0 │ 0 │ 0 │" in out
    plans = {p["id"]: p for p in as_json(cchc("plan", "list", "--json"))}
    assert {k: (p["appendix"], p["tasks"], p["units"]) for k, p in plans.items()} == {
        "cchc-2023": (1, 23, 1), "papi-2023": (2, 54, 1)}
    again = flat(cchc("plan", "load", UNIT, *files).stdout)  # loading again changes nothing
    assert "Kế hoạch cchc-2023 (khung chung): 23 nhiệm vụ (không đổi)" in again
    assert "│ vinh-thanh │ 0 │ 0 │ 23 │ 0 │" in again


def test_missing_unit_file_is_refused_in_vietnamese(cchc: Run, tmp_path: Path) -> None:
    cchc("db", "init")
    res = cchc("plan", "load", "khong-co", "-f", str(DEMO_BUNDLE / "cchc-2023.yaml"), code=2)
    assert "Không tìm thấy đơn vị 'khong-co'" in flat(res.stderr)
    assert "Không có thay đổi nào được ghi." in res.stderr


# ---------------------------------------------------------------- tasks


def test_task_list_filters(loaded: Run) -> None:
    everything = as_json(loaded("task", "list", UNIT, "--json", "--at", AT))
    assert len(everything) == 23 + 54 + 47  # recurring work: its occurrence of 20/9
    assert {t["occurrence"] for t in everything} == {"", "2023-Q3", "2023-M09"}
    cchc_plan = as_json(loaded("task", "list", UNIT, "--plan", "cchc-2023", "--json", "--at", AT))
    assert [t["code"] for t in cchc_plan] == [str(i) for i in range(1, 24)]
    assert {t["plan"] for t in cchc_plan} == {"cchc-2023"}

    mine = as_json(loaded("task", "list", UNIT, "--plan", "cchc-2023", "--owner", "tu phap",
                          "--json", "--at", AT))
    assert mine and all("Tư pháp" in t["owner"] for t in mine)
    assert len(mine) == sum(1 for t in cchc_plan if "Tư pháp" in (t["owner"] or ""))

    overdue = as_json(loaded("task", "list", UNIT, "--overdue", "--json", "--at", AT))
    assert overdue, "Quý I/2023 tasks still open on 20/9/2023"
    # and the earlier occurrences of recurring work still open: months 1–8 of cchc 6
    assert [t["occurrence"] for t in overdue if (t["plan"], t["code"]) == ("cchc-2023", "6")
            ] == [f"2023-M{m:02d}" for m in range(1, 9)]
    for t in everything:
        late = t["due_on"] is not None and t["due_on"] < "2023-09-20" and t["state"] != "done"
        assert (t["code"], t["plan"], t["occurrence"]) in {
            (o["code"], o["plan"], o["occurrence"]) for o in overdue} or not late
    assert all(t["timeliness"] == "open_overdue" and t["due_on"] < "2023-09-20"
               for t in overdue)
    assert any(t["plan"] == "cchc-2023" and t["code"] == "18" for t in overdue)

    loaded("task", "done", UNIT, "cchc-2023", "18", "--doc", GOOD_DOC,
           "--result", "Đã ban hành kế hoạch tuyên truyền", "--at", AT)
    done = as_json(loaded("task", "list", UNIT, "--state", "done", "--json", "--at", AT))
    assert [(t["plan"], t["code"], t["done_on"]) for t in done] == [
        ("cchc-2023", "18", "2023-03-06")]
    still = as_json(loaded("task", "list", UNIT, "--overdue", "--json", "--at", AT))
    assert len(still) == len(overdue) - 1

    text = loaded("task", "list", UNIT, "--plan", "cchc-2023", "--state", "done",
                  "--at", AT).stdout
    assert "Đã thực hiện" in text and text.rstrip().endswith("1 nhiệm vụ.")


def test_task_done_with_a_good_reference(loaded: Run) -> None:
    res = loaded("task", "done", UNIT, "cchc-2023", "18", "--doc", GOOD_DOC,
                 "--result", "Đã ban hành kế hoạch tuyên truyền CCHC năm 2023", "--at", AT)
    out = flat(res.stdout)
    assert "Nhiệm vụ 18 (cchc-2023): Chưa triển khai → Đã thực hiện (phiên bản 2, " \
        "ngày hiệu lực 06/03/2023)." in out
    assert f"Minh chứng: {GOOD_DOC}" in out
    task = state(loaded, "cchc-2023", "18")
    assert (task["state"], task["done_on"], task["version"]) == ("done", "2023-03-06", 2)
    assert task["result"] == "Đã ban hành kế hoạch tuyên truyền CCHC năm 2023"

    as_script = as_json(loaded("task", "done", UNIT, "cchc-2023", "19", "--doc",
                               "Kế hoạch số 176/KH-UBND ngày 24/02/2023", "--result", "Đã ban hành",
                               "--json", "--at", AT))
    assert (as_script["to_state"], as_script["effective_on"]) == ("done", "2023-02-24")


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (BAD_DOC, "Năm '20232' trong ngày '24/02/20232' có 5 chữ số (năm phải ghi đủ 4 chữ số)"),
        ("Kế hoạch số 223/QĐ-UBND ngày 06/3/2023",
         "Loại văn bản 'Kế hoạch' không khớp với ký hiệu 'QĐ-UBND': QĐ là chữ viết tắt của "
         "Quyết định, còn Kế hoạch viết tắt là KH"),
    ],
    ids=["five-digit-year", "type-symbol-mismatch"],
)
def test_task_done_with_a_bad_reference_changes_nothing(loaded: Run, doc: str,
                                                        reason: str) -> None:
    res = loaded("task", "done", UNIT, "cchc-2023", "18", "--doc", doc,
                 "--result", "Đã ban hành kế hoạch", "--at", AT, code=2)
    err = flat(res.stderr)
    assert err.startswith(f"Lỗi: Văn bản minh chứng: Văn bản '{doc}': {reason}")
    assert "doc:" not in err
    assert err.endswith("Không có thay đổi nào được ghi.")
    assert res.stdout == ""
    task = state(loaded, "cchc-2023", "18")
    assert (task["state"], task["version"], task["done_on"]) == ("not_started", 1, None)
    assert as_json(loaded("task", "history", UNIT, "cchc-2023", "18", "--json")) == []

    as_script = as_json(loaded("task", "done", UNIT, "cchc-2023", "18", "--doc", doc,
                               "--result", "x", "--json", "--at", AT, code=2))
    assert as_script["error"] == "invalid"
    assert as_script["problems"][0]["field"] == "doc"
    assert reason in as_script["problems"][0]["message_vi"]
    assert as_script["problems"][0]["message_en"] not in err  # English only for scripts


def test_task_done_needs_a_document_and_a_result(loaded: Run) -> None:
    res = loaded("task", "done", UNIT, "cchc-2023", "18", "--result", "x", "--at", AT, code=2)
    assert "Phải có ít nhất một văn bản làm minh chứng" in flat(res.stderr)
    res = loaded("task", "done", UNIT, "cchc-2023", "18", "--doc", GOOD_DOC, "--at", AT, code=2)
    assert "Phải ghi kết quả thực hiện" in flat(res.stderr)
    res = loaded("task", "done", UNIT, "cchc-2023", "99", "--doc", GOOD_DOC, "--result", "x",
                 "--at", AT, code=2)
    assert "không có nhiệm vụ số '99'" in flat(res.stderr)
    res = loaded("task", "done", UNIT, "cchc-2023", "18", "--doc", GOOD_DOC, "--result", "x",
                 "--at", "20/09/2023", code=2)
    assert "Thời điểm '20/09/2023' phải có dạng YYYY-MM-DDTHH:MM" in flat(res.stderr)
    assert state(loaded, "cchc-2023", "18")["version"] == 1


def test_assign_deadline_reopen_history(loaded: Run) -> None:
    key = (UNIT, "cchc-2023", "18")
    loaded("task", "done", *key, "--doc", GOOD_DOC, "--result", "Đã ban hành", "--at", AT)
    out = loaded("task", "assign", *key, "--owner", "Công chức Văn hóa - Xã hội",
                 "--by", "Nguyễn Quốc Bảo", "--at", "2023-09-20T10:15").stdout
    assert flat(out) == "Đã phân công nhiệm vụ 18 cho Công chức Văn hóa - Xã hội (phiên bản 3)."
    res = loaded("task", "assign", *key, "--owner", "X", "--role", "officer", code=2)
    assert "Chỉ lãnh đạo UBND được phân công nhiệm vụ" in flat(res.stderr)

    out = loaded("task", "deadline", *key, "--deadline", "Quý IV/2023",
                 "--at", "2023-09-20T10:20").stdout
    assert flat(out) == "Đã đặt thời hạn nhiệm vụ 18: Quý IV/2023 (phiên bản 4)."
    res = loaded("task", "deadline", *key, "--deadline", "Quý V/2023", code=2)
    assert "Thời hạn 'Quý V/2023' không hợp lệ" in flat(res.stderr)

    res = loaded("task", "reopen", *key, "--note", "Thiếu", "--at", "2023-09-21T08:00", code=2)
    assert res.stderr  # an officer may not reopen
    res = loaded("task", "reopen", *key, "--role", "leader", "--at", "2023-09-21T08:00", code=2)
    assert res.stderr  # a reason is required
    out = loaded("task", "reopen", *key, "--role", "leader", "--by", "Nguyễn Quốc Bảo",
                 "--note", "Thiếu báo cáo kết quả", "--at", "2023-09-21T08:00").stdout
    assert "Đã thực hiện → Đang thực hiện (phiên bản 5, ngày hiệu lực 21/09/2023)" in flat(out)
    task = state(loaded, "cchc-2023", "18")
    assert (task["state"], task["owner"], task["deadline"], task["version"]) == (
        "in_progress", "Công chức Văn hóa - Xã hội", "Quý IV/2023", 5)

    hist = as_json(loaded("task", "history", *key, "--json"))
    assert [(h["seq"], h["event"], h["from_state"], h["to_state"]) for h in hist] == [
        (2, "complete", "not_started", "done"),
        (3, "assign", "done", "done"),
        (4, "set_deadline", "done", "done"),
        (5, "reopen", "done", "in_progress"),
    ]
    assert [h["at"] for h in hist] == [  # Vietnam time, as typed in --at
        "2023-09-20T09:00:00+07:00", "2023-09-20T10:15:00+07:00",
        "2023-09-20T10:20:00+07:00", "2023-09-21T08:00:00+07:00"]
    assert hist[0]["evidence"][0]["ref"] == GOOD_DOC
    assert hist[3]["note"] == "Thiếu báo cáo kết quả" and hist[3]["role"] == "leader"

    table = loaded("task", "history", *key).stdout
    assert "20/09/2023 09:00" in table and "21/09/2023 08:00" in table
    assert "Nguyễn Quốc Bảo (Lãnh đạo UBND)" in table and "(leader)" not in table
    for label in ("Hoàn thành (kèm văn bản)", "Phân công", "Đặt thời hạn",
                  "Mở lại nhiệm vụ đã hoàn thành"):
        assert label in table


# ---------------------------------------------------------------- reports


def test_report_snapshot_freeze_writes_exactly_the_appendices(loaded: Run,
                                                              tmp_path: Path) -> None:
    loaded("task", "done", UNIT, "cchc-2023", "18", "--doc", GOOD_DOC,
           "--result", "Đã ban hành kế hoạch", "--at", AT)
    loaded("task", "done", UNIT, "cchc-2023", "4", "--doc", "Công văn số 1001/UBND ngày 15/9/2023",
           "--result", "Đã báo cáo", "--at", AT)  # after the 13/9 cut-off: not in Q3

    live = loaded("report", "snapshot", UNIT, "--period", "2023-Q3", "--out",
                  str(tmp_path / "live"), "--at", "2023-09-20T16:00").stdout
    assert "Xã Vĩnh Thạnh — Quý III năm 2023 (từ 14/06/2023 đến 13/09/2023), chưa chốt " \
        "(số liệu lúc 16:00 ngày 20/09/2023)" in flat(live)

    early = loaded("report", "snapshot", UNIT, "--period", "2023-Q3", "--out",
                   str(tmp_path / "early"), "--freeze", "--at", "2023-09-12T16:00", code=2)
    assert "Chưa đến ngày chốt số liệu của kỳ 2023-Q3 (13/09/2023)" in flat(early.stderr)
    assert not (tmp_path / "early").exists()

    out = tmp_path / "q3"
    res = loaded("report", "snapshot", UNIT, "--period", "2023-Q3", "--out", str(out),
                 "--freeze", "--at", "2023-09-20T16:00")
    assert sorted(p.name for p in out.iterdir()) == FILES
    text = flat(res.stdout)
    assert "Xã Vĩnh Thạnh — Quý III năm 2023 (từ 14/06/2023 đến 13/09/2023), đã chốt lúc " \
        f"16:00 ngày 20/09/2023, mã {data_hash(out)[:12]}" in text
    for name in FILES:
        assert str(out / name) in text
    data = json.loads((out / "snapshot.json").read_text(encoding="utf-8"))
    assert [(t["number"], t["total"], t["done"], t["not_done"]) for t in data["totals"]] == [
        (1, 23, 1, 22), (2, 54, 0, 54), (3, 47, 0, 47)]
    assert data["frozen"] is True and data["taken_at"] == "2023-09-20T16:00:00+07:00"
    read = read_report(out / "phu-luc-1.xlsx")[0]
    assert [r.code for r in read.rows if r.done] == ["18"]

    # Later work does not change the frozen period; exporting again gives the same bytes.
    loaded("task", "done", UNIT, "cchc-2023", "10", "--doc",
           "Kế hoạch số 66/KH-UBND ngày 30/01/2023", "--result", "Đã ban hành", "--at",
           "2023-09-22T09:00")
    again = as_json(loaded("report", "snapshot", UNIT, "--period", "2023-Q3", "--out",
                           str(tmp_path / "again"), "--freeze", "--json",
                           "--at", "2023-09-25T09:00"))
    assert again["content_hash"] == data["content_hash"] and again["frozen"] is True
    assert [(a["number"], a["done"]) for a in again["appendices"]] == [(1, 1), (2, 0), (3, 0)]
    assert [Path(p).name for p in again["files"]] == [
        "phu-luc-1.docx", "phu-luc-2.docx", "phu-luc-3.docx", "phu-luc-1.xlsx",
        "phu-luc-2.xlsx", "phu-luc-3.xlsx", "snapshot.json"]
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name

    res = loaded("report", "snapshot", UNIT, "--period", "2023-Q5", "--out", str(tmp_path / "x"),
                 code=2)
    assert "quý 5 không tồn tại" in flat(res.stderr)


def test_report_check_lists_findings(loaded: Run) -> None:
    out = loaded("report", "check", UNIT, "--period", "2023-Q3", "--at", AT).stdout
    assert out.strip() == "Không phát hiện sai sót."
    assert as_json(loaded("report", "check", UNIT, "--period", "2023-Q3", "--json",
                          "--at", AT)) == []

    # A Kết quả citing a document wrongly that is nowhere on record: an error.
    loaded("task", "done", UNIT, "cchc-2023", "16", "--doc",
           "Công văn số 58/UBND-ISO ngày 17/01/2023",
           "--result", "Đã ban hành Kế hoạch số 70/UBND-ISO ngày 27/01/2023", "--at", AT)
    # The unit's own report of the year before as evidence: a note. A directive of the Thủ
    # tướng from 2016 (older by nature) and the unit's work of January before the plan of
    # 31/01/2023 are not.
    loaded("task", "done", UNIT, "cchc-2023", "17", "--doc",
           "Báo cáo số 1604/BC-UBND ngày 21/12/2022", "--doc",
           "Chỉ thị số 26/CT-TTg ngày 05/9/2016 của Thủ tướng Chính phủ", "--doc",
           "Kế hoạch số 56/KH-UBND ngày 13/01/2023", "--result", "Đã thực hiện", "--at", AT)
    res = loaded("report", "check", UNIT, "--period", "2023-Q3", "--at", AT, code=1)
    text = res.stdout
    assert "LỖI" in text and "lưu ý" in text
    assert "Phụ lục 1 (cchc-2023)" in text
    assert flat(text).endswith("1 lỗi, 1 lưu ý.")
    found = as_json(loaded("report", "check", UNIT, "--period", "2023-Q3", "--json",
                           "--at", AT, code=1))
    by_code = {f["code"]: f for f in found}
    assert set(by_code) == {"bad_reference", "evidence_before_plan"}
    bad = by_code["bad_reference"]
    assert (bad["appendix"], bad["plan"], bad["task"], bad["severity"]) == (
        1, "cchc-2023", "16", "error")
    assert bad["message_vi"].startswith(
        "Phụ lục 1, nhiệm vụ 16: 'Kế hoạch số 70/UBND-ISO ngày 27/01/2023' — Kế hoạch phải "
        "có chữ viết tắt 'KH'")
    old = by_code["evidence_before_plan"]
    assert (old["task"], old["severity"]) == ("17", "warning")
    assert "Báo cáo số 1604/BC-UBND ngày 21/12/2022" in old["message_vi"]

    # The same wrong citation of a document the task's evidence records correctly: a note.
    loaded("task", "reopen", UNIT, "cchc-2023", "16", "--role", "lãnh đạo", "--note", "Sửa",
           "--at", AT)
    loaded("task", "done", UNIT, "cchc-2023", "16", "--doc",
           "Công văn số 70/UBND-ISO ngày 27/01/2023",
           "--result", "Đã ban hành Kế hoạch số 70/UBND-ISO ngày 27/01/2023", "--at", AT)
    found = as_json(loaded("report", "check", UNIT, "--period", "2023-Q3", "--json",
                           "--at", AT))
    assert {(f["code"], f["task"], f["severity"]) for f in found} == {
        ("citation_differs_from_evidence", "16", "warning"),
        ("evidence_before_plan", "17", "warning")}


def test_demo_then_check_the_seed_end_to_end(tmp_path: Path) -> None:
    """The installed executable: `cchc demo`, then the reviewer's check against the seed."""
    seed = require_seed()
    env = {**os.environ, "COLUMNS": "200",
           "CCHC_DATABASE_URL": f"sqlite:///{tmp_path / 'cchc-demo.sqlite3'}"}
    demo = subprocess.run([str(CCHC), "demo", "--out", str(tmp_path), "--seed", str(seed)],
                          env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert demo.returncode == 0, demo.stderr
    text = demo.stdout
    assert "Xã Vĩnh Thạnh — Quý III năm 2023" in text
    assert "Kiểm tra báo cáo vừa tạo: 3 lỗi, 9 lưu ý." in text
    assert "Kiểm tra báo cáo gốc (bao-cao-cchc-quy-III-2023-xa-vinh-thanh.txt): 14 lỗi, " \
        "3 lưu ý." in text
    rows = [line for line in text.splitlines() if line.startswith("│ LỖI")]
    assert any("Phụ lục 1 (cchc-2023)" in r and "│ 16 " in r for r in rows), rows
    assert any("Phụ lục 3 (kl91-2023)" in r and "│ 35 " in r for r in rows), rows
    assert " ()" not in text and "│ : '" not in text
    # Phụ lục 1–3 and the body: 6, and 3 done rows with an empty Kết quả; Phụ lục 6: four
    # ratios that are not what their own rows give (3.2.2, 7.1.2, 7.1.2.b, 7.2.3), three
    # ratios over 0 (1.3.2, 2.2.b, 2.3.b) and 1.1, not the engine's count of the register.
    assert text.count("14 lỗi, 3 lưu ý.") == 2  # the summary line and the table's end
    assert any("Phụ lục 6" in r and "│ 3.2.2 " in r for r in rows), rows

    check = subprocess.run([str(CCHC), "report", "check", UNIT, "--period", "2023-Q3",
                            "--against", str(seed), "--json"], env=env, capture_output=True,
                           text=True, timeout=120, check=False)
    assert check.returncode == 1, check.stderr  # the seed has errors
    against = [f for f in json.loads(check.stdout) if f["source"] == "against"]
    assert sorted((f["code"], f["appendix"], f["task"] or "") for f in against) == [
        ("bad_reference", 1, "16"), ("bad_reference", 2, "4.1.1"),
        ("bad_reference", 3, "35"), ("bad_reference", 3, "5"),
        ("done_without_result", 2, "1.4.2"), ("done_without_result", 2, "6.2.3"),
        ("done_without_result", 3, "46"),
        ("number_reused", None, ""),
        ("statistic_differs", 6, "3.2.2"), ("statistic_differs", 6, "7.1.2"),
        ("statistic_differs", 6, "7.1.2.b"), ("statistic_differs", 6, "7.2.3"),
        ("statistic_not_engine", 6, "1.1"),
        ("statistic_over_zero", 6, "1.3.2"), ("statistic_over_zero", 6, "2.2.b"),
        ("statistic_over_zero", 6, "2.3.b"),
        ("totals_mismatch", 2, "")]
    ratio = next(f for f in against if f["task"] == "3.2.2")
    assert "ghi 98,5 % nhưng 1.117 / 1.117 = 100 %" in ratio["message_vi"]
    reused = next(f for f in against if f["code"] == "number_reused")
    assert "Phụ lục 1, nhiệm vụ 7; Phụ lục 2, nhiệm vụ 5.7.1" in reused["message_vi"]


def test_stats_show_rollup_of_a_reviewing_body(loaded: Run, tmp_path: Path) -> None:
    """`cchc stats show BODY --tong-hop`: the frozen communes' Phụ lục 6 summed, the others
    named as not frozen; --out writes the body's Phụ lục 6 files."""
    data = DEMO_BUNDLE / "thong-ke-2023-q3"
    before = flat(loaded("stats", "show", "nha-trang", "--period", "2023-Q3", "--tong-hop")
                  .stdout)
    assert "tổng hợp 0 đơn vị đã chốt; 1 đơn vị chưa chốt (không cộng)" in before
    assert "Chưa chốt: xã Vĩnh Thạnh" in before
    loaded("stats", "import", UNIT, str(data / "phu-luc-4.csv"), "--period", "2023-Q3")
    loaded("report", "snapshot", UNIT, "--period", "2023-Q3", "--out", str(tmp_path / "q3"),
           "--freeze", "--at", "2023-09-20T16:00")
    out = tmp_path / "tong-hop"
    text = flat(loaded("stats", "show", "nha-trang", "--period", "2023-Q3", "--tong-hop",
                       "--out", str(out)).stdout)
    assert "Thành phố Nha Trang — Quý III năm 2023: tổng hợp 1 đơn vị đã chốt" in text
    assert "1.134" in text and "tổng của 1 xã, phường đã chốt" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "tong-hop-phu-luc-6.docx", "tong-hop-phu-luc-6.xlsx", "tong-hop-thong-ke.json"]
    got = as_json(loaded("stats", "show", "nha-trang", "--period", "2023-Q3", "--tong-hop",
                         "--json"))
    assert (got["summed"], got["pending"]) == (1, 0)
    refused = loaded("stats", "show", UNIT, "--period", "2023-Q3", "--out", str(out), code=2)
    assert "--out chỉ dùng cùng --tong-hop" in flat(refused.stderr)


def test_data_is_printed_as_it_is_never_as_markup(loaded: Run) -> None:
    """An owner (or a task text, a deadline) with square brackets or colons is data: `task
    list` and `task show` print it as written (Rich read "[/]" as markup and stopped the
    command, and turned ":warning:" into an emoji)."""
    key = (UNIT, "cchc-2023", "18")
    owner = "Tổ [b]công tác[/b] [/] :warning: CCHC"
    loaded("task", "assign", *key, "--owner", owner, "--role", "leader",
           "--by", "Nguyễn Quốc Bảo", "--at", "2023-09-20T10:15")
    listed = loaded("task", "list", UNIT, "--plan", "cchc-2023").stdout
    assert owner in listed
    assert owner in loaded("task", "history", *key).stdout
