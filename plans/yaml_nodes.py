"""YAML texts composed into nodes (which know their lines) and constructed into data.

Why a module of its own: PyYAML is imported only when a text is actually parsed. A command
whose data files are all kept parsed (`plans.data_cache`) never loads it (issue 13: CLI
start); `plans.loader` imports this module where it parses.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml import YAMLError


class AliasRefused(Exception):
    """An alias (`*name`) at `line`."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases (`*name`, also in `<<: *name`) as it meets them.

    Why: a few hundred bytes of nested aliases ("billion laughs") expand to gigabytes when the
    tree is walked; data files a clerk edits never need them. The refusal happens while the
    node tree is composed, before anything is expanded.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise AliasRefused(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def compose(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree of `text` and the data built from it (None for an empty text); raises
    `AliasRefused` or PyYAML's `YAMLError`."""
    loader = _NoAliasLoader(text)
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def node_at(root: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The node at `loc` (keys and list indexes), or the deepest one found on the way."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    nxt = value
                    break
            if nxt is None:
                return node
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def line_at(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line (from 1) of the node at `loc`."""
    node = node_at(root, loc)
    return node.start_mark.line + 1 if node is not None else None


def line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line of the node at `loc` in `text`, composed without constructing its data."""
    loader = _NoAliasLoader(text)
    try:
        return line_at(loader.get_single_node(), loc)
    finally:
        loader.dispose()


__all__ = ["AliasRefused", "YAMLError", "compose", "line_at", "line_of", "node_at"]
