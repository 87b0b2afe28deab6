"""Turn a `Digest` into a `Message` for e-mail or Zalo, from editable Jinja2 templates.

Why templates in files: the wording officers read ("Kính gửi …", "còn 3 ngày") is changed by
people who are not programmers, so it lives in `notifications/templates/*.j2` and the code only
prepares ready-to-print values (dates already dd/mm/yyyy, status already in Vietnamese, items
already sorted by due date). A typo in a template fails loudly (StrictUndefined) instead of
sending a half-empty reminder. HTML is autoescaped; everything that leaves here is NFC.

Template variables (the same for every template):
  ten           recipient name ("anh/chị" when unknown)
  so_viec       number of items (int)
  so_qua_han    how many of them are overdue (int)
  don_vi        unit name(s) of the items ("xã Vĩnh Thạnh"; "" when none)
  escalation    True when the digest tells a leader about overdue work of others
  urgency       the digest's most urgent item: "escalation", "alert" (a channel is broken,
                to the admin), "overdue", "today", "soon" (≤ 3 days left) or "ahead" — the
                subject's wording follows it
  ngay_gui      send date, dd/mm/yyyy
  app_url       link to the application ("" when not configured)
  link          absolute link of the first item, else `app_url`
  items         list of `ItemView`, earliest due first: title, kind, kind_label, code, plan,
                unit_name, due (dd/mm/yyyy), deadline (dd/mm/yyyy of the last working day
                when the due date is a day off, else ""), status ("còn 3 ngày" / "đến hạn
                hôm nay" / "quá hạn 2 ngày làm việc"), days (int, < 0 overdue), overdue
                (bool), recipient_body, document, owner, period, link (absolute http(s) or "")

Lateness is `engine.domain.timeliness.days_to_deadline` (computed by the dispatcher): days left
to the real deadline, or working days overdue — the one definition the web and the reports use.

ZNS `template_data` (Zalo Notification Service; string values only, each cut at a word boundary
to the limit of its parameter type in the template registered with Zalo):
  ten           recipient name (type "name")                    ≤ 30
  so_viec       number of items, e.g. "3" (type "label")        ≤ 30
  han_gan_nhat  real deadline of the earliest item, dd/mm/yyyy  ≤ 30
  noi_dung      title of the earliest item (type "title")       ≤ 200
  ke_hoach      its plan ("Kế hoạch số 147/KH-UBND …")          ≤ 200
  don_vi        unit name(s) (type "address")                   ≤ 200
  link          absolute link of the earliest item, else the app URL (type "URL") ≤ 200

Zalo OA transaction message (`oa_payload`, the `message.attachment.payload` of
`/v3.0/oa/message/transaction`): template_type "transaction_order", language "VI", elements
header (≤ 100) / text (≤ 1000) / table (≤ 5 rows, key ≤ 25, value ≤ 100), one button
"oa.open.url" to the first item (title ≤ 100, at most 4 buttons).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifications.base import Digest, DueItem, Message
from vntext.dates import format_date_vi

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

SUBJECT_TEMPLATE = "digest_subject.txt.j2"
TEXT_TEMPLATE = "digest.txt.j2"
HTML_TEMPLATE = "digest.html.j2"
ZALO_TEMPLATE = "zalo.txt.j2"

ZALO_TEXT_LIMIT = 2000  # characters in one Zalo OA text message
ZNS_LIMITS: dict[str, int] = {
    "ten": 30,
    "so_viec": 30,
    "han_gan_nhat": 30,
    "noi_dung": 200,
    "ke_hoach": 200,
    "don_vi": 200,
    "link": 200,
}
#: Zalo OA transaction template limits (characters).
OA_HEADER_LIMIT = 100
OA_TEXT_LIMIT = 1000
OA_TABLE_ROWS = 5
OA_TABLE_KEY_LIMIT = 25
OA_TABLE_VALUE_LIMIT = 100
OA_BUTTON_TITLE_LIMIT = 100

KIND_LABELS = {"task": "Nhiệm vụ", "obligation": "Báo cáo", "snapshot": "Chốt số liệu",
               "alert": "Cảnh báo"}

_SPACES = re.compile(r"\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING_SPACES = re.compile(r"[ \t]+\n")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def one_line(text: str) -> str:
    """NFC, whitespace (including newlines) collapsed: safe for a subject or a ZNS value."""
    return _SPACES.sub(" ", nfc(text)).strip()


def truncate(text: str, limit: int) -> str:
    """Cut to at most `limit` characters at a word boundary, ending with "…" when cut.

    A single word longer than the limit (a URL) is cut inside the word as a last resort.
    """
    text = one_line(text)
    if len(text) <= limit:
        return text
    room = max(limit - 1, 0)
    head = text[:room]
    if text[room:room + 1] not in ("", " "):  # cut inside a word: drop the partial word
        space = head.rfind(" ")
        if space > 0:
            head = head[:space]
    return head.rstrip(" ,;:-–—") + "…"


def status_vi(days: int) -> str:
    """ "còn 3 ngày", "đến hạn hôm nay" or "quá hạn 2 ngày làm việc" (see `DueItem.days`)."""
    if days > 0:
        return f"còn {days} ngày"
    if days == 0:
        return "đến hạn hôm nay"
    return f"quá hạn {-days} ngày làm việc"


def urgency(items: list[DueItem], escalation: bool) -> str:
    """The digest's most urgent item, for the subject: escalation, overdue, today, soon, ahead."""
    if escalation:
        return "escalation"
    if any(i.kind == "alert" for i in items):
        return "alert"
    if not items:
        return "ahead"
    nearest = min(i.days for i in items)
    if nearest < 0:
        return "overdue"
    if nearest == 0:
        return "today"
    return "soon" if nearest <= 3 else "ahead"


