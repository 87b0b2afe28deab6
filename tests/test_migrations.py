"""Upgrading a database that already holds data: every migration, on SQLite and PostgreSQL.

A fresh database is made by the same migrations, so only an upgrade of a populated database
shows a migration that cannot move existing rows (SQLite rebuilds an altered table by copying
it and dropping the old one, which foreign keys from other rows refuse)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from engine.storage.database import Database, head_revision

ROWS = [
    "INSERT INTO units (id, slug, name, kind, parent_id, report_cutoff_day, leader, created_at)"
    " VALUES (1, 'vinh-thanh', 'xã Vĩnh Thạnh', 'xa', NULL, 14, NULL, '2023-01-01 00:00:00')",
    "INSERT INTO plans (id, kind, year, title, issued_by, issued_on, appendix_number,"
    " appendix_title, layout, content_hash, loaded_at) VALUES ('cchc-2023', 'cchc', 2023,"
    " 'Kế hoạch CCHC năm 2023', 'Quyết định số 19/QĐ-UBND ngày 31/01/2023', '2023-01-31', 1,"
    " 'KẾT QUẢ', 'sections', 'h', '2023-02-01 00:00:00')",
    "INSERT INTO plan_tasks (plan_id, code, section_code, position, text, default_owner,"
    " deadline, product, retired) VALUES ('cchc-2023', '1', 'I', 1, 'Cập nhật, công khai',"
    " NULL, 'Năm 2023', NULL, false)",
    "INSERT INTO tasks (id, unit_id, plan_id, code, state, owner, deadline, due_on, result,"
    " note, done_on, version, updated_at) VALUES (1, 1, 'cchc-2023', '1', 'done', NULL,"
    " 'Năm 2023', '2023-12-31', 'UBND xã thực hiện công khai', NULL, '2023-03-01', 2,"
    " '2023-03-01 00:00:00')",
]


def _upgrade_populated(url: str) -> None:
    db = Database(url)
    cfg = db.alembic_config()
    with db.engine.begin() as conn:  # the schema as a 2023 installation had it, with data
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        for row in ROWS:
            conn.execute(text(row))
    db.engine.dispose()

    db = Database(url)
    db.upgrade()
    assert db.current_revision() == head_revision()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT code, state, result FROM tasks")).all() == [
            ("1", "done", "UBND xã thực hiện công khai")]
        assert conn.execute(text("SELECT count(*) FROM plan_tasks")).scalar() == 1
        # 0010: the old row is one-off work (empty occurrence); a code may now have one row per
        # period, but never two rows for one period
        assert conn.execute(text("SELECT occurrence FROM tasks")).scalar() == ""
    with db.engine.begin() as conn:
        for row_id, occurrence in ((2, "2023-Q1"), (3, "2023-Q2")):
            conn.execute(text(
                "INSERT INTO tasks (id, unit_id, plan_id, code, occurrence, state, version,"
                " updated_at) VALUES (:i, 1, 'cchc-2023', '1', :o, 'not_started', 1,"
                " '2023-03-01 00:00:00')"), {"i": row_id, "o": occurrence})
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO tasks (id, unit_id, plan_id, code, occurrence, state, version,"
            " updated_at) VALUES (4, 1, 'cchc-2023', '1', '2023-Q2', 'not_started', 1,"
            " '2023-03-01 00:00:00')"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tasks")).scalar() == 3
        if db.is_sqlite:  # enforced again for the application's connections
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.engine.dispose()


def test_a_populated_sqlite_database_upgrades_to_the_newest_schema(tmp_path: Path) -> None:
    _upgrade_populated(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_a_populated_postgresql_database_upgrades_to_the_newest_schema(pg_url: str) -> None:
    _upgrade_populated(pg_url)
