"""Hostile inputs generated from the OpenAPI document, not written per route.

Every operation's path parameters, query parameters and JSON body fields (nested objects and the
first item of arrays included) that are strings or integers become ``Target``\\ s. A request for a
target is a plausible request (``sample``: the least value each schema admits, the real objects
of a scene for path parameters) with one value replaced by something no client should send:

* strings: a lone surrogate (``\\udfff`` as a JSON escape: valid JSON, no database or phone can
  hold it), NUL, other C0 controls and DEL, far more characters than allowed, the right-to-left
  override and mark (U+202E, U+200F) and the other bidirectional controls; each hidden inside a
  value of an admitted length, so that a length check alone cannot be what refuses it;
* integers: 2^63 and 2^64 (beyond any BIGINT), −1 and anything else outside the declared range,
  and in bodies the raw literals ``1e400``, ``NaN`` and ``Infinity`` (not JSON);

in path and query strings the same, percent-encoded (a surrogate as the bytes UTF-8 forbids).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Literal
from urllib.parse import quote

from hypothesis import strategies as st

Where = Literal["path", "query", "body"]
METHODS = ("get", "put", "post", "delete", "patch")
PLACEHOLDER = "\ue000hostile\ue000"
#: Longer than any field of the API admits (the brief's 10,000 characters).
LONG = 10_000
BIDI_CONTROLS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
#: C0 controls but tab, LF and CR (which text may carry), and DEL.
CONTROLS = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\x7f"


@dataclass(frozen=True)
class Target:
    """One value of one operation: where it goes, its name or JSON path, its schema."""

    method: str
    path: str
    where: Where
    field: tuple[str | int, ...]
    kind: Literal["string", "integer"]
    schema: dict[str, Any]

    @property
    def name(self) -> str:
        """The field as the error envelope names it (``items[0].code``)."""
        text = ""
        for part in self.field:
            text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
        return text

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.where}:{self.name}"


@dataclass(frozen=True)
class Hostile:
    """A hostile value, as raw JSON text for a body and as percent-encoded text for a URL."""

    label: str
    json: str = dataclass_field(repr=False)
    url: str = dataclass_field(repr=False)
    #: Refused before any field is read (a body that is not JSON): named ``body``.
    whole_body: bool = False

    def __repr__(self) -> str:
        return f"Hostile({self.label!r}, json={self.json[:80]!r}…)"


class Document:
    """The served OpenAPI document, with ``$ref`` resolution."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, schema: Any) -> dict[str, Any]:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema, seen = node, seen + 1
            if seen > 50:
                raise ValueError("$ref loop")
        if not isinstance(schema, dict):
            return {}
        for key in ("anyOf", "oneOf"):
            if key in schema:  # an optional field: the branch that is not null
                branches = [self.resolve(b) for b in schema[key]]
                real = [b for b in branches if b.get("type") != "null"]
                return real[0] if real else {}
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged |= self.resolve(part)
            return merged
        return schema

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (method, path, operation)
            for path, item in self.doc["paths"].items()
            for method, operation in item.items()
            if method in METHODS
        ]

    def body_schema(self, operation: dict[str, Any]) -> dict[str, Any] | None:
        body = operation.get("requestBody")
        if body is None:
            return None
        return self.resolve(body["content"]["application/json"]["schema"])

    def targets(self) -> list[Target]:
        found: list[Target] = []
        for method, path, operation in self.operations():
            for param in operation.get("parameters", []):
                if param["in"] not in ("path", "query"):
                    continue
                schema = self.resolve(param.get("schema", {}))
                kind = _kind(schema)
                if kind:
                    found.append(Target(method, path, param["in"], (param["name"],), kind, schema))
            body = self.body_schema(operation)
            if body is not None:
                for field, schema in self._leaves(body, ()):
                    kind = _kind(schema)
                    if kind:
                        found.append(Target(method, path, "body", field, kind, schema))
        return found

    def _leaves(
        self, schema: dict[str, Any], at: tuple[str | int, ...], depth: int = 0
    ) -> list[tuple[tuple[str | int, ...], dict[str, Any]]]:
        if depth > 8:
            return []
        kind = schema.get("type")
        if kind == "object":
            leaves = []
            for name, sub in schema.get("properties", {}).items():
                leaves += self._leaves(self.resolve(sub), (*at, name), depth + 1)
            return leaves
        if kind == "array":
            return self._leaves(self.resolve(schema.get("items", {})), (*at, 0), depth + 1)
        return [(at, schema)]

    # -- plausible values -----------------------------------------------------------------

    def sample(self, schema: Any, depth: int = 0) -> Any:
        """The least value ``schema`` admits, as a careful client would send it."""
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "string":
            return sample_string(schema)
        if kind in ("integer", "number"):
            low = schema.get("minimum", 1)
            high = schema.get("maximum")
            value = max(low, 1) if high is None or high >= 1 else low
            return int(value)
        if kind == "boolean":
            return False
        if kind == "array":
            count = max(schema.get("minItems", 0), 1) if depth < 6 else 0
            return [self.sample(schema.get("items", {}), depth + 1) for _ in range(count)]
        if kind == "object":
            required = schema.get("required", [])
            props = schema.get("properties", {})
            return {name: self.sample(props[name], depth + 1) for name in required if name in props}
        return None

    def body_with(
        self, operation: dict[str, Any], target: Target | None, objects: dict[str, Any]
    ) -> dict[str, Any]:
        """A plausible body with ``PLACEHOLDER`` at the target's path; fields named like a real
        object of the scene (``objects``: ``item_code``, ``lead_department``…) hold it."""
        schema = self.body_schema(operation) or {}
        body = _with_objects(self.sample(schema), objects)
        if target is None or target.where != "body":
            return dict(body)
        node: Any = body
        node_schema = schema
        for index, part in enumerate(target.field):
            last = index == len(target.field) - 1
            if isinstance(part, int):
                node_schema = self.resolve(node_schema.get("items", {}))
                if not node:
                    node.append(self.sample(node_schema))
            else:
                node_schema = self.resolve(node_schema.get("properties", {}).get(part, {}))
                if part not in node and not last:
                    node[part] = self.sample(node_schema)
            if last:
                node[part] = PLACEHOLDER
            else:
                node = node[part]
        return dict(body)


