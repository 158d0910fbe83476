"""The migrations of both dialects are in step with the models.

aerich stores the models' description in every migration file (``MODELS_STATE``);
``zhangban makemigrations`` diffs the current models against the newest file's state and writes a
migration when anything it can migrate changed. This test runs exactly that, as a dry run on a
throw-away copy of each dialect's folder: if aerich would write a migration, someone changed a
model without running ``zhangban makemigrations`` for that dialect.

A plain comparison of ``MODELS_STATE`` with the models' description is not used as the verdict:
it also differs on changes aerich does not migrate (a model's docstring, say), and then no
``makemigrations`` could ever make the test pass. It is still shown in the failure message.

``Tortoise.init`` is process-global (and its SQL dialect sticks once chosen), so the check runs in
a subprocess per dialect and never touches the session application of ``tests/conftest.py``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aerich.coder import encoder
from aerich.utils import decompress_dict

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "migrations"
APP = "models"
# A URL of each dialect. Nothing connects: aerich's offline mode only needs the dialect.
DIALECTS = {
    "sqlite": "sqlite://:memory:",
    "postgres": "postgres://nobody:nothing@127.0.0.1:9/zhangban_offline_check",
}
MARKER = "ZB_MIGRATION_CHECK="

# Runs in a fresh interpreter from the project root, with the same Tortoise config and app label
# as ``core.db.make_migrations``, on a copy of ``migrations/<dialect>`` (so a would-be migration
# is written to a temporary folder, never into the project). Prints the would-be migration's
# upgrade SQL (empty when in step) and the models' description as aerich stores it.
_CHECK = """
import asyncio, json, shutil, sys, tempfile
from pathlib import Path

root, dialect, url, marker = sys.argv[1:5]
sys.path.insert(0, root)

from aerich import Command
from aerich.utils import get_models_describe
from core.db import APP_LABEL, MIGRATIONS_ROOT, tortoise_config

async def main(location):
    shutil.copytree(MIGRATIONS_ROOT / dialect, location, dirs_exist_ok=True)
    command = Command(tortoise_config(url, with_aerich=True), app=APP_LABEL, location=location)
    await command.init(offline=True)
    try:
        name = await command.migrate("unmigrated_changes", no_input=True, offline=True)
        describe = get_models_describe(APP_LABEL)
    finally:
        await command.aclose()
    sql = ""
    if name:
        text = (Path(location) / APP_LABEL / name).read_text(encoding="utf-8")
        sql = text.split("async def downgrade", 1)[0].split("async def upgrade", 1)[-1]
    return {"migration": name or "", "sql": sql.strip(), "describe": describe}

with tempfile.TemporaryDirectory() as tmp:
    result = asyncio.run(main(str(Path(tmp) / "migrations")))
