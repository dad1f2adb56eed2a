"""Shared fixtures: the reference data in ../shared and small random one-hot inputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared; skip when it is absent outside CI, fail when absent in CI."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{path} is missing: CI needs ../shared beside the clone")
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture
def shared():
    """``shared("data", "dna", "x.fa")`` → path under ../shared (see :func:`shared_path`)."""
    return shared_path


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def random_dna(rng: np.random.Generator, n: int, length: int) -> list[str]:
    letters = np.frombuffer(b"ACGT", np.uint8)
    return [rng.choice(letters, length).tobytes().decode() for _ in range(n)]
