"""Vietnamese for every `cchc` command: Typer's own texts, the shared options, field names.

Why one module: officers read the whole CLI — help pages, usage lines, argument errors — not only
our messages, and every helper that adds a command must get the same words for free. Importing
this module (cli.main does, first) puts Typer's built-in texts into Vietnamese for every command
of the process. The conventions for a new command (also in docs/cli.md):

- use the shared parameters below (`JsonOpt`, `DbOpt`, `AtOpt`, `ByOpt`, `RoleOpt`,
  `VersionOpt`, `UnitArg`, `PlanArg`, `CodeArg`); any other argument gets a Vietnamese
  `metavar` in capitals (`typer.Argument(metavar="TỆP")`), every option a Vietnamese `help`;
- a value picked from a list (state, role) is read with `engine.domain.choices.resolve_choice`,
which
  takes the code or the Vietnamese label and refuses anything else listing the valid ones;
- refuse bad input with `CchcError(..., field="x")`; `FIELD_LABELS` gives the Vietnamese name
  `cli.output.fail` prints for field `x` (add yours there) — the English message is never shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer import _click
from typer._click.exceptions import BadParameter, MissingParameter, NoSuchOption
from typer.core import TyperArgument, TyperOption, _TyperParameter

from cli.lazy import lazy
from engine import directory, domain

# ---------------------------------------------------------------- shared parameters

JsonOpt = Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON cho máy đọc")]
DbOpt = Annotated[str | None, typer.Option(
    "--db", envvar="CCHC_DATABASE_URL", metavar="URL",
    help="Địa chỉ cơ sở dữ liệu (mặc định SQLite trong thư mục hiện tại)")]
AtOpt = Annotated[str | None, typer.Option(
    "--at", metavar="THỜI_ĐIỂM",
    help="Đồng hồ giả lập YYYY-MM-DDTHH:MM (giờ Việt Nam), để nhập lại số liệu cũ")]
ByOpt = Annotated[str, typer.Option("--by", envvar="CCHC_ACTOR", metavar="HỌ_TÊN",
                                    help="Người thực hiện")]
RoleOpt = Annotated[str, typer.Option(
    "--role", envvar="CCHC_ROLE", metavar="VAI_TRÒ",
    help="Vai trò: 'cán bộ', 'lãnh đạo' hoặc 'quản trị'")]
VersionOpt = Annotated[int | None, typer.Option(
    "--version", metavar="SỐ", help="Phiên bản bạn đã đọc (chống ghi đè)")]
OccurrenceOpt = Annotated[str | None, typer.Option(
    "--ky", metavar="KỲ",
    help="Kỳ của nhiệm vụ lặp lại (hằng tháng/quý/6 tháng/năm): 2026-M03, 2026-Q1, 2026-H1, "
         "2026-Y; mặc định là kỳ chứa ngày thực hiện (--on) hoặc hôm nay")]
UnitArg = Annotated[str, typer.Argument(metavar="ĐƠN_VỊ", help="Mã đơn vị, ví dụ vinh-thanh")]
PlanArg = Annotated[str, typer.Argument(metavar="KẾ_HOẠCH",
                                        help="Mã kế hoạch, ví dụ cchc-2023")]
CodeArg = Annotated[str, typer.Argument(
    metavar="NHIỆM_VỤ", help="Số thứ tự nhiệm vụ trong phụ lục, ví dụ 7 hoặc 1.2.3")]

#: The Vietnamese name of each field an engine error can name (CchcError(field=…)).
FIELD_LABELS: dict[str, str] = {
    "at": "Thời điểm (--at)",
    "attachment": "Tệp đính kèm",
    "authorization": "Mã truy cập",
    "city": "Thành phố",
    "code": "Nhiệm vụ",
    "cutoff_day": "Ngày chốt số liệu",
    "date": "Ngày",
    "deadline": "Thời hạn",
    "doc": "Văn bản minh chứng",
    "file": "Tệp",
    "history": "Lịch sử",
    "id": "Số",
    "issued_by": "Văn bản ban hành",
    "key": "Khóa",
    "kind": "Loại đơn vị",
    "name": "Tên",
    "note": "Ghi chú",
    "occurrence": "Kỳ của nhiệm vụ (--ky)",
    "on": "Ngày thực hiện",
    "owner": "Người phụ trách",
    "parent": "Đơn vị cấp trên",
    "password": "Mật khẩu",
    "period": "Kỳ báo cáo",
    "plan": "Kế hoạch",
    "result": "Kết quả",
    "role": "Vai trò",
    "seed": "Báo cáo gốc",
    "against": "Báo cáo đối chiếu",
    "session": "Phiên đăng nhập",
    "sort": "Sắp xếp (--sort)",
    "state": "Trạng thái",
    "token": "Mã truy cập",
    "trigger": "Thao tác",
    "unit": "Đơn vị",
    "user": "Tài khoản",
    "username": "Tên đăng nhập",
    "version": "Phiên bản",
    "year": "Năm",
}


def role_code(value: str) -> str:
    """The role code of what was typed: 'cán bộ', 'Lãnh đạo UBND', 'quan tri' or `leader`."""
    return domain.resolve_choice(value, directory.ROLE_LABELS, field="role", what_vi="Vai trò",
                                 what_en="role")


def field_label(field: str) -> str:
    """The Vietnamese name of a field; an unknown field name is not shown (it is English)."""
    return FIELD_LABELS.get(field, "")


# ---------------------------------------------------------------- Typer's own texts

HELP_OPTION_TEXT = "Hiện hướng dẫn này rồi thoát."
_USAGE_WORDS = (("Usage: ", "Cách dùng: "), ("[OPTIONS]", "[TÙY_CHỌN]"),
                ("COMMAND [ARGS]...", "LỆNH [THAM_SỐ]..."))


def _display_type(self: _TyperParameter, ctx: _click.Context) -> str:
    """What the value is, in Vietnamese — never a Python type ('<str>', '<int>')."""
    desc = self.type_descriptor
    if desc.annotation is bool or (isinstance(self, TyperOption) and self.is_flag):
        return ""
    if desc.is_path:
        return "ĐƯỜNG_DẪN"
    if desc.annotation is int or desc.is_ranged:
        return "SỐ"
    return "" if isinstance(self, TyperArgument) else "GIÁ_TRỊ"


def _number_range(self: _TyperParameter) -> str | None:
    low, high = getattr(self, "min", None), getattr(self, "max", None)
    if low is None and high is None:
        return None
    if high is None:
        return f"tối thiểu {low}"
    if low is None:
        return f"tối đa {high}"
    return f"từ {low} đến {high}"


def _vi_usage(text: str) -> str:
    for en, vi in _USAGE_WORDS:
        text = text.replace(en, vi)
    return text


def _param_name(param: Any) -> str:
    if isinstance(param, TyperOption):
        return " / ".join(param.opts) or str(param.name)
    return str(getattr(param, "metavar", None) or getattr(param, "name", "") or "").upper()


def _bad_value(exc: BadParameter) -> str:
    if not exc.message.isascii():  # our own Vietnamese reason (typer.BadParameter("…"))
        return exc.message.rstrip(".")
    param = exc.param
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and (desc.annotation is int or desc.is_ranged):
        rng = _number_range(param) if isinstance(param, _TyperParameter) else None
        return "phải là một số nguyên" + (f" ({rng})" if rng else "")
    if desc is not None and desc.is_path:
        return "đường dẫn không dùng được"
    return "giá trị không hợp lệ"


def error_message(exc: _click.ClickException) -> str:
    """A Typer/Click usage error in Vietnamese (missing argument, unknown option…)."""
    if isinstance(exc, MissingParameter):
        kind = "tùy chọn" if isinstance(exc.param, TyperOption) else "tham số"
        return f"Thiếu {kind} {_param_name(exc.param)}."
    if isinstance(exc, NoSuchOption):
        near = sorted(exc.possibilities or [])
        hint = f" Có phải ý bạn là: {', '.join(near)}?" if near else ""
        return f"Không có tùy chọn {exc.option_name}.{hint}"
    if isinstance(exc, BadParameter):
        name = _param_name(exc.param) if exc.param is not None else ""
        return (f"Giá trị của {name} không hợp lệ: " if name else "Giá trị không hợp lệ: ") \
            + f"{_bad_value(exc)}."
    message = exc.message
    if m := re.match(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", message):
        return f"Thừa tham số: {m.group(1)}."
    if m := re.match(r"Option '?(\S+?)'? requires (?:an argument|\d+ arguments)", message):
        return f"Tùy chọn {m.group(1)} cần một giá trị."
    if m := re.match(r"Option '?(\S+?)'? does not take a value", message):
        return f"Tùy chọn {m.group(1)} không nhận giá trị."
    if m := re.match(r"No such command '(.+?)'\.?(?: Did you mean (.+)\?)?$", message):
        guess = f" Có phải ý bạn là: {m.group(2)}?" if m.group(2) else ""
        return f"Không có lệnh '{m.group(1)}'.{guess}"
    return message


def _vietnamese_rich_utils(rich_utils: Any) -> None:  # typer.rich_utils, once loaded
    """Typer's help and error panels in Vietnamese. Applied when Typer loads `rich_utils` (for
    a help page or a usage error): it imports Rich's markdown and traceback modules, which a
    command that runs does not need (start time, issue 13)."""
    rich_utils.DEPRECATED_STRING = "(không còn dùng) "
    rich_utils.DEFAULT_STRING = "[mặc định: {}]"
    rich_utils.ENVVAR_STRING = "[biến môi trường: {}]"
    rich_utils.REQUIRED_LONG_STRING = "[bắt buộc]"
    rich_utils.ARGUMENTS_PANEL_TITLE = "Tham số"
    rich_utils.OPTIONS_PANEL_TITLE = "Tùy chọn"
    rich_utils.COMMANDS_PANEL_TITLE = "Lệnh"
    rich_utils.ERRORS_PANEL_TITLE = "Lỗi"
    rich_utils.ABORTED_TEXT = "Đã hủy."
    rich_utils.RICH_HELP = "Xem [blue]'{command_path} {help_option}'[/] để biết cách dùng."
    format_error: Callable[[_click.ClickException], None] = rich_utils.rich_format_error

    def vi_format_error(exc: _click.ClickException) -> None:
        exc.format_message = lambda: error_message(exc)  # type: ignore[method-assign]
        format_error(exc)

    rich_utils.rich_format_error = vi_format_error


def _install() -> None:
    lazy("typer.rich_utils", then=_vietnamese_rich_utils)
    _TyperParameter.display_type = _display_type  # type: ignore[method-assign]
    TyperOption._get_number_range_help_str = _number_range  # type: ignore[method-assign]
    TyperArgument._get_number_range_help_str = _number_range  # type: ignore[method-assign]

    get_help_option = _click.Command.get_help_option

    def vi_help_option(self: _click.Command, ctx: _click.Context) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    _click.Command.get_help_option = vi_help_option  # type: ignore[method-assign]

    get_usage = _click.Command.get_usage

    def vi_usage(self: _click.Command, ctx: _click.Context) -> str:
        return _vi_usage(get_usage(self, ctx))

    _click.Command.get_usage = vi_usage  # type: ignore[method-assign]


_install()


def vi_typer(help: str) -> typer.Typer:
    """A command group as every `cchc` group is: Vietnamese help, help when called bare, no
    shell-completion options (their texts are Typer's English)."""
    return typer.Typer(help=help, no_args_is_help=True, add_completion=False,
                       rich_markup_mode="rich", pretty_exceptions_enable=False)


__all__ = ["FIELD_LABELS", "AtOpt", "ByOpt", "CodeArg", "DbOpt", "JsonOpt", "PlanArg",
           "RoleOpt", "UnitArg", "VersionOpt", "error_message", "field_label", "role_code",
           "vi_typer"]
