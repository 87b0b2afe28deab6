"""The shape of a workflow definition file (states, transitions, guards, roles)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plans.errors import Loc, SpecProblems

Role = Literal["officer", "leader", "reviewer", "admin", "system"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
GUARDS = frozenset({"has_evidence", "has_result", "has_note", "has_result_or_evidence"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateDef(_Strict):
    name: Name
    label: str
    done: bool = False


class TransitionDef(_Strict):
    trigger: Name
    label: str
    source: list[Name]
    dest: Name
    roles: list[Role]
    guards: list[str] = []


class WorkflowDef(_Strict):
    id: Name
    version: int = 1
    initial: Name
    states: list[StateDef]
    transitions: list[TransitionDef]

    @property
    def state_names(self) -> list[str]:
        return [s.name for s in self.states]

    @property
    def state_labels(self) -> dict[str, str]:
        """Each state's Vietnamese label, in the file's order."""
        return {s.name: s.label for s in self.states}

    @property
    def done_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.done)

    def label(self, state: str) -> str:
        for s in self.states:
            if s.name == state:
                return s.label
        return state

    def transition(self, trigger: str) -> TransitionDef | None:
        for t in self.transitions:
            if t.trigger == trigger:
                return t
        return None

    @model_validator(mode="after")
    def _consistent(self) -> WorkflowDef:
        names = self.state_names
        problems: list[tuple[Loc, str, str]] = []
        for i, name in enumerate(names):
            if name in names[:i]:
                problems.append((
                    ("states", i, "name"),
                    f"tên trạng thái '{name}' bị trùng", f"duplicate state name '{name}'",
                ))
        if self.initial not in names:
            problems.append((
                ("initial",),
                f"trạng thái đầu '{self.initial}' không có trong danh sách",
                f"initial state '{self.initial}' is not a declared state",
            ))
        if not self.done_states:
            problems.append((
                ("states",),
                "cần đúng một trạng thái 'done: true'", "one state must be marked done: true"))
        triggers = [t.trigger for t in self.transitions]
        for i, t in enumerate(self.transitions):
            if t.trigger in triggers[:i]:
                problems.append((
                    ("transitions", i, "trigger"),
                    f"tên lệnh chuyển '{t.trigger}' bị trùng",
                    f"duplicate trigger name '{t.trigger}'",
                ))
            places: list[tuple[Loc, str]] = [
                (("transitions", i, "source", j), s) for j, s in enumerate(t.source)]
            places.append((("transitions", i, "dest"), t.dest))
            for loc, state in places:
                if state not in names:
                    problems.append((
                        loc,
                        f"lệnh '{t.trigger}': trạng thái '{state}' không tồn tại "
                        f"(có: {', '.join(names)})",
                        f"transition '{t.trigger}': unknown state '{state}'",
                    ))
            for k, g in enumerate(t.guards):
                if g not in GUARDS:
                    problems.append((
                        ("transitions", i, "guards", k),
                        f"lệnh '{t.trigger}': điều kiện '{g}' không có (có: "
                        f"{', '.join(sorted(GUARDS))})",
                        f"transition '{t.trigger}': unknown guard '{g}'",
                    ))
        if problems:
            raise SpecProblems(problems)
        return self
