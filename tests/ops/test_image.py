"""The container image, checked without a container engine: the Dockerfile is lint-clean and
says what the image does, and what its build stage installs is complete and builds quietly."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

from dockerfile_parse import DockerfileParser

from tests.ops.install import DOCKERFILE, ENTRYPOINT, REPO, ImageInstall, build_context_copies, stages

BIN = Path(sys.executable).parent


def final_stage() -> dict[str, list[str]]:
    instructions: dict[str, list[str]] = {}
    for instruction in stages()[-1]:
        instructions.setdefault(instruction["instruction"], []).append(instruction["value"])
    return instructions


def test_hadolint_finds_nothing_to_fix() -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_the_image_runs_unprivileged_checks_its_health_and_migrates_on_start() -> None:
    final = final_stage()
    (user,) = final["USER"]
    assert user.split(":")[0] not in ("root", "0"), user
    (healthcheck,) = final["HEALTHCHECK"]
    assert healthcheck.split("CMD", 1)[1].strip() == '["breather-entrypoint", "healthcheck"]'
    assert final["ENTRYPOINT"] == ['["breather-entrypoint"]'] and final["CMD"] == ['["serve"]']
    assert final["EXPOSE"] == ["3000"]
    entrypoint_copy = [value for value in final["COPY"] if "breather-entrypoint" in value]
    assert shlex.split(entrypoint_copy[0]) == [
        "docs/deploy/entrypoint.sh",
        "/usr/local/bin/breather-entrypoint",
    ]
    assert os.access(ENTRYPOINT, os.X_OK)  # COPY keeps the mode: the image can run it
    env = DockerfileParser(path=str(DOCKERFILE)).envs
    # Reachable through the container's published port; the sandbox never runs here (see Dockerfile).
    assert env["BREATHER_HOST"] == "0.0.0.0" and env["BREATHER_PORT"] == "3000"
    assert env["BREATHER_CONFIG"] == "/etc/breather/breather.yml"
    assert env["PATH"].startswith("/opt/breather/bin:")


def test_the_build_context_leaves_secrets_and_bulk_out_but_keeps_what_is_copied() -> None:
    ignored = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".env", ".git", ".venv", "breather.yml", "tests"} <= set(ignored)
    copied = {name.rstrip("/").split("/")[0] for sources, _ in build_context_copies() for name in sources}
    copied.add("docs/deploy/entrypoint.sh")
    for pattern in ignored:
        assert not any(name == pattern or name.startswith(pattern + "/") for name in copied), pattern
    assert all(not pattern.startswith(("bot", "handlers", "storage", "docs/deploy")) for pattern in ignored)


def test_what_the_image_installs_builds_without_deprecation_warnings(image_install: ImageInstall) -> None:
    noisy = [
        line
        for line in image_install.build_log.splitlines()
        if "deprecat" in line.lower() or "BuildBackendWarning" in line or "SetuptoolsWarning" in line
    ]
    assert not noisy, "\n".join(noisy)


def test_what_the_image_installs_has_every_file_breather_reads(image_install: ImageInstall) -> None:
    names = set(zipfile.ZipFile(image_install.wheel).namelist())
    for needed in (
        "bot/demo/breather.yml",
        "bot/i18n/en.yml",
        "storage/migrations/env.py",
        "storage/migrations/script.py.mako",
        "storage/migrations/versions/0001_foundation.py",
        "handlers/sandbox/static/console.js",
        "handlers/sandbox/static/console.css",
        "handlers/sandbox/static/console.html",
    ):
        assert needed in names, needed
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(image_install.wheel).read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text


def test_the_installed_copy_migrates_a_fresh_database(image_install: ImageInstall, tmp_path: Path) -> None:
    env = image_install.env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}", BREATHER_DEMO="true", BREATHER_MESSENGER="sandbox"
    )
    where = subprocess.run(
        ["python3", "-c", "import bot, json; print(json.dumps(bot.__file__))"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert json.loads(where.stdout).startswith(str(image_install.target)), where.stderr
    result = subprocess.run(
        ["breather", "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "database is up to date", result.stderr
