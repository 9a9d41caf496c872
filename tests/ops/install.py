"""What the container image installs, built here the way its Dockerfile builds it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
ENTRYPOINT = REPO / "docs" / "deploy" / "entrypoint.sh"


def stages() -> list[list[dict[str, str]]]:
    """The Dockerfile's instructions, one list per stage (FROM first)."""
    found: list[list[dict[str, str]]] = []
    for instruction in DockerfileParser(path=str(DOCKERFILE)).structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def build_context_copies() -> list[tuple[list[str], str]]:
    """(sources, destination) of the build stage's COPY instructions from the build context."""
    copies = []
    for instruction in stages()[0]:
        if instruction["instruction"] == "COPY":
            words = shlex.split(instruction["value"])
            assert not any(word.startswith("--") for word in words), instruction
            copies.append((words[:-1], words[-1]))
    return copies


@dataclass(frozen=True)
class ImageInstall:
    wheel: Path
    target: Path  # `pip install --target` of the wheel: the image's /opt/breather, minus the OS
    build_log: str

    def env(self, **settings: str) -> dict[str, str]:
        """An environment that runs the installed copy's `breather`, not the working tree's."""
        python_dir = str(Path(sys.executable).parent)  # for `python3` and the dependencies
        return {
            "PATH": f"{self.target / 'bin'}:{python_dir}:/usr/bin:/bin",
            "PYTHONPATH": str(self.target),
            "HOME": str(self.target.parent),
            **settings,
        }


def build_like_the_image(workdir: Path) -> ImageInstall:
    """Copy what the build stage copies, build the wheel as its `pip install .` does (an isolated
    build with the pinned setuptools), and install it on its own."""
    source = workdir / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")  # as .dockerignore does
    for sources, destination in build_context_copies():
        into = source / destination
        for name in sources:
            origin = REPO / name
            if origin.is_dir():
                shutil.copytree(origin, into, ignore=ignore, dirs_exist_ok=True)
            else:
                into.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, into / origin.name)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--wheel-dir",
            str(workdir / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (workdir / "dist").glob("breather-*.whl")
    target = workdir / "opt"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return ImageInstall(wheel=wheel, target=target, build_log=built.stdout + built.stderr)
