"""The first run tells the truth: the demo works from a clone anywhere, a check that could not run
says so, and CI cannot pass by skipping the seed comparison.

The seed (the real paper report) lives outside the repository; the demo only reads it when given
explicitly (`cchc demo --seed PATH`, which `make demo` passes when ../shared/seed/… exists).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.demo import run_demo

ROOT = Path(__file__).resolve().parents[1]
CCHC = Path(sys.executable).with_name("cchc")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_the_demo_never_looks_for_the_seed_itself(tmp_path: Path) -> None:
    """Without --seed nothing is compared — even where ../shared/seed/… sits beside the source
    tree — and the result says so instead of 'no mistakes found'."""
    res = run_demo(tmp_path / "demo")
    assert not res.seed.ran and res.seed.path is None and res.seed_findings == []
    assert res.seed.summary_vi.startswith("Không kiểm tra báo cáo gốc: chưa chỉ định tệp")
    assert res.as_dict()["seed_check"] == {"path": None, "ran": False,
                                           "summary_vi": res.seed.summary_vi}
    assert res.own_check_vi == "Kiểm tra báo cáo vừa tạo: 3 lỗi, 9 lưu ý."
    missing = tmp_path / "khong-co.txt"
    again = run_demo(tmp_path / "again", seed=missing)
    assert not again.seed.ran
    assert again.seed.summary_vi == f"Không kiểm tra báo cáo gốc: không tìm thấy tệp {missing}."


def test_cchc_demo_from_a_directory_far_from_the_source(tmp_path: Path) -> None:
    """The installed command, run where no ../shared exists: it builds everything and says
    plainly that the paper report was not checked."""
    work = tmp_path / "somewhere" / "else"
    work.mkdir(parents=True)
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("CCHC_DATABASE_URL", None)
    run = subprocess.run([str(CCHC), "demo", "--out", "out", "--seed", "bao-cao.txt"], cwd=work,
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    out = flat(run.stdout)
    assert "Không kiểm tra báo cáo gốc: không tìm thấy tệp bao-cao.txt." in out
    assert "Không phát hiện sai sót" not in out
    assert "Kiểm tra báo cáo vừa tạo: 3 lỗi, 9 lưu ý." in out
    assert "cchc report check vinh-thanh --period 2023-Q3" in out
    assert (work / "out" / "phu-luc-1.docx").is_file()


def test_report_check_against_a_missing_file_says_it_could_not_check(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    demo = run_demo(tmp_path / "demo")
    res = CliRunner().invoke(app, ["report", "check", "vinh-thanh", "--period", "2023-Q3",
                                   "--against", str(tmp_path / "khong-co.txt")],
                             env={"CCHC_DATABASE_URL": f"sqlite:///{demo.database}",
                                  "COLUMNS": "200"})
    assert res.exit_code == 2
    assert flat(res.stderr).startswith(
        "Lỗi: Báo cáo đối chiếu: Không kiểm tra được: không tìm thấy tệp "
        f"'{tmp_path / 'khong-co.txt'}'")
    assert res.stdout == ""


@pytest.mark.parametrize("required", [False, True], ids=["skips", "fails-under-CI"])
def test_ci_fails_when_the_seed_comparison_cannot_run(tmp_path: Path, required: bool) -> None:
    env = {**os.environ, "CCHC_SEED": str(tmp_path / "khong-co.txt")}
    env.pop("CCHC_REQUIRE_SEED", None)
    if required:
        env["CCHC_REQUIRE_SEED"] = "1"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
         "tests/test_demo_roundtrip.py::test_seed_header_reading"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    if required:
        assert run.returncode == 1, run.stdout
        assert "CCHC_REQUIRE_SEED=1 but the seed report is not at" in run.stdout
    else:
        assert run.returncode == 0, run.stdout
        assert "1 skipped" in run.stdout


def test_ci_requires_the_seed() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'export CCHC_REQUIRE_SEED="${CCHC_REQUIRE_SEED:-1}"' in ci


@pytest.mark.parametrize("present", [False, True], ids=["no-seed", "seed"])
def test_make_demo_passes_the_seed_only_if_it_exists(tmp_path: Path, present: bool) -> None:
    seed = tmp_path / "seed.txt"
    if present:
        seed.write_text("Phụ lục 1\n", encoding="utf-8")
    run = subprocess.run(["make", "-n", "demo", f"SEED={seed}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    line = next(s for s in run.stdout.splitlines() if "cchc demo" in s)
    assert line.strip().endswith(f"--seed {seed}" if present else "--out out/demo")
