"""The real ``zhangban`` console command, run as a subprocess with its own embedded database.

Every ``ZB_`` variable of the test run is removed and ``ZB_VAR_DIR`` points at a temporary folder,
so the command uses the embedded profile with its own SQLite file. The command and its database
are exercised once, on the embedded run of the suite.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import factories
from tests.processes import zhangban

pytestmark = pytest.mark.skipif(
    os.environ.get("ZB_TEST_PROFILE", "embedded") != "embedded",
    reason="the console command with its own database runs once, on the embedded profile",
)

ROOT = Path(__file__).resolve().parents[2]


def cli_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZB_")}
    return env | {"ZB_VAR_DIR": str(var_dir)} | extra


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def envelope(result: subprocess.CompletedProcess[str], exit_code: int = 1) -> dict[str, Any]:
    """The JSON error envelope the command prints on stderr when it refuses its input."""
    assert result.returncode == exit_code, (result.returncode, result.stdout, result.stderr)
    error = json.loads(result.stderr)["error"]
    assert set(error) == {"code", "message", "details"}
    assert is_chinese(error["message"]), error["message"]
    return error


def export(env: dict[str, str], path: Path) -> dict[str, Any]:
    assert ok(zhangban(env, "catalog", "export", "-o", str(path))) == ""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@dataclass
class Installation:
    var_dir: Path
    env: dict[str, str]
    first_migrate: str
    first_seed: str
    #: the export right after seeding, as a file and as read back; no test may change it
    baseline_file: Path
    baseline: dict[str, Any]


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """A fresh embedded installation: migrated once, seeded once, exported once.

    Each subprocess pays the whole start-up of the command, so the tests share this one and
    leave its published catalogue as it is (a failed import and a draft publish nothing).
    """
    var_dir = tmp_path_factory.mktemp("cli-var")
    env = cli_env(var_dir)
    first_migrate = ok(zhangban(env, "migrate"))
    first_seed = ok(zhangban(env, "seed"))
    baseline_file = var_dir / "baseline.yaml"
    baseline = export(env, baseline_file)
    return Installation(var_dir, env, first_migrate, first_seed, baseline_file, baseline)


def test_migrate_twice_applies_nothing_the_second_time(installation: Installation) -> None:
    first = installation.first_migrate.splitlines()
    assert first[0].startswith("migrations applied: ")
    applied = int(first[0].removeprefix("migrations applied: "))
    assert applied >= 1
    assert len(first) == 1 + applied  # one line per migration applied
    assert (installation.var_dir / "zhangban.sqlite3").is_file()

    again = ok(zhangban(installation.env, "migrate"))
    assert again.strip() == "migrations applied: 0"


def test_seed_twice_leaves_the_catalogue_as_it_is(installation: Installation) -> None:
    prefix = "demo catalogue seeded: "
    assert installation.first_seed.startswith(prefix)
    report = json.loads(installation.first_seed.removeprefix(prefix))
    assert report["items_created"] == report["published"] >= 12
    assert report["departments"] >= 5

    again = ok(zhangban(installation.env, "seed"))
    assert again.strip() == "demo catalogue: already present, left as it is"


def test_export_then_import_is_unchanged(installation: Installation) -> None:
    document = installation.baseline
    assert document["format_version"] == 1
    assert len(document["items"]) >= 12

    path = str(installation.baseline_file)
    report = json.loads(ok(zhangban(installation.env, "catalog", "import", path)))
    assert report == {
        "departments": len(document["departments"]),
        "themes": len(document["themes"]),
        "items_created": 0,
        "versions_created": 0,
        "unchanged": len(document["items"]),
        "published": 0,
    }
    # the JSON export on stdout is the same document
    as_json = json.loads(ok(zhangban(installation.env, "catalog", "export", "--format", "json")))
    assert as_json == document


def test_malformed_file_exits_1_with_the_envelope_and_writes_nothing(
    installation: Installation, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("departments: [\n  - code: A\n", encoding="utf-8")

    error = envelope(zhangban(installation.env, "catalog", "import", str(bad)))
    assert error["code"] == "catalog.import_invalid"
    assert error["message"] == "目录文件有错误，未导入任何内容。"
    [field] = error["details"]["fields"]
    assert (field["field"], field["code"]) == ("file", "malformed")
    assert field["message"].startswith("文件格式错误：")

    missing = envelope(zhangban(installation.env, "catalog", "import", str(tmp_path / "no.yaml")))
    assert missing["code"] == "catalog.import_invalid"
    assert missing["details"]["fields"][0]["code"] == "unreadable"

    assert export(installation.env, tmp_path / "after.yaml") == installation.baseline


def test_invalid_catalogue_exits_1_naming_each_item_and_writes_nothing(
    installation: Installation, tmp_path: Path
) -> None:
    lead = installation.baseline["departments"][0]["code"]
    document = json.loads(json.dumps(installation.baseline))
    # a good new item, a changed existing one and a broken one: none of them may be written
    document["items"].append(factories.guide(lead_department=lead))
    document["items"][0]["name"] = "不应写入的新名称"
    broken = factories.guide(lead_department="NOWHERE-CLI")
    document["items"].append(broken)
    path = tmp_path / "invalid.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    error = envelope(zhangban(installation.env, "catalog", "import", str(path)))
    assert error["code"] == "catalog.import_invalid"
    assert error["details"]["fields"] == [
        {
            "field": f"items[{len(document['items']) - 1}].lead_department",
            "code": "unknown_department",
            "message": "部门 NOWHERE-CLI 不存在。",
            "item": broken["code"],
        }
    ]
    assert export(installation.env, tmp_path / "after.yaml") == installation.baseline


def test_draft_import_publishes_nothing(installation: Installation, tmp_path: Path) -> None:
    item = factories.guide(lead_department=installation.baseline["departments"][0]["code"])
    path = tmp_path / "draft.yaml"
    path.write_text(
        yaml.safe_dump(factories.catalog_file(items=[item]), allow_unicode=True), encoding="utf-8"
    )
    report = json.loads(ok(zhangban(installation.env, "catalog", "import", "--draft", str(path))))
    assert (report["items_created"], report["versions_created"], report["published"]) == (1, 1, 0)
    assert export(installation.env, tmp_path / "after.yaml") == installation.baseline


def test_production_without_settings_exits_2_naming_each_one(tmp_path: Path) -> None:
    env = cli_env(tmp_path, ZB_PROFILE="production")
    for command in (["migrate"], ["catalog", "import", "catalogue.yaml"]):
        result = zhangban(env, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stdout == ""
        for name in ("ZB_DATABASE_URL", "ZB_REDIS_URL", "ZB_SECRET_KEY", "ZB_PUBLIC_BASE_URL"):
            assert name in result.stderr, (name, result.stderr)
    assert not (tmp_path / "zhangban.sqlite3").exists()


def test_demo_walks_the_built_steps_on_its_own_server(tmp_path: Path) -> None:
    from api.demo import BUILT, STEPS

    result = zhangban(cli_env(tmp_path), "demo", timeout=180)
    assert result.returncode == 0, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    steps = [line for line in lines if line.startswith("step ")]
    # one line per step, in order: "ok" for the steps built so far, "not built" for the others;
    # what a step has to tell follows its line, indented
    assert steps == [f"step {name}: {'ok' if name in BUILT else 'not built'}" for name in STEPS], (
        result.stdout
    )
    assert all(line.startswith(("step ", "    ")) for line in lines), result.stdout
    walked = ("browse", "login", "realname", "upload", "submit", "correction", "accept", "review")
    for name in (*walked, "decide"):
        assert f"step {name}: ok" in lines, result.stdout
    text = result.stdout
    assert "✓" in text and "✗" not in text  # the checklist of the submitted case
    assert "notice round 1: photo-receipt" in text
    assert re.search(r"acceptance number NC-GAJ-\d{8}-\d{5}", text), text
    assert re.search(r"promised \d{4}-\d{2}-\d{2}, statutory \d{4}-\d{2}-\d{2}", text), text
    assert re.search(r"final status fee_due .*predicted completion \d{4}-\d{2}-\d{2}", text), text
    # it used a temporary folder of its own, not the operator's
    assert not (tmp_path / "zhangban.sqlite3").exists()