def _with_objects(value: Any, objects: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: objects.get(k, _with_objects(v, objects)) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_objects(v, objects) for v in value]
    return value


def _kind(schema: dict[str, Any]) -> Literal["string", "integer"] | None:
    kind = schema.get("type")
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "integer"
    return None


# -- regular expressions: the shortest match, so that a pattern's field gets a valid value ---------


def _first_of(items: list[Any]) -> str:
    negated = False
    for op, arg in items:
        if op is sre_c.NEGATE:
            negated = True
        elif negated:
            continue
        elif op is sre_c.LITERAL:
            return chr(arg)
        elif op is sre_c.RANGE:
            return chr(arg[0])
        elif op is sre_c.CATEGORY:
            return {sre_c.CATEGORY_DIGIT: "1", sre_c.CATEGORY_SPACE: " "}.get(arg, "a")
    return "a"


def _shortest(items: Any) -> str:
    text = ""
    for op, arg in items:
        if op is sre_c.LITERAL:
            text += chr(arg)
        elif op is sre_c.IN:
            text += _first_of(arg)
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            low, _, sub = arg
            text += _shortest(sub) * low
        elif op is sre_c.SUBPATTERN:
            text += _shortest(arg[-1])
        elif op is sre_c.BRANCH:
            text += _shortest(arg[1][0])
        elif op is sre_c.ANY:
            text += "a"
        elif op is sre_c.CATEGORY:
            text += _first_of([(op, arg)])
    return text


def sample_string(schema: dict[str, Any]) -> str:
    if schema.get("format") == "date":
        return "2027-10-08"
    if "pattern" in schema:
        return _shortest(sre_parse.parse(schema["pattern"]))
    low = schema.get("minLength", 0)
    high = schema.get("maxLength", 64)
    return ("测试" * 64)[: max(low, min(4, high))]


# -- the hostile values ------------------------------------------------------------------------


