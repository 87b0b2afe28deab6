"""Runs a workflow definition with `transitions`: one shared Machine per definition.

Why not a Machine per task: a Machine per object costs tens of KB each and makes bulk loads
quadratic. The state lives in the `tasks.state` column; to fire an event we hand the shared
machine a tiny slotted proxy holding that state and the command's context, and read the new
state back. Guards raise `ValidationFailed` with the precise reason, so a refused transition
always says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from transitions import EventData, Machine

from engine.errors import Forbidden, Problem, TransitionNotAllowed, ValidationFailed
from workflows import WorkflowDef


@dataclass(frozen=True)
class Command:
    """What an actor asks of a task, with everything guards may look at."""

    trigger: str
    actor: str
    role: str
    evidence: Sequence[object] = ()
    result: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _Proxy:
    __slots__ = ("command", "state")

    def __init__(self, state: str, command: Command) -> None:
        self.state = state
        self.command = command


def _command(ev: EventData) -> Command:
    proxy = ev.model
    assert isinstance(proxy, _Proxy)
    return proxy.command


@dataclass(frozen=True)
class Guard:
    """A workflow guard: a test of the command alone, and the refusal when it fails."""

    holds: Callable[[Command], bool]
    refusal: Callable[[], ValidationFailed]

    def condition(self, ev: EventData) -> bool:
        """As a `transitions` condition: True, or the refusal raised with its reason."""
        if not self.holds(_command(ev)):
            raise self.refusal()
        return True


GUARDS: dict[str, Guard] = {
    "has_evidence": Guard(
        lambda c: bool(c.evidence),
        lambda: ValidationFailed(
            "Phải có ít nhất một văn bản làm minh chứng (ví dụ: Kế hoạch số 223/KH-UBND "
            "ngày 06/3/2023)",
            "at least one evidence document is required",
            field="doc",
        )),
    "has_result": Guard(
        lambda c: bool(c.result.strip()),
        lambda: ValidationFailed(
            "Phải ghi kết quả thực hiện", "a result text is required", field="result")),
    "has_note": Guard(
        lambda c: bool(c.note.strip()),
        lambda: ValidationFailed(
            "Phải ghi lý do / nội dung", "a reason (note) is required", field="note")),
    "has_result_or_evidence": Guard(
        lambda c: bool(c.result.strip()) or bool(c.evidence),
        lambda: ValidationFailed(
            "Phải có kết quả hoặc văn bản minh chứng",
            "a result text or an evidence document is required",
            field="result",
        )),
}


class WorkflowMachine:
    def __init__(self, definition: WorkflowDef) -> None:
        self.definition = definition
        self._machine = Machine(
            model=None,
            states=definition.state_names,
            initial=definition.initial,
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "conditions": [GUARDS[g].condition for g in t.guards],
                }
                for t in definition.transitions
            ],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        self.done_states = definition.done_states
        self._answers: dict[tuple[str, str, str, tuple[bool, ...]], str] = {}

    @property
    def initial(self) -> str:
        return self.definition.initial

    def check(self, state: str, command: Command) -> None:
        """Refuse (with the reason) a trigger unknown, not allowed for the role or the state."""
        t = self.definition.transition(command.trigger)
        if t is None:
            raise TransitionNotAllowed(
                f"Không có thao tác '{command.trigger}'",
                f"unknown trigger '{command.trigger}'",
                field="trigger",
            )
        if command.role not in t.roles:
            raise Forbidden(
                f"Vai trò '{command.role}' không được phép '{t.label}'",
                f"role '{command.role}' may not '{command.trigger}'",
                field="role",
            )
        if state not in t.source:
            raise TransitionNotAllowed(
                f"Không thể '{t.label}' khi nhiệm vụ đang ở trạng thái "
                f"'{self.definition.label(state)}'",
                f"cannot '{command.trigger}' from state '{state}'",
                field="state",
            )

    def guard_problems(self, command: Command) -> list[Problem]:
        """Every guard of the command's transition that refuses it, each with its reason —
        all of them, so a form can show every missing field at once (`fire` stops at the
        first)."""
        t = self.definition.transition(command.trigger)
        out: list[Problem] = []
        for name in t.guards if t is not None else ():
            guard = GUARDS[name]
            if not guard.holds(command):
                out.extend(guard.refusal().problems)
        return out

    def fire(self, state: str, command: Command) -> str:
        """Run the command against a task in `state`; return the new state or raise.

        The answer depends on the state, the trigger, the role and what the guards test of the
        command — nothing else (guards are `Guard.holds` tests; the workflow has no callbacks).
        So an accepted answer is remembered under exactly those and given again without
        running the Machine: one officer's command and a 200,000-task import get the same
        answers, from the same Machine, at the price of one dictionary lookup. Refusals are
        not remembered (they raise with their reason every time).
        """
        key = (state, command.trigger, command.role,
               tuple(g.holds(command) for g in GUARDS.values()))
        known = self._answers.get(key)
        if known is not None:
            return known
        new_state = self._fire(state, command)
        self._answers[key] = new_state
        return new_state

    def _fire(self, state: str, command: Command) -> str:
        self.check(state, command)
        proxy = _Proxy(state, command)
        ok = self._machine.events[command.trigger].trigger(proxy)
        if not ok:  # pragma: no cover - guards raise instead of returning False
            raise TransitionNotAllowed("Điều kiện không thỏa", "guard failed")
        return proxy.state

    def allowed(self, state: str, role: str) -> list[str]:
        return [
            t.trigger
            for t in self.definition.transitions
            if state in t.source and role in t.roles
        ]

    def is_done(self, state: str) -> bool:
        return state in self.done_states
