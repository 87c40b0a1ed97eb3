"""Shared fixtures. Paths come from ``evaluation.paths``; tests never spell a path by hand."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """The synthetic sample cohort folder (seed 2025), generated once per test session."""
    from evaluation.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("sample") / "cohort", seed=2025)


@pytest.fixture(scope="session")
def sample_cohort(sample_dir):
    """The sample loaded and validated through ``evaluation.data.load_cohort``."""
    from evaluation.data import load_cohort

    return load_cohort(sample_dir)