from aerich.coder import encoder
print(marker + encoder(result))
"""


def _run_check(dialect: str) -> dict[str, Any]:
    """The dry run's result; ``{"error": ...}`` when aerich cannot even write the migration."""
    done = subprocess.run(
        [sys.executable, "-c", _CHECK, str(ROOT), dialect, DIALECTS[dialect], MARKER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode != 0 or len(lines) != 1:
        return {"error": (done.stderr or done.stdout)[-4000:]}
    result: dict[str, Any] = json.loads(lines[0].removeprefix(MARKER))
    return result


@pytest.fixture(scope="module")
def dry_runs() -> dict[str, dict[str, Any]]:
    return {dialect: _run_check(dialect) for dialect in DIALECTS}


def plain(state: dict[str, Any]) -> dict[str, Any]:
    """The state as plain JSON data (aerich's decoder turns stored indexes into ``Index``
    objects, which do not compare by value; re-encoding them the way aerich does fixes that)."""
    result: dict[str, Any] = json.loads(encoder(state))
    return result


def _version(path: Path) -> int:
    return int(path.name.split("_", 1)[0])


def migration_files(dialect: str) -> list[Path]:
    folder = MIGRATIONS / dialect / APP
    return sorted(
        (p for p in folder.glob("*.py") if p.name.split("_", 1)[0].isdigit()), key=_version
    )


def newest_migration(dialect: str) -> Path:
    files = migration_files(dialect)
    assert files, f"no migrations in {MIGRATIONS / dialect / APP}"
    return files[-1]


def models_state(path: Path) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(f"_zb_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    state = getattr(module, "MODELS_STATE", None)
    assert state, f"{path} has no MODELS_STATE (written by an old aerich?)"
    return plain(decompress_dict(state))


def _fields(model: dict[str, Any]) -> dict[str, Any]:
    kinds = (
        "data_fields",
        "fk_fields",
        "backward_fk_fields",
        "o2o_fields",
        "backward_o2o_fields",
        "m2m_fields",
    )
    fields = [model.get("pk_field")] + [f for kind in kinds for f in model.get(kind, [])]
    return {f["name"]: f for f in fields if f}


def describe_difference(stored: dict[str, Any], current: dict[str, Any]) -> str:
    """A short, readable account of how two model descriptions differ."""
    out: list[str] = []
    out += [f"model added: {name}" for name in sorted(set(current) - set(stored))]
    out += [f"model removed: {name}" for name in sorted(set(stored) - set(current))]
    for name in sorted(set(stored) & set(current)):
        old, new = stored[name], current[name]
        if old == new:
            continue
        old_fields, new_fields = _fields(old), _fields(new)
        out += [f"{name}: field added: {f}" for f in sorted(set(new_fields) - set(old_fields))]
        out += [f"{name}: field removed: {f}" for f in sorted(set(old_fields) - set(new_fields))]
        for f in sorted(set(old_fields) & set(new_fields)):
            a, b = old_fields[f], new_fields[f]
            if a != b:
                keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                out.append(f"{name}: field changed: {f} ({', '.join(keys)})")
        for key in sorted(set(old) | set(new)):
            if key.endswith("fields") or key == "pk_field":
                continue
            if old.get(key) != new.get(key):
                out.append(f"{name}: {key} changed: {old.get(key)!r} -> {new.get(key)!r}")
    return "\n  ".join(out) or "(no difference)"


def test_both_dialects_have_migrations() -> None:
    assert sorted(p.name for p in MIGRATIONS.iterdir() if p.is_dir()) == sorted(DIALECTS)
    for dialect in DIALECTS:
        newest_migration(dialect)


def test_migration_versions_are_consecutive() -> None:
    for dialect in DIALECTS:
        versions = [_version(p) for p in migration_files(dialect)]
        assert versions == list(range(len(versions))), (dialect, versions)


def test_the_check_sees_every_model(dry_runs: dict[str, dict[str, Any]]) -> None:
    # guards the check itself: an empty description would have nothing to compare
    for result in dry_runs.values():
        if "error" in result:
            continue  # reported by test_migrations_are_in_step_with_the_models
        assert {
            "models.Department",
            "models.Theme",
            "models.Item",
            "models.ItemVersion",
            "models.Aerich",
        } <= set(result["describe"])


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_migrations_are_in_step_with_the_models(
    dialect: str, dry_runs: dict[str, dict[str, Any]]
) -> None:
    result = dry_runs[dialect]
    if "error" in result:
        pytest.fail(
            f"the models changed in a way aerich cannot write a {dialect} migration for "
            "(SQLite cannot modify a column, for instance); `zhangban makemigrations` fails "
            f"with:\n{result['error']}",
            pytrace=False,
        )
    if result["migration"]:
        newest = newest_migration(dialect)
        pytest.fail(
            f"the models changed since migrations/{dialect}/{APP}/{newest.name} was written; "
            f"`zhangban makemigrations` would now write a {dialect} migration:\n  "
            + describe_difference(models_state(newest), plain(result["describe"]))
            + "\n\nwith this upgrade SQL:\n"
            + result["sql"]
            + "\n\nrun `zhangban makemigrations <name>` for BOTH dialects, e.g.\n"
            "  zhangban makemigrations <name> --database-url sqlite://var/zhangban.sqlite3\n"
            "  zhangban makemigrations <name> --database-url postgres://u:p@host:5432/zhangban",
            pytrace=False,
        )


def test_the_dry_run_left_the_project_migrations_alone(
    dry_runs: dict[str, dict[str, Any]],
) -> None:
    for dialect in DIALECTS:
        assert not any("unmigrated_changes" in p.name for p in migration_files(dialect))
