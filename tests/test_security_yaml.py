"""YAML data files: an alias bomb and an oversized file are refused before anything expands.

Finding (issue 9): a 420-byte plan file of nested aliases took 78 s and 2.4 GB before being
refused, and it could be uploaded through the admin page. Every data file (plans, units,
people, obligations, workflows, reminder rules, calendar, replay) goes through
`plans.loader.parse_model`, which now refuses aliases while composing and checks the size first.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import BaseModel
from web_client import (  # noqa: F401 - the *_fixture names register the demo fixtures
    Login,
    cheap_hashes_fixture,
    csrf,
    demo_db_fixture,
    demo_rt_fixture,
    login_clients,
    text_of,
)

from engine import api
from engine.runtime import Runtime
from plans import PlanSpec, load_model, parse_model
from plans.errors import DataFileError
from plans.settings import get_data_file_settings
from web import create_app
from web.settings import WebSettings

# ~450 bytes; expanded it would be 10**9 strings.
BOMB = "\n".join(
    ["id: cchc-2023", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
) + "\n"


def test_alias_bomb_is_refused_fast_with_its_line() -> None:
    assert len(BOMB.encode()) < 600
    started = time.perf_counter()
    with pytest.raises(DataFileError) as info:
        parse_model(PlanSpec, BOMB, "bom.yaml")
    assert time.perf_counter() - started < 0.5
    problem = info.value.file_problems[0]
    assert (problem.file, problem.line) == ("bom.yaml", 3)  # the first alias, line 3
    assert "bí danh YAML" in problem.message_vi
    assert str(info.value).startswith("bom.yaml:3: không dùng bí danh YAML")


def test_merge_key_alias_is_refused_too() -> None:
    text = "base: &b {x: 1}\nother:\n  <<: *b\n"
    with pytest.raises(DataFileError) as info:
        parse_model(PlanSpec, text, "merge.yaml")
    assert info.value.file_problems[0].line == 3


def test_an_anchor_without_alias_is_harmless() -> None:
    # No expansion can happen without an alias: the file is judged on its content as usual.
    with pytest.raises(DataFileError) as info:
        parse_model(PlanSpec, "id: &x cchc-2023\n", "anchor.yaml")
    assert "bí danh" not in info.value.message_vi


def test_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    limit = get_data_file_settings().max_data_file_bytes
    path = tmp_path / "to.yaml"
    with path.open("w", encoding="utf-8") as f:
        f.write("id: x\n" + "#" * 1000 + "\n")
        f.truncate(limit + 1)
    with pytest.raises(DataFileError) as info:
        load_model(PlanSpec, path)
    assert "tệp quá lớn" in info.value.message_vi
    with pytest.raises(DataFileError):
        parse_model(PlanSpec, "#" * (limit + 1), "text.yaml")


@pytest.mark.parametrize("loader", ["units", "people", "obligations", "workflow", "reminders",
                                    "calendar"])
def test_every_data_file_kind_refuses_aliases(loader: str, tmp_path: Path) -> None:
    from engine.domain.calendar_file import CalendarFile
    from engine.domain.obligations import CheckedObligationsFile
    from plans.people_schema import PeopleFile
    from plans.schema import UnitsFile
    from workflows.reminder_schema import ReminderRules
    from workflows.schema import WorkflowDef

    models: dict[str, type[BaseModel]] = {
        "units": UnitsFile, "people": PeopleFile, "obligations": CheckedObligationsFile,
        "workflow": WorkflowDef, "reminders": ReminderRules, "calendar": CalendarFile}
    path = tmp_path / f"{loader}.yaml"
    path.write_text(BOMB, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(DataFileError) as info:
        load_model(models[loader], path)
    assert time.perf_counter() - started < 0.5
    assert "bí danh YAML" in info.value.message_vi


def test_admin_upload_of_the_bomb_is_refused_with_the_line(rt: Runtime) -> None:
    with login_clients(create_app(rt, WebSettings())) as login:
        admin = login("admin")
        plans_before = api.list_plans(rt)
        started = time.perf_counter()
        r = admin.post("/admin/plans", data={"units": ["vinh-thanh"], "csrf_token": csrf(admin)},
                       files={"file": ("bom.yaml", BOMB.encode(), "text/yaml")})
        assert time.perf_counter() - started < 5
        assert r.status_code == 400
        shown = text_of(r.text)
        assert "bom.yaml" in shown and "dòng 3" in shown and "bí danh YAML" in shown, shown
        assert api.list_plans(rt) == plans_before
