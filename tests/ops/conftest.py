from __future__ import annotations

import pytest

from tests.ops.install import ImageInstall, build_like_the_image


@pytest.fixture(scope="session")
def image_install(tmp_path_factory: pytest.TempPathFactory) -> ImageInstall:
    """Breather built and installed as the Dockerfile does it, once per test session."""
    return build_like_the_image(tmp_path_factory.mktemp("image"))
