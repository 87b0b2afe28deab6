"""Read a YAML data file into a validated model, or fail with the file, the place and the reason.

Why our own loader over `yaml.safe_load` + `model_validate`: a Phòng Nội vụ editor needs the line
number of a mistake, which pydantic alone cannot know. We compose the YAML node tree once and
map each pydantic error location back to the line of its node.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from plans import data_cache
from plans.errors import DataFileError, FileProblem, SpecProblems
from plans.settings import get_data_file_settings

M = TypeVar("M", bound=BaseModel)


def max_data_file_bytes() -> int:
    """Largest data file read (bytes of UTF-8), checked before YAML sees a character
    (`CCHC_MAX_DATA_FILE_BYTES`, 4 MiB: the whole country's units list is well under 1 MB)."""
    return get_data_file_settings().max_data_file_bytes


_PYDANTIC_VI = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được phép (gõ sai tên?)",
    "string_type": "phải là chuỗi văn bản",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "list_type": "phải là danh sách",
    "literal_error": "giá trị không nằm trong danh sách cho phép",
    "string_pattern_mismatch": "sai định dạng",
    "value_error": "giá trị không hợp lệ",
    "greater_than_equal": "giá trị quá nhỏ",
    "less_than_equal": "giá trị quá lớn",
    "date_from_datetime_parsing": "ngày không hợp lệ",
    "datetime_from_date_parsing": "thời điểm không hợp lệ",
    "model_type": "phải là một khối khóa: giá trị",
}


def _loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _nfc_tree(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc_tree(v) for v in value]
    if isinstance(value, dict):
        return {_nfc_tree(k): _nfc_tree(v) for k, v in value.items()}
    return value


def read_text(path: Path) -> str:
    try:
        limit = max_data_file_bytes()
        size = path.stat().st_size
        if size > limit:
            raise _size_problem(str(path), size, limit)
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(
            [FileProblem(str(path), "", None, "không tìm thấy tệp", "file not found")]
        ) from None
    except UnicodeDecodeError as exc:
        raise DataFileError(
            [FileProblem(str(path), f"byte {exc.start}", None,
                         "tệp phải được lưu bằng mã UTF-8", "file must be UTF-8")]
        ) from None


def _size_problem(source: str, size: int, limit: int) -> DataFileError:
    return DataFileError(
        [FileProblem(source, "", None,
                     f"tệp quá lớn ({size:,} byte; tối đa {limit:,} byte)".replace(",", "."),
                     f"file too large ({size} bytes; at most {limit})")])


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line of the node at `loc` in an already validated YAML text (for errors found later,
    e.g. a report definition that conflicts with the plans of a period)."""
    from plans import yaml_nodes  # lazy: PyYAML only where a text is parsed

    return yaml_nodes.line_of(text, loc)


#: PyYAML's syntax complaints (English) as a clerk editing the file reads them.
YAML_PROBLEMS_VI = (
    ("mapping values are not allowed", "dấu hai chấm đặt sai chỗ (giá trị có dấu ':' thì "
                                       "đặt trong ngoặc kép)"),
    ("could not find expected ':'", "thiếu dấu hai chấm sau tên mục"),
    ("cannot start any token", "có ký tự không dùng được ở đầu giá trị (thụt lề bằng dấu "
                               "cách, không dùng Tab; ký tự @ ` % thì đặt trong ngoặc kép)"),
    ("expected <block end>", "thụt lề không thẳng hàng với các dòng trên"),
    ("did not find expected key", "thụt lề không thẳng hàng hoặc thiếu dấu gạch đầu dòng"),
    ("did not find expected '-'", "thiếu dấu gạch đầu dòng '- ' của phần tử danh sách"),
    ("unexpected end of stream", "tệp kết thúc giữa chừng (thiếu dấu ngoặc kép hoặc ngoặc "
                                 "đóng?)"),
    ("unknown escape character", "ký tự '\\' không hợp lệ trong chuỗi ngoặc kép"),
    ("found duplicate", "một mục được ghi hai lần"),
    ("expected ',' or ']'", "thiếu dấu phẩy hoặc ngoặc vuông đóng ']'"),
    ("expected ',' or '}'", "thiếu dấu phẩy hoặc ngoặc nhọn đóng '}'"),
)


def yaml_problem_vi(problem: str) -> str:
    """PyYAML's complaint in Vietnamese (the English stays in `message_en`)."""
    for english, vietnamese in YAML_PROBLEMS_VI:
        if english in problem:
            return vietnamese
    return "cấu trúc không đúng (thụt lề, dấu hai chấm hoặc dấu ngoặc)"


def parse_model(model: type[M], text: str, source: str) -> M:
    """Validate YAML `text` against `model`; `source` names the file in errors.

    Refused before anything is expanded: a text above `max_data_file_bytes()` and any alias.
    A text parsed before is not parsed again: its data is kept by the hash of the text
    (`plans.data_cache`) and validated afresh.
    """
    limit = max_data_file_bytes()
    if len(text) > limit or len(text.encode("utf-8")) > limit:
        raise _size_problem(source, len(text.encode("utf-8")), limit)
    kept = data_cache.load(text)
    if isinstance(kept, dict):
        try:
            return model.model_validate(kept)
        except ValidationError:
            pass  # parsed again below: its errors need the lines of the nodes
    from plans import yaml_nodes  # lazy: PyYAML only where a text is parsed (CLI start)

    try:
        root, data = yaml_nodes.compose(text)
    except yaml_nodes.AliasRefused as exc:
        raise DataFileError(
            [FileProblem(source, "", exc.line,
                         "không dùng bí danh YAML (*tên, <<: *tên): hãy chép nội dung ra",
                         "YAML aliases (*name) are not allowed: write the content out")]
        ) from None
    except yaml_nodes.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataFileError(
            [FileProblem(source, "", line, f"lỗi cú pháp: {yaml_problem_vi(problem)}",
                         f"YAML syntax error: {problem}")]
        ) from None
    if not isinstance(data, dict):
        raise DataFileError(
            [FileProblem(source, "", 1, "tệp phải là một khối khóa: giá trị",
                         "file must hold a mapping at the top")]
        )
    data = _nfc_tree(data)
    encoded = data_cache.encoded(data)  # before validation, which could change `data`
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, SpecProblems):
                for sub, vi, en in cause.problems:
                    at = loc + sub
                    problems.append(FileProblem(source, _loc_text(at),
                                                yaml_nodes.line_at(root, at), vi, en))
                continue
            vi = _PYDANTIC_VI.get(err["type"], "giá trị không hợp lệ")
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "value_error":
                vi = msg.split(" / ")[0]
                msg = msg.split(" / ")[-1]
            problems.append(FileProblem(source, _loc_text(loc), yaml_nodes.line_at(root, loc),
                                        vi, msg))
        raise DataFileError(problems) from None
    if encoded is not None:
        data_cache.store(text, encoded)
    return validated


def load_model(model: type[M], path: Path) -> M:
    return parse_model(model, read_text(path), str(path))


@functools.lru_cache(maxsize=32)
def _load_cached(model: type[BaseModel], path: str, mtime_ns: int) -> BaseModel:
    return load_model(model, Path(path))


def load_model_cached(model: type[M], path: Path) -> M:
    """`load_model`, read again only when the file's modification time changes.

    For the files every command consults (calendar, reminder rules): a clerk's edit is picked up
    by a running scheduler or web app on the next call, without re-parsing on every call.
    """
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = -1  # load_model reports the missing file in both languages
    loaded = _load_cached(model, str(path), mtime)
    assert isinstance(loaded, model)
    return loaded


def content_hash(text: str) -> str:
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()
