"""The CLI speaks Vietnamese end to end: every help page, every usage error, field names, state
and role names (typed as labels or codes), and an unknown value is refused with the valid ones.

The help walk visits every command the `cchc` app has — commands added later are checked too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from cli.main import app
from engine.demo import run_demo

#: Words of Typer/Click's English, Python types and our own codes that officers must not read.
DENY = re.compile(
    r"\b(Usage|Options|Arguments|Commands|Show this message|exit|required|default|env var|"
    r"Error|Missing|Invalid|Try|Aborted|No such|Got unexpected|requires an argument|"
    r"officer|leader|reviewer|admin|pending|sending|submitted|cancelled|fallback|"
    r"waiting_upper|not_started|in_progress|nothing_arose|TEXT|INTEGER|PATH|BOOLEAN|"
    r"list\[|range|Input should)\b|<(str|int|bool|path|float)>|x>=|x<=|"
    r"\b[a-z]+_[a-z_]+\b")  # a snake_case code (on_time, waiting_upper)
ANY_VI = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùý]",
                    re.IGNORECASE)


def command_paths(group: typer.core.TyperGroup, prefix: tuple[str, ...] = ()
                  ) -> Iterator[tuple[str, ...]]:
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path
        if isinstance(cmd, typer.core.TyperGroup):
            yield from command_paths(cmd, path)


ALL_COMMANDS = list(command_paths(typer.main.get_command(app)))  # type: ignore[arg-type]


def readable(text: str, path: tuple[str, ...] = ()) -> str:
    """What an officer reads, minus what they type: option names (--state) and command names
    (a command is typed as it is spelled, like a file name)."""
    names = {n for p in ALL_COMMANDS for n in p}
    text = re.sub(r"(?<![\w-])--?[a-z][\w-]*", " ", text)
    text = re.sub(r"\bcchc\b", " ", text)
    return " ".join(w for w in re.split(r"(\s+|│)", text) if w.strip("'│ ") not in names)


def run(*args: str, db: str | None = None) -> Result:
    env = {"COLUMNS": "200", "CCHC_ACTOR": None, "CCHC_ROLE": None,
           "CCHC_DATABASE_URL": db or "sqlite:///:memory:"}
    return CliRunner().invoke(app, list(args), env=env, prog_name="cchc")


def test_the_walk_finds_every_command() -> None:
    assert len(ALL_COMMANDS) > 40
    assert ("task", "list") in ALL_COMMANDS and ("report", "check") in ALL_COMMANDS


@pytest.mark.parametrize("path", [(), *ALL_COMMANDS], ids=lambda p: " ".join(p) or "cchc")
def test_help_is_vietnamese(path: tuple[str, ...]) -> None:
    res = run(*path, "--help")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Cách dùng: cchc" in out and "Hiện hướng dẫn này rồi thoát." in out
    bad = DENY.findall(readable(out, path))
    assert not bad, (path, bad, out)
    assert ANY_VI.search(readable(out, path)), out


def test_every_parameter_is_named_in_vietnamese() -> None:
    """Arguments show their metavar (an English parameter name would show otherwise) and every
    option says what it is for."""
    root = typer.main.get_command(app)
    for path in ALL_COMMANDS:
        cmd = root
        for name in path:
            cmd = cmd.commands[name]  # type: ignore[attr-defined]
        for param in cmd.params:
            where = (" ".join(path), param.name)
            if isinstance(param, typer.core.TyperArgument):
                assert param.metavar and param.metavar == param.metavar.upper(), where
                assert ANY_VI.search(param.metavar) or param.metavar.rstrip(".") in {
                    "URL", "SỐ"}, where
            else:
                assert getattr(param, "help", None), where
            assert not DENY.findall(getattr(param, "help", None) or ""), where


USAGE_ERRORS = [
    (("report", "check"), "Thiếu tham số ĐƠN_VỊ."),
    (("report", "check", "vinh-thanh"), "Thiếu tùy chọn --period."),
    (("report", "check", "vinh-thanh", "--period", "2023-Q3", "--bogus"),
     "Không có tùy chọn --bogus."),
    (("report", "run-all", "--period", "2023-Q3", "--out", "x", "--workers", "abc"),
     "Giá trị của --workers không hợp lệ: phải là một số nguyên (tối thiểu 1)."),
    (("report", "run-all", "--period", "2023-Q3", "--out", "x", "--workers", "0"),
     "Giá trị của --workers không hợp lệ: phải là một số nguyên (tối thiểu 1)."),
    (("task", "show", "a", "b", "c", "d"), "Thừa tham số: d."),
    (("task", "list", "vinh-thanh", "--plan"), "Tùy chọn --plan cần một giá trị."),
    (("tasks",), "Không có lệnh 'tasks'. Có phải ý bạn là: 'task'"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS, ids=[m for _, m in USAGE_ERRORS])
def test_usage_errors_are_vietnamese(args: tuple[str, ...], message: str) -> None:
    res = run(*args)
    assert res.exit_code == 2, res.output
    err = re.sub(r"\s+", " ", res.stderr)
    assert message in err, err
    if "--plan" not in args:  # a bare option is refused before the command is known
        assert "Cách dùng: cchc" in err and "để biết cách dùng" in err
    assert not DENY.findall(readable(err)), err


# ---------------------------------------------------------------- states, roles, fields


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("demo")
    res = run_demo(out)
    return f"sqlite:///{res.database}"


def codes(res: Result) -> list[tuple[str, str]]:
    assert res.exit_code == 0, res.output
    return [(t["plan"], t["code"]) for t in json.loads(res.stdout)]


def test_state_filter_takes_labels_and_codes(demo_db: str) -> None:
    by_code = codes(run("task", "list", "vinh-thanh", "--state", "waiting_upper", "--json",
                        db=demo_db))
    assert len(by_code) == 17  # plans/data/vinh-thanh-2023/README.md: 3 + 4 + 10 rows
    for typed in ("Chờ văn bản triển khai của cấp trên", "Chờ cấp trên", "cho cap tren",
                  "CHỜ VĂN BẢN"):
        assert codes(run("task", "list", "vinh-thanh", "--state", typed, "--json",
                         db=demo_db)) == by_code, typed
    done = codes(run("task", "list", "vinh-thanh", "--state", "Đã thực hiện", "--json",
                     "--at", "2023-09-20T09:00", db=demo_db))
    assert len(done) == 15 + 48 + 26
    # After 2023 the recurring tasks' current occurrence is Q4 / December, which the Q3 replay
    # did not touch: the 5 recurring tasks done in Q3 (their Q3 / September row) drop out.
    later = codes(run("task", "list", "vinh-thanh", "--state", "Đã thực hiện", "--json",
                      db=demo_db))
    assert len(later) == 15 + 48 + 26 - 5
    text = run("task", "list", "vinh-thanh", "--state", "chờ cấp trên", db=demo_db).stdout
    assert "Chờ văn bản triển khai của cấp trên" in text and "17 nhiệm vụ." in text


@pytest.mark.parametrize(("args", "listed"), [
    (("task", "list", "vinh-thanh", "--state", "xong"),
     ["'Chưa triển khai'", "'Đang thực hiện'", "'Chờ văn bản triển khai của cấp trên'",
      "'Trong kỳ báo cáo chưa phát sinh'", "'Đã thực hiện'"]),
    (("outbox", "list", "--state", "lỗi"), ["'Chờ gửi'", "'Gửi không được'"]),
    (("obligation", "list", "vinh-thanh", "--state", "nộp rồi"), ["'Chưa gửi báo cáo'"]),
    (("task", "start", "vinh-thanh", "cchc-2023", "2", "--role", "chủ tịch"),
     ["'Cán bộ, công chức'", "'Lãnh đạo UBND'", "'Quản trị hệ thống'"]),
    (("report", "summary", "nha-trang", "--period", "2023-Q3", "--sort", "điểm"),
     ["'Tên'", "'Đúng hạn'", "'Trực tuyến'", "'Nhiệm vụ quá hạn'"]),
], ids=["task-state", "outbox-state", "obligation-state", "role", "summary-sort"])
def test_an_unknown_choice_is_refused_with_the_valid_ones(demo_db: str, args: tuple[str, ...],
                                                          listed: list[str]) -> None:
    res = run(*args, db=demo_db)
    assert res.exit_code == 2, res.output
    err = re.sub(r"\s+", " ", res.stderr)
    assert err.startswith("Lỗi: ") and "chọn một trong:" in err, err
    for label in listed:
        assert label in err
    assert not DENY.findall(readable(err)), err
    assert res.stdout == ""


def test_summary_sort_takes_the_column_name(demo_db: str) -> None:
    res = run("report", "summary", "nha-trang", "--period", "2023-Q3", "--sort",
              "quá hạn nhiệm vụ", db=demo_db)  # words out of order: not a match
    assert res.exit_code == 2
    res = run("report", "summary", "nha-trang", "--period", "2023-Q3", "--sort", "dung han",
              "--desc", "--json", db=demo_db)
    assert res.exit_code == 0, res.output


def test_an_ambiguous_choice_names_the_candidates(demo_db: str) -> None:
    res = run("task", "list", "vinh-thanh", "--state", "thực hiện", db=demo_db)
    assert res.exit_code == 2
    err = re.sub(r"\s+", " ", res.stderr)
    assert "khớp với nhiều lựa chọn: 'Đang thực hiện'; 'Đã thực hiện'" in err, err


def test_roles_are_typed_and_shown_in_vietnamese(demo_db: str) -> None:
    res = run("task", "start", "vinh-thanh", "cchc-2023", "2", "--role", "lãnh đạo",
              "--by", "Nguyễn Quốc Bảo", "--at", "2023-09-20T09:00", db=demo_db)
    assert res.exit_code == 0, res.output
    hist = run("task", "history", "vinh-thanh", "cchc-2023", "2", db=demo_db).stdout
    assert "Nguyễn Quốc Bảo (Lãnh đạo UBND)" in hist
    assert not DENY.findall(readable(hist)), hist
    people = run("people", "list", "--unit", "vinh-thanh", db=demo_db).stdout
    assert "Lãnh đạo UBND" in people and not DENY.findall(readable(people)), people


def test_field_errors_name_the_field_in_vietnamese(demo_db: str, tmp_path: Path) -> None:
    res = run("task", "done", "vinh-thanh", "cchc-2023", "2", "--doc", "Kế hoạch số 5/QĐ-UBND",
              "--result", "x", "--at", "2023-09-20T09:00", db=demo_db)
    assert res.exit_code == 2
    err = re.sub(r"\s+", " ", res.stderr)
    assert err.startswith("Lỗi: Văn bản minh chứng: ") and "doc:" not in err, err
    res = run("task", "done", "vinh-thanh", "cchc-2023", "2", "--doc",
              "Kế hoạch số 5/KH-UBND ngày 06/3/2023", "--result", "x", "--on", "31/02/2023",
              "--at", "2023-09-20T09:00", db=demo_db)
    err = re.sub(r"\s+", " ", res.stderr)
    assert err.startswith("Lỗi: Ngày thực hiện: Ngày '31/02/2023'"), err
    for result in (res,):
        assert not DENY.findall(readable(result.stderr)), result.stderr
        assert " must " not in result.stderr and "(on " not in result.stderr
