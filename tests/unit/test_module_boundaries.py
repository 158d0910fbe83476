"""Two boundaries inside the application, checked on the source of every package (tests may
look inside):

- No module reaches into another's private names (``_name``): a module's public names are its
  contract with the others, and a private one may change without notice. ``from x import _name``
  and ``module._name`` where ``module`` is one of ours imported by name.
- Plain SQL lives in one ``queries.py`` per package (``core.db``'s plumbing aside: connections,
  migrations, locks), with table names from the models: the one place to look when a table
  changes, and the one place where a statement and its ORM twin sit side by side.
- An import inside a function says why, in a comment on its line or the line above.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "api",
    "auth",
    "cases",
    "catalog",
    "core",
    "notify",
    "payments",
    "sandbox",
    "storage",
    "platforms",
)
#: Names with a leading underscore that belong to a framework's public surface: Tortoise exposes a
#: model's table and fields as ``Model._meta``.
FRAMEWORK = frozenset({"_meta"})


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
    )


def _ours(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in PACKAGES  # type: ignore[union-attr]


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def across_packages(check: Callable[[str, str], list[str]]) -> list[str]:
    """What ``check(source, module)`` finds in every module of the packages."""
    return [
        found
        for path in _modules()
        for found in check(path.read_text(encoding="utf-8"), _module_of(path))
    ]


def private_reaches_in(source: str, here: str) -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _ours(node.module) and node.module != here:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{here}:{node.lineno} imports {node.module}.{alias.name}")
                elif _ours(f"{node.module}.{alias.name}"):
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _ours(alias.name):
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr not in FRAMEWORK
        ):
            found.append(f"{here}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_reaches_into_another_modules_private_names() -> None:
    found = across_packages(private_reaches_in)
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_check_sees_both_shapes() -> None:
    probe = "from cases.kernel import _ACTORS\nfrom cases import kernel\nkernel._ACTORS.clear()\n"
    assert len(private_reaches_in(probe, "cases.views")) == 2
    assert private_reaches_in("from cases.kernel import _ACTORS\n", "cases.kernel") == []


#: Text that is a statement, not prose: the shapes our SQL takes.
SQL = re.compile(
    r"\bSELECT\b[^;]*\bFROM\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\S+\s[^;]*\bSET\b",
    re.DOTALL,
)
#: Modules allowed to hold SQL besides the ``queries.py`` of each package.
SQL_PLUMBING = frozenset({"core.db"})


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
        ):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_outside_queries_in(source: str, here: str) -> list[str]:
    if here.endswith(".queries") or here in SQL_PLUMBING:
        return []
    tree = ast.parse(source)
    skip = _docstrings(tree)
    inside_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "?" for part in node.values
            )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in inside_fstrings
        ):
            text = node.value
        else:
            continue
        if SQL.search(str(text)):
            found.append(f"{here}:{node.lineno} holds SQL")
    return found


def test_plain_sql_lives_in_queries_modules() -> None:
    found = across_packages(sql_outside_queries_in)
    assert not found, "SQL outside a queries.py:\n" + "\n".join(found)


def test_the_sql_check_sees_statements_and_not_prose() -> None:
    statement = 'def f(t):\n    return f\'SELECT "id" FROM "{t}" WHERE x = $1\'\n'
    assert sql_outside_queries_in(statement, "cases.views") == ["cases.views:2 holds SQL"]
    assert sql_outside_queries_in(statement, "cases.queries") == []
    update = "SQL = 'UPDATE \"t\" SET a = 1'\n"
    assert len(sql_outside_queries_in(update, "core.worker")) == 1
    prose = '"""Claims with UPDATE … WHERE id IN (SELECT … FOR UPDATE) and reads FROM it."""\n'
    assert sql_outside_queries_in(prose, "core.worker") == []
    assert sql_outside_queries_in("MESSAGE = '请选择办理事项'\n", "cases.views") == []


def local_imports_without_reason_in(source: str, here: str) -> list[str]:
    """Imports inside a function, with no comment on their line or the line above saying why
    (a cycle, a heavy library only one command needs, a backend only one deployment loads)."""
    lines = source.splitlines()
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Import | ast.ImportFrom):
                line = lines[inner.lineno - 1]
                above = lines[inner.lineno - 2].strip() if inner.lineno > 1 else ""
                if "#" not in line and not above.startswith("#"):
                    found.append(f"{here}:{inner.lineno} imports inside a function")
    return found


def test_function_local_imports_say_why() -> None:
    found = across_packages(local_imports_without_reason_in)
    assert not found, "function-local imports without a reason:\n" + "\n".join(found)


def test_the_local_import_check_wants_a_reason() -> None:
    bare = "def f():\n    import json\n    return json\n"
    assert local_imports_without_reason_in(bare, "api.x") == ["api.x:2 imports inside a function"]
    said = "def f():\n    import json  # deferred: only this command\n    return json\n"
    assert local_imports_without_reason_in(said, "api.x") == []
