"""Application forms of items: which of their fields hold personal identifiers.

An item's ``form_schema`` (JSON Schema) marks each property holding a personal identifier with
``"x-personal": "id_number"`` or ``"phone"``; ``cases.personal`` seals those values at rest and
masks them in every answer. A schema whose identifier-like property is not marked is refused at
import (``unmarked_identifiers``): one forgotten mark would show full numbers to every reader.
"""

from __future__ import annotations

import re
from typing import Any

MARK = "x-personal"
#: The kinds of identifier a mark may name (each has its mask in ``cases.personal``).
KINDS = frozenset({"id_number", "phone"})
#: A path through a form: property names, ``*`` for every item of an array.
Path = tuple[str, ...]


def personal_paths(schema: dict[str, Any] | None) -> dict[Path, str]:
    """Every marked property of a form schema, by path, with its kind."""
    found: dict[Path, str] = {}

    def walk(node: Any, path: Path) -> None:
        if not isinstance(node, dict):
            return
        kind = node.get(MARK)
        if isinstance(kind, str) and path:
            found[path] = kind
            return
        for name, child in (node.get("properties") or {}).items():
            walk(child, (*path, str(name)))
        items = node.get("items")
        if isinstance(items, dict):
            walk(items, (*path, "*"))
        for key in ("if", "then", "else"):
            walk(node.get(key), path)
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(key) or []:
                walk(branch, path)

    walk(schema or {}, ())
    return found


def _shown(path: Path) -> str:
    return ".".join(p if p != "*" else "[]" for p in path)


#: Property names and titles that hold an identifier: a schema must mark them (``MARK``).
IDENTIFIER_NAME = re.compile(
    r"(^|_)(id_?number|id_?no|id_?card|idcard|phone|mobile|tel|telephone)($|_)",
    re.IGNORECASE,
)
IDENTIFIER_TITLE = re.compile(r"身份证|身份号码|证件号码|手机|电话")


def unmarked_identifiers(schema: dict[str, Any]) -> list[str]:
    """Properties of a form schema that look like identifiers but are not marked: an item with
    one would show a full ID or phone number to everyone who reads the case."""
    marked = personal_paths(schema)
    found: list[str] = []

    def walk(node: Any, path: Path) -> None:
        if not isinstance(node, dict):
            return
        for name, child in (node.get("properties") or {}).items():
            here = (*path, str(name))
            if isinstance(child, dict) and here not in marked:
                title = str(child.get("title", ""))
                is_text = child.get("type") in ("string", None)
                if is_text and (
                    IDENTIFIER_NAME.search(str(name)) or IDENTIFIER_TITLE.search(title)
                ):
                    found.append(_shown(here))
                walk(child, here)
        items = node.get("items")
        if isinstance(items, dict):
            walk(items, (*path, "*"))

    walk(schema, ())
    return found


def bad_marks(schema: dict[str, Any]) -> list[str]:
    """Marks with a kind this code does not know how to mask."""
    return [_shown(path) for path, kind in personal_paths(schema).items() if kind not in KINDS]


def undeclared_fields(schema: dict[str, Any] | None, form: Any) -> list[str]:
    """Fields of ``form`` its schema does not declare, where the schema does not say that others
    are welcome (``additionalProperties``): a form holds what the item asks for, nothing else,
    so no one can slip personal data past the marks into a field of their own naming."""
    found: list[str] = []

    def walk(node: Any, value: Any, path: str) -> None:
        if not isinstance(node, dict):
            return
        if isinstance(value, dict):
            declared = node.get("properties")
            if isinstance(declared, dict):
                if "additionalProperties" not in node and "patternProperties" not in node:
                    found.extend(f"{path}{key}" for key in value if key not in declared)
                for key, child in declared.items():
                    if key in value:
                        walk(child, value[key], f"{path}{key}.")
        elif isinstance(value, list) and isinstance(node.get("items"), dict):
            for index, item in enumerate(value):
                walk(node["items"], item, f"{path}{index}.")

    walk(schema or {}, form, "")
    return found
