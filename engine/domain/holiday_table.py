"""Vietnam's statutory days off, as the `holidays` package gives them, written out per year.

Why: importing `holidays` loads every country it knows (some 300 modules, ~0.1 s of CPU),
and `cchc task list` needs the working days of one or two years (issue 13: CLI start). The
table `data/holidays-vn.json` is the package's own answer for the years `FIRST_YEAR` to
`LAST_YEAR`: the named days off (in Vietnamese, in the package's order) and the weekend days
worked to pay a swap back. A year outside it is asked of the package, as before.

`tests/test_calendar.py` compares the table with the installed package year by year, so an
upgrade of `holidays` that moves a day fails there until the table is written again:

    .venv/bin/python -m engine.domain.holiday_table
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

TABLE_FILE = Path(__file__).parent / "data" / "holidays-vn.json"
FIRST_YEAR, LAST_YEAR = 2015, 2040

YearDaysOff = tuple[dict[dt.date, str], frozenset[dt.date]]


def from_package(year: int) -> YearDaysOff:
    """The named days off of `year` (holidays, nghỉ bù, the day off of a swap) and the weekend
    days worked to pay a swap back, as the `holidays` package computes them."""
    import holidays  # lazy: every country's module (CLI start time)

    named: Any = holidays.country_holidays("VN", years=year, language="vi")
    plain: Any = holidays.country_holidays("VN", years=year)
    return ({day: str(name) for day, name in named.items()},
            frozenset(d for d in getattr(plain, "weekend_workdays", ()) if d.year == year))


@cache
def _table() -> dict[int, dict[str, Any]]:
    data = json.loads(TABLE_FILE.read_text(encoding="utf-8"))
    return {int(year): days for year, days in data["years"].items()}


def days_off(year: int) -> YearDaysOff:
    """What `from_package(year)` gives, read from the table when the year is in it."""
    row = _table().get(year)
    if row is None:
        return from_package(year)
    return ({dt.date.fromisoformat(day): name for day, name in row["days_off"].items()},
            frozenset(dt.date.fromisoformat(day) for day in row["make_up"]))


def table_rows(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> dict[str, Any]:
    """The table's content, computed by the package."""
    from importlib.metadata import version

    years = {}
    for year in range(first, last + 1):
        named, make_up = from_package(year)
        years[str(year)] = {"days_off": {d.isoformat(): n for d, n in named.items()},
                            "make_up": sorted(d.isoformat() for d in make_up)}
    return {"source": f"holidays {version('holidays')}, country VN", "years": years}


def write_table(path: Path = TABLE_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table_rows(), ensure_ascii=False, indent=1) + "\n",
                    encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    write_table()
    print(f"{TABLE_FILE}: {FIRST_YEAR}–{LAST_YEAR}")


__all__ = ["FIRST_YEAR", "LAST_YEAR", "TABLE_FILE", "YearDaysOff", "days_off", "from_package",
           "table_rows", "write_table"]