@dataclass(frozen=True)
class ItemView:
    """One `DueItem` with every value already formatted for the templates."""

    title: str
    kind: str
    kind_label: str
    code: str
    plan: str
    unit_name: str
    due: str
    deadline: str  # the last working day, when `due` is a day off; else ""
    status: str
    days: int
    overdue: bool
    recipient_body: str
    document: str
    owner: str
    period: str
    link: str


def _safe_link(link: str, app_url: str) -> str:
    """Absolute http(s) links only; "/tasks/42" is joined to the app URL, anything else dropped."""
    link = link.strip()
    if link.startswith("/") and app_url:
        link = urljoin(app_url.rstrip("/") + "/", link.lstrip("/"))
    return link if link.startswith(("https://", "http://")) else ""


def _item_view(item: DueItem, app_url: str) -> ItemView:
    return ItemView(
        title=one_line(item.title),
        kind=item.kind,
        kind_label=KIND_LABELS.get(item.kind, "Việc"),
        code=one_line(item.code),
        plan=one_line(item.plan),
        unit_name=one_line(item.unit_name),
        due=format_date_vi(item.due_on),
        deadline=(format_date_vi(item.deadline)
                  if item.deadline and item.deadline != item.due_on else ""),
        status=status_vi(item.days),
        days=item.days,
        overdue=item.days < 0,
        recipient_body=one_line(item.recipient_body),
        document=one_line(item.document),
        owner=one_line(item.owner),
        period=one_line(item.period),
        link=_safe_link(item.link, app_url),
    )


def sorted_items(digest: Digest) -> list[DueItem]:
    """Earliest due first; most overdue first on the same date; then by title."""
    return sorted(digest.items, key=lambda i: (i.due_on, i.days, nfc(i.title)))


def units_label(names: list[str]) -> str:
    """ "xã A"; "xã A, xã B"; "xã A và 4 đơn vị khác"."""
    distinct = list(dict.fromkeys(n for n in (one_line(n) for n in names) if n))
    if len(distinct) <= 2:
        return ", ".join(distinct)
    return f"{distinct[0]} và {len(distinct) - 1} đơn vị khác"


def context(digest: Digest) -> dict[str, Any]:
    """The variables every template sees (documented at the top of this module)."""
    app_url = digest.app_url.strip()
    app_url = app_url if app_url.startswith(("https://", "http://")) else ""
    items = sorted_items(digest)
    views = [_item_view(i, app_url) for i in items]
    return {
        "ten": one_line(digest.recipient.name) or "anh/chị",
        "so_viec": len(items),
        "so_qua_han": sum(1 for i in items if i.days < 0),
        "don_vi": units_label([i.unit_name for i in items]),
        "escalation": digest.escalation,
        "urgency": urgency(items, digest.escalation),
        "ngay_gui": format_date_vi(digest.send_on),
        "app_url": app_url,
        "link": next((v.link for v in views if v.link), app_url),
        "items": views,
    }


def zns_template_data(digest: Digest) -> dict[str, str]:
    """The ZNS parameters (keys and limits in `ZNS_LIMITS`); strings only, NFC, single-line."""
    ctx = context(digest)
    items: list[ItemView] = ctx["items"]
    first = items[0] if items else None
    values = {
        "ten": ctx["ten"],
        "so_viec": str(ctx["so_viec"]),
        "han_gan_nhat": (first.deadline or first.due) if first else "",
        "noi_dung": first.title if first else "",
        "ke_hoach": first.plan if first else "",
        "don_vi": ctx["don_vi"],
        "link": (first.link if first and first.link else ctx["app_url"]),
    }
    return {key: truncate(value, ZNS_LIMITS[key]) for key, value in values.items()}


