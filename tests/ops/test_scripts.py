"""The shell scripts operators and CI run: ShellCheck-clean, and the container check's verdict
on a machine that cannot run containers is one clear line, not a failure."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.install import ENTRYPOINT, REPO

CHECK = REPO / ".ci" / "container-check"


def test_the_scripts_pass_shellcheck() -> None:
    scripts = [REPO / ".ci" / "run", CHECK, ENTRYPOINT]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "shellcheck"), *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def fake_engine(tmp_path: Path, script: str) -> Path:
    """A directory for PATH with the tools the check uses, and a stand-in `podman` when given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "env", "grep", "cut", "tail", "mktemp", "rm", "id", "dirname", "timeout", "python3"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    if script:
        podman = bin_dir / "podman"
        podman.write_text("#!/usr/bin/env bash\n" + script)
        podman.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize(
    ("podman", "reason"),
    [
        ("", "no container engine (podman, or docker with a running daemon) on this machine"),
        (
            'echo "Error: cannot set up namespace using newuidmap: exit status 1" >&2; exit 125',
            "podman cannot run here: Error: cannot set up namespace using newuidmap: exit status 1",
        ),
        (
            'case "$1" in info) exit 0;; image) exit 1;;'
            ' pull) echo "Error: pinging container registry: no such host" >&2; exit 125;; esac',
            "the base image docker.io/library/python:3.11-slim-bookworm is not on this machine and cannot "
            "be pulled: Error: pinging container registry: no such host",
        ),
        (
            'case "$1" in info|image) exit 0;;'
            ' run) echo "Error: crun: setrlimit RLIMIT_NOFILE: Operation not permitted" >&2; exit 126;; esac',
            "podman cannot start containers on this machine: Error: crun: setrlimit RLIMIT_NOFILE: "
            "Operation not permitted",
        ),
    ],
)
def test_the_container_check_says_in_one_line_why_it_was_skipped(
    tmp_path: Path, podman: str, reason: str
) -> None:
    bin_dir = fake_engine(tmp_path, podman)
    result = subprocess.run(
        ["bash", str(CHECK)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"container check skipped: {reason}"], result.stdout + result.stderr
