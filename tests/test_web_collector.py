"""A serving process freezes its startup objects; an app built by a test or an embedder does not.

Why it matters: a full garbage collection in a web worker walks every tracked object (~175,000
once the app is built, ~100 ms) while that worker answers nobody — the paced p99 of issue 13.
`cchc serve` (one worker: `create_app(rt, freeze_collector=True)`; several: the
`create_worker_app` factory) moves them out of the collector's reach once the app has started.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine import settings as engine_settings
from engine.runtime import open_runtime
from web.app import create_app, create_worker_app


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def test_an_app_built_by_a_test_leaves_the_collector_alone(tmp_path: Path,
                                                          unfrozen: None) -> None:
    rt = open_runtime(f"sqlite:///{tmp_path / 'a.db'}")
    with TestClient(create_app(rt)) as client:
        assert client.get("/login").status_code == 200
        assert gc.get_freeze_count() == 0
    rt.db.dispose()


def test_a_worker_freezes_its_startup_objects_and_a_full_collection_gets_short(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    open_runtime(url).db.dispose()  # migrated, as `cchc serve` does before the workers start
    monkeypatch.setenv("CCHC_DATABASE_URL", url)
    engine_settings.get_settings.cache_clear()
    try:
        app = create_worker_app()
        tracked = len(gc.get_objects())
        with TestClient(app) as client:
            assert client.get("/login").status_code == 200
            frozen = gc.get_freeze_count()
            # the app's modules, mappers, routes and settings: most of what was tracked
            assert frozen > tracked // 2
            started = time.process_time()
            gc.collect()
            walked_frozen = time.process_time() - started
            gc.unfreeze()
            started = time.process_time()
            gc.collect()
            walked_all = time.process_time() - started
        assert walked_frozen < walked_all
        app.state.rt.db.dispose()
    finally:
        engine_settings.get_settings.cache_clear()