def _url(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _json(text: str) -> str:
    """JSON text for ``text``: ASCII escapes, so a lone surrogate is the escape ``\\udfff``."""
    return json.dumps(text, ensure_ascii=True)


def hidden(schema: dict[str, Any], bad: str) -> str:
    """``bad`` inside a value of an admitted length (for a pattern field: inside a match)."""
    valid = sample_string(schema) if "enum" not in schema else str(schema["enum"][0])
    if len(valid) < 2:
        valid = (valid + "测试")[:2]
    text = valid[:1] + bad + valid[1:]
    high = schema.get("maxLength")
    if high is not None and len(text) > high:
        text = (bad + valid)[: max(high, len(bad))]
    return text


def string_values(schema: dict[str, Any]) -> list[Hostile]:
    long = "x" * max(LONG, schema.get("maxLength", 0) + 1)
    values = [
        ("lone surrogate U+DFFF", hidden(schema, "\udfff")),
        ("NUL", hidden(schema, "\x00")),
        (f"{len(long)} characters", long),
        ("right-to-left override U+202E", hidden(schema, "\u202e")),
        ("right-to-left mark U+200F", hidden(schema, "\u200f")),
    ]
    return [Hostile(label, _json(text), _url(text)) for label, text in values]


def _outside(schema: dict[str, Any], value: int) -> bool:
    low, high = schema.get("minimum"), schema.get("maximum")
    return not (low is not None and high is not None and low <= value <= high)


def integer_values(schema: dict[str, Any], where: Where) -> list[Hostile]:
    numbers = [(f"{v}", v) for v in (2**63, 2**64, -1)]
    values = [
        Hostile(f"integer {label}", str(v), str(v)) for label, v in numbers if _outside(schema, v)
    ]
    for literal in ("1e400", "NaN", "Infinity", "-Infinity"):
        values.append(Hostile(f"literal {literal}", literal, literal, whole_body=where == "body"))
    return values


def fixed_values(target: Target) -> list[Hostile]:
    if target.kind == "string":
        return string_values(target.schema)
    return integer_values(target.schema, target.where)


# -- generated variants (hypothesis) ---------------------------------------------------------

#: Characters no text field accepts: lone surrogates, C0 controls but tab/LF/CR, DEL, bidi.
BAD_CHARS = st.one_of(
    st.integers(0xD800, 0xDFFF).map(chr),
    st.sampled_from(CONTROLS),
    st.sampled_from(BIDI_CONTROLS),
)
SAFE_TEXT = st.text(st.sampled_from("abcXYZ019_-. 张三办证"), max_size=6)


@st.composite
def hostile_strings(draw: st.DrawFn, schema: dict[str, Any], where: Where) -> Hostile:
    if draw(st.integers(0, 4)) == 0:
        high = schema.get("maxLength", LONG - 1)
        size = draw(st.integers(max(high + 1, LONG), max(high + 1, LONG) + 5000))
        # in a URL, ASCII: percent-encoded, other characters would pass any URL's limit
        text = draw(st.sampled_from("x测\u00e9" if where == "body" else "x")) * size
        return Hostile(f"{size} characters", _json(text), _url(text))
    bad = draw(BAD_CHARS)
    valid = hidden(schema, bad)
    cut = draw(st.integers(0, len(valid)))
    prefix, suffix = draw(SAFE_TEXT), draw(SAFE_TEXT)
    text = valid if draw(st.booleans()) else prefix + valid[:cut] + valid[cut:] + suffix
    return Hostile(f"text with U+{ord(bad):04X}", _json(text), _url(text))


@st.composite
def hostile_integers(draw: st.DrawFn, schema: dict[str, Any], where: Where) -> Hostile:
    low, high = schema.get("minimum"), schema.get("maximum")
    choices = [st.integers(2**63, 2**80)]
    if low is not None:
        choices.append(st.integers(min(low - 2**70, -(2**80)), low - 1))
    if high is not None and high + 1 < 2**63:
        choices.append(st.integers(high + 1, 2**63))
    if where == "body":
        exponent = draw(st.integers(309, 100_000))
        literal = draw(st.sampled_from([f"1e{exponent}", f"-1e{exponent}", "NaN", "Infinity"]))
        if draw(st.booleans()):
            return Hostile(f"literal {literal}", literal, literal, whole_body=True)
    value = draw(st.one_of(choices))
    return Hostile(f"integer {value}", str(value), str(value))


def hostile_values(target: Target) -> st.SearchStrategy[Hostile]:
    if target.kind == "string":
        return hostile_strings(target.schema, target.where)
    return hostile_integers(target.schema, target.where)


# -- the oracle --------------------------------------------------------------------------------


def named(error: dict[str, Any], target: Target, value: Hostile) -> bool:
    """Whether the envelope's ``details.fields`` names the target (or the whole body, the path
    or the query string, for refusals that come before any field is read)."""
    fields = [str(f.get("field", "")) for f in (error.get("details") or {}).get("fields", [])]
    wanted = {target.name, f"body.{target.name}"}
    if value.whole_body:
        wanted.add("body")
    if target.where == "path":
        wanted.add("path")
    if target.where == "query":
        wanted.add("query")
    return any(f in wanted or f.endswith("." + target.name) for f in fields)


_SAFE_CODE = re.compile(r"^[a-z_.]+$")


def envelope_problem(status: int, content_type: str, body: bytes) -> str | None:
    """What makes an answer not a 4xx error envelope, if anything."""
    if status >= 500:
        return f"server error {status}: {body[:300]!r}"
    if not 400 <= status < 500:
        return f"accepted with {status}: {body[:300]!r}"
    if not content_type.startswith("application/json"):
        return f"{status} with content type {content_type!r}: {body[:200]!r}"
    try:
        data = json.loads(body)
    except ValueError:
        return f"{status} with a body that is not JSON: {body[:200]!r}"
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or set(error) != {"code", "message", "details"}:
        return f"{status} without the error envelope: {body[:300]!r}"
    if not _SAFE_CODE.match(str(error["code"])) or not isinstance(error["details"], dict):
        return f"{status} with a malformed envelope: {body[:300]!r}"
    return None
