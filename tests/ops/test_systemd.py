"""The systemd unit: what `systemd-analyze` says of it, as an operator's machine would."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ops.install import REPO

UNIT = REPO / "docs" / "deploy" / "breather.service"
ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed here")


def checkable_copy(tmp_path: Path) -> Path:
    """The unit as shipped, its commands pointed at a `breather` that exists on this machine
    (verify insists the ExecStart binary is there); every other line is checked as written."""
    here = str(Path(sys.executable).parent / "breather")
    copy = tmp_path / "breather.service"
    copy.write_text(UNIT.read_text().replace("/opt/breather/bin/breather", here))
    return copy


def test_the_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "verify", "--man=no", str(checkable_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_unit_is_hardened(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(checkable_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for breather\.service: ([0-9.]+)", result.stdout)
    assert found, result.stdout + result.stderr
    assert float(found.group(1)) <= 2.0, result.stdout  # systemd calls up to 4.9 "OK"; this one is 1.4


def test_the_unit_migrates_before_serving_as_its_own_user() -> None:
    text = UNIT.read_text()
    assert "ExecStartPre=/opt/breather/bin/breather db upgrade" in text
    assert "ExecStart=/opt/breather/bin/breather serve --host 127.0.0.1" in text
    assert "User=breather" in text and "EnvironmentFile=/etc/breather/breather.env" in text