def oa_transaction_payload(digest: Digest, subject: str) -> dict[str, Any]:
    """The OA v3 transaction template (`message.attachment.payload`) of a digest.

    Header: the subject; text: the greeting and the first item; table: up to five items
    (title → status and real deadline); one "oa.open.url" button to the first item (or the
    app). Every value is cut at a word boundary to Zalo's limit for its element.
    """
    ctx = context(digest)
    items: list[ItemView] = ctx["items"]
    first = items[0] if items else None
    lead = (f"Kính gửi {ctx['ten']}, các việc sau{' của ' + ctx['don_vi'] if ctx['don_vi'] else ''}"
            " đã quá hạn nhưng chưa hoàn thành." if ctx["escalation"] else
            f"Kính gửi {ctx['ten']}, có {ctx['so_viec']} việc cần hoàn thành"
            f"{' (' + ctx['don_vi'] + ')' if ctx['don_vi'] else ''}.")
    if first is not None and first.plan:
        lead += f" {first.kind_label}: {first.title} — {first.plan}."
    rows = []
    for view in items[:OA_TABLE_ROWS]:
        value = f"{view.status}, hạn {view.deadline or view.due}"
        if ctx["escalation"] and view.owner:
            value += f", {view.owner}"
        rows.append({"key": truncate(view.title, OA_TABLE_KEY_LIMIT),
                     "value": truncate(value, OA_TABLE_VALUE_LIMIT)})
    payload: dict[str, Any] = {
        "template_type": "transaction_order",
        "language": "VI",
        "elements": [
            {"type": "header", "content": truncate(subject, OA_HEADER_LIMIT), "align": "left"},
            {"type": "text", "content": truncate(lead, OA_TEXT_LIMIT), "align": "left"},
            {"type": "table", "content": rows},
        ],
    }
    if ctx["link"]:
        payload["buttons"] = [{"title": truncate("Xem chi tiết và cập nhật",
                                                 OA_BUTTON_TITLE_LIMIT),
                               "image_icon": "", "type": "oa.open.url",
                               "payload": {"url": ctx["link"]}}]
    return payload


def _tidy(text: str) -> str:
    """NFC, no trailing spaces, at most one blank line in a row, one final newline."""
    text = _TRAILING_SPACES.sub("\n", nfc(text))
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


class DigestRenderer:
    """Renders digests with the templates of one directory (the packaged ones by default)."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.env = Environment(
            loader=FileSystemLoader(templates_dir or TEMPLATES_DIR),
            autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def _render(self, name: str, ctx: dict[str, Any]) -> str:
        return self.env.get_template(name).render(ctx)

    def subject(self, digest: Digest) -> str:
        return one_line(self._render(SUBJECT_TEMPLATE, context(digest)))

    def email(self, digest: Digest) -> Message:
        ctx = context(digest)
        return Message(
            tracking_id=digest.key,
            recipient=digest.recipient,
            subject=one_line(self._render(SUBJECT_TEMPLATE, ctx)),
            text=_tidy(self._render(TEXT_TEMPLATE, ctx)),
            html=nfc(self._render(HTML_TEMPLATE, ctx)),
            link=ctx["link"],
            attachments=digest.attachments,
        )

    def zalo(self, digest: Digest) -> Message:
        ctx = context(digest)
        text = _tidy(self._render(ZALO_TEMPLATE, ctx)).strip()
        if len(text) > ZALO_TEXT_LIMIT:
            text = text[: ZALO_TEXT_LIMIT - 1].rstrip() + "…"
        subject = one_line(self._render(SUBJECT_TEMPLATE, ctx))
        return Message(
            tracking_id=digest.key,
            recipient=digest.recipient,
            subject=subject,
            text=text,
            template_data=zns_template_data(digest),
            link=ctx["link"],
            oa_payload=oa_transaction_payload(digest, subject),
        )


@cache
def default_renderer() -> DigestRenderer:
    return DigestRenderer()


def render_email(digest: Digest) -> Message:
    """Subject, plain text and HTML of a digest, from the packaged templates."""
    return default_renderer().email(digest)


def render_zalo(digest: Digest) -> Message:
    """Short text (≤ 2000 characters) plus ZNS `template_data`, from the packaged templates."""
    return default_renderer().zalo(digest)
