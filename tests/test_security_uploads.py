"""Uploads and inputs (issue 9): PDF structure, invisible characters in file names, upload
quotas, 413 for every over-limit body (chunked too), one text limit for the API, forms and
the CLI (NUL bytes: tests/test_security_inputs.py).

Findings: 105 MB uploaded in 2.3 s by alternating transitions; NUL bytes gave 500 on
PostgreSQL; text limits differed (API 10,000, forms ~1 MB, CLI 100,000); RTL-override and
zero-width characters kept in file names; over-limit chunked uploads got 400; a PDF was only
checked by its first bytes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from pdf_samples import clean_pdf, pdf_with_javascript, pdf_with_launch, pdf_with_page_action
from typer.testing import CliRunner
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
)

from engine import api
from engine.domain.attachment_files import check_pdf, clean_filename
from engine.domain.attachments import list_attachments
from engine.domain.tasks import Actor
from engine.errors import ValidationFailed
from engine.runtime import Runtime
from engine.settings import get_settings
from web import create_app
from web.settings import WebSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")

UNIT = "vinh-thanh"
OPEN_TASK = api.TaskKey(UNIT, "cchc-2023", "5")
GOOD_DOC = "Kế hoạch số 223/KH-UBND ngày 06/3/2023"
RESULT = "Đã số hóa kết quả giải quyết TTHC"
OFFICER = Actor("Trần Thị Mỹ Hạnh", "officer")


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set CCHC_* variables for one test (the engine's settings are read once per process)."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


# ---------------------------------------------------------------- PDFs and file names


@pytest.mark.parametrize(("make", "reason"), [
    (pdf_with_javascript, "JavaScript"),
    (pdf_with_launch, "tự chạy"),
    (pdf_with_page_action, "JavaScript"),
    (lambda: b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "không đọc được"),
    (lambda: b"%PDF-1.7\n" + b"\x00" * 2000, "không đọc được"),
])
def test_pdf_is_checked_by_its_structure(make: object, reason: str) -> None:
    assert callable(make)
    with pytest.raises(ValidationFailed) as info:
        check_pdf("kh.pdf", make(), max_bytes=1_000_000)
    assert reason in info.value.message_vi and info.value.field == "file"
    assert check_pdf("kh.pdf", clean_pdf(), max_bytes=1_000_000).content == clean_pdf()


@pytest.mark.parametrize(("raw", "clean"), [
    ("bao-cao\u202efdp.exe", "bao-caofdp.exe"),  # RTL override: shows as "exe.pdf"
    ("ke\u200bhoach\u200d 223\ufeff.pdf", "kehoach 223.pdf"),
    ("KH\u00a0\u00a0223\u2028.pdf", "KH 223.pdf"),
    ("\u2066Kế hoạch\u2069.pdf", "Kế hoạch.pdf"),
])
def test_invisible_and_bidi_characters_leave_file_names(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


# ---------------------------------------------------------------- quotas


def _upload(rt: Runtime, code: str, name: str) -> None:
    key = api.TaskKey(UNIT, "cchc-2023", code)
    pdf = check_pdf(name, clean_pdf(), max_bytes=10_000)
    api.transition(rt, key, "complete", OFFICER, evidence=[GOOD_DOC], result=RESULT,
                   attachments=[pdf])


def test_upload_quota_per_user_and_day(rt: Runtime, settings_env: pytest.MonkeyPatch) -> None:
    size = len(clean_pdf())
    settings_env.setenv("CCHC_UPLOAD_QUOTA_USER_DAY_BYTES", str(2 * size))
    open_codes = [t.code for t in api.list_tasks(rt, UNIT) if t.plan == "cchc-2023"
                  and t.state in ("not_started", "in_progress")]
    _upload(rt, open_codes[0], "a.pdf")
    _upload(rt, open_codes[1], "b.pdf")
    key = api.TaskKey(UNIT, "cchc-2023", open_codes[2])
    before = api.get_task(rt, key)
    with pytest.raises(ValidationFailed) as info:
        _upload(rt, open_codes[2], "c.pdf")
    assert "hạn mức tải tệp trong 24 giờ" in info.value.message_vi
    assert api.get_task(rt, key) == before and list_attachments(rt, key) == []


def test_upload_quota_per_unit(rt: Runtime, settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("CCHC_UPLOAD_QUOTA_UNIT_BYTES", str(len(clean_pdf())))
    codes = [t.code for t in api.list_tasks(rt, UNIT) if t.plan == "cchc-2023"
             and t.state in ("not_started", "in_progress")]
    _upload(rt, codes[0], "a.pdf")
    with pytest.raises(ValidationFailed) as info:
        _upload(rt, codes[1], "b.pdf")
    assert "dung lượng lưu tệp minh chứng" in info.value.message_vi


# ---------------------------------------------------------------- 413 for chunked bodies


def test_chunked_over_limit_upload_gets_413(rt: Runtime) -> None:
    settings = WebSettings(max_upload_bytes=2048)
    with login_clients(create_app(rt, settings)) as login:
        client = login("officer")
        version = api.get_task(rt, OPEN_TASK).version
        token = csrf(client)
        boundary = "ranh-gioi"

        def body() -> Iterator[bytes]:  # no Content-Length: only counting finds the size
            for name, value in (("csrf_token", token), ("trigger", "complete"),
                                ("version", str(version)), ("docs", GOOD_DOC),
                                ("result", RESULT)):
                yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""
                       f"\r\n\r\n{value}\r\n").encode()
            yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                   "filename=\"lon.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
            for _ in range(200):
                yield b"0" * 1024
            yield f"\r\n--{boundary}--\r\n".encode()

        r = client.post(f"/units/{UNIT}/tasks/cchc-2023/5/transition", content=body(),
                        headers={"content-type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 413 and "quá lớn" in r.text
        assert api.get_task(rt, OPEN_TASK).version == version


# ---------------------------------------------------------------- one text limit


def test_one_text_limit_for_api_forms_and_cli(rt: Runtime, tmp_path: object,
                                              settings_env: pytest.MonkeyPatch) -> None:
    limit = get_settings().max_text_chars
    long_text = "a" * (limit + 1)
    key = api.TaskKey(UNIT, "cchc-2023", "5")
    with pytest.raises(ValidationFailed) as info:  # the engine: what forms and the CLI call
        api.add_note(rt, key, long_text, OFFICER)
    assert info.value.field == "note" and "quá dài" in info.value.message_vi
    api.add_note(rt, key, "a" * limit, OFFICER)
    from web.api.schemas import TEXT_MAX

    assert limit == TEXT_MAX  # the API validates against the same number
    with login_clients(create_app(rt, WebSettings())) as login:
        client = login("officer")
        version = api.get_task(rt, key).version
        r = client.post(f"/units/{UNIT}/tasks/cchc-2023/5/note",
                        data={"csrf_token": csrf(client), "note": long_text,
                              "version": str(version)})
        assert r.status_code == 400 and "quá dài" in r.text
    from cli.main import app as cli_app

    db_url = str(rt.db.engine.url)
    result = CliRunner().invoke(cli_app, ["task", "note", UNIT, "cchc-2023", "5",
                                          "--note", long_text, "--db", db_url])
    assert result.exit_code != 0 and "quá dài" in result.output
