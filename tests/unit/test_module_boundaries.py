"""No module of the application reaches into another's private names (``_name``): a module's
public names are its contract with the others, and a private one may change without notice.

Checked on the source: ``from x import _name`` and ``module._name`` where ``module`` is one of
our modules imported by name, in every package of the application (tests may look inside).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "auth", "cases", "catalog", "core", "sandbox", "storage", "platforms")
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


def private_reaches(path: Path) -> list[str]:
    return private_reaches_in(path.read_text(encoding="utf-8"), _module_of(path))


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
    found = [reach for path in _modules() for reach in private_reaches(path)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_check_sees_both_shapes() -> None:
    probe = "from cases.kernel import _ACTORS\nfrom cases import kernel\nkernel._ACTORS.clear()\n"
    assert len(private_reaches_in(probe, "cases.views")) == 2
    assert private_reaches_in("from cases.kernel import _ACTORS\n", "cases.kernel") == []
