"""Personal identifiers inside application forms: found from the item's form schema, sealed at
rest, masked in every answer, revealed only through the staff reveal endpoint.

An item's ``form_schema`` marks each property that holds a personal identifier with
``"x-personal": "id_number"`` or ``"phone"`` (``catalog.schemas`` refuses a schema whose
identifier-like property is not marked). Wherever such a property sits (top level, nested
objects, items of arrays: ``persons[].id_number``):

* **at rest** its value is stored as ``{"$sealed": <SM4-GCM ciphertext>, "$masked": <mask>}``,
  encrypted like the identifiers of ``auth.User`` (``core.crypto.FieldCipher``), so a database
  dump shows masks, not numbers;
* **in answers** (to the applicant, their agents, staff) it is the mask: ``3604**********0071``;
* **when a phone saves the form again** with the mask it was shown, the stored value stays: the
  applicant edits what they see without retyping every number;
* **in full** it is read only by ``reveal``, for staff who give a reason, and every such read
  is recorded (``auth.models.PersonalDataAccess``).

Validation (the item's JSON Schema) always runs on the plain form (``unseal``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

from catalog.forms import Path
from core.crypto import FieldCipher, mask_id_number, mask_phone
from core.errors import NotFound, ValidationFailed, field_error
from core.identifiers import holds_identifier
from core.logging import redact

SEALED = "$sealed"
MASKED = "$masked"
CONTEXT = "cases_case.form"
#: Kinds of identifier and how each is masked.
MASKS: dict[str, Callable[[str], str]] = {"id_number": mask_id_number, "phone": mask_phone}


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED, MASKED}


def _slots(node: Any, path: Path, at: list[Any]) -> Iterator[tuple[Any, Any, list[Any]]]:
    """(container, key, concrete location) of every value at ``path`` in ``node``."""
    if not path:
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(node, list):
            for index in range(len(node)):
                if rest:
                    yield from _slots(node[index], rest, [*at, index])
                else:
                    yield node, index, [*at, index]
        return
    if isinstance(node, dict) and head in node:
        if rest:
            yield from _slots(node[head], rest, [*at, head])
        else:
            yield node, head, [*at, head]


def _mask(kind: str, value: str) -> str:
    return MASKS.get(kind, mask_id_number)(value)


def masked(form: dict[str, Any], paths: dict[Path, str]) -> dict[str, Any]:
    """The form as an answer shows it: every identifier masked (a row written before the marks
    existed holds plain text: it is masked all the same), and any identifier found in another
    field's text masked as a log line masks it (``core.logging.redact``)."""
    shown = _redact_unmarked(copy.deepcopy(form), paths)
    for path, kind in paths.items():
        for container, key, _ in list(_slots(shown, path, [])):
            value = container[key]
            if _is_sealed(value):
                container[key] = value[MASKED]
            elif isinstance(value, str):
                container[key] = _mask(kind, value)
    return shown


def _redact_unmarked(node: Any, paths: dict[Path, str], at: Path = ()) -> Any:
    if at and _marked(at, paths):
        return node
    if isinstance(node, dict):
        return {k: _redact_unmarked(v, paths, (*at, str(k))) for k, v in node.items()}
    if isinstance(node, list):
        return [_redact_unmarked(v, paths, (*at, "*")) for v in node]
    return redact(node) if isinstance(node, str) else node


def _marked(at: Path, paths: dict[Path, str]) -> bool:
    return at in paths


def identifiers_outside_marks(form: dict[str, Any], paths: dict[Path, str]) -> list[str]:
    """Fields not marked as identifiers whose text holds one (``core.identifiers``, as people
    type them): refused, so that no number is stored or shown in full where the item's schema
    did not mark it."""
    found: list[str] = []

    def walk(node: Any, at: Path, shown: str) -> None:
        if at and _marked(at, paths):
            return
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*at, str(key)), f"{shown}.{key}" if shown else str(key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*at, "*"), f"{shown}.{index}")
        elif isinstance(node, str) and holds_identifier(node):
            found.append(shown)

    walk(form, (), "")
    return found


def unseal(form: dict[str, Any], paths: dict[Path, str], cipher: FieldCipher) -> dict[str, Any]:
    """The plain form, for validation and for the reveal endpoint."""
    if not paths:
        return form
    plain = copy.deepcopy(form)
    for path in paths:
        for container, key, _ in list(_slots(plain, path, [])):
            if _is_sealed(container[key]):
                container[key] = cipher.decrypt(container[key][SEALED], context=CONTEXT)
    return plain


def keep_unchanged(
    incoming: dict[str, Any], stored: dict[str, Any], paths: dict[Path, str], cipher: FieldCipher
) -> dict[str, Any]:
    """The plain form a phone meant to save: where it sent back the mask it was shown for an
    identifier, the stored value (the phone never had the full number to send)."""
    if not paths:
        return incoming
    plain = copy.deepcopy(incoming)
    stored_plain = unseal(stored, paths, cipher)
    for path, kind in paths.items():
        for container, key, at in list(_slots(plain, path, [])):
            value = container[key]
            previous = _at(stored_plain, at)
            shown_mask = isinstance(previous, str) and value == _mask(kind, previous)
            if isinstance(value, str) and value != previous and shown_mask:
                container[key] = previous
    return plain


def _at(node: Any, at: list[Any]) -> Any:
    """The value at concrete steps (names and indexes), or ``None``."""
    for step in at:
        if not _has(node, step):
            return None
        node = node[step]
    return node


def _has(node: Any, step: Any) -> bool:
    if isinstance(step, int):
        return isinstance(node, list) and step < len(node)
    return isinstance(node, dict) and step in node


def seal(form: dict[str, Any], paths: dict[Path, str], cipher: FieldCipher) -> dict[str, Any]:
    """The plain form as it is stored: every identifier encrypted, with its mask beside it."""
    if not paths:
        return form
    stored = copy.deepcopy(form)
    for path, kind in paths.items():
        for container, key, _ in list(_slots(stored, path, [])):
            value = container[key]
            if isinstance(value, str) and value:
                container[key] = {
                    SEALED: cipher.encrypt(value, context=CONTEXT),
                    MASKED: _mask(kind, value),
                }
    return stored


_STEP = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_-]{0,63}|\d{1,4})$")


def parse_field(field: str) -> list[Any]:
    """``persons.0.id_number`` (or ``persons[0].id_number``) as concrete steps."""
    steps: list[Any] = []
    for part in field.replace("[", ".").replace("]", "").split("."):
        if not _STEP.match(part):
            raise ValidationFailed([field_error("field", "字段路径格式不正确。", "invalid")])
        steps.append(int(part) if part.isdigit() else part)
    return steps


def reveal(
    form: dict[str, Any], paths: dict[Path, str], field: str, cipher: FieldCipher
) -> tuple[str, str]:
    """The full value of one marked field, and its kind; ``case.personal_field_not_found`` when
    ``field`` is not a marked field of this form or holds nothing."""
    steps = parse_field(field)
    pattern = tuple("*" if isinstance(step, int) else step for step in steps)
    kind = paths.get(pattern)
    value: Any = _at(form, steps) if kind is not None else None
    if _is_sealed(value):
        return cipher.decrypt(value[SEALED], context=CONTEXT), str(kind)
    if isinstance(value, str) and value:
        return value, str(kind)
    raise NotFound(
        "该字段不是身份信息字段，或没有填写。",
        code="case.personal_field_not_found",
        details={"field": field},
    )
