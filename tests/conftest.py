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


@pytest.fixture(scope="session")
def sample_bundle(tmp_path_factory, sample_dir) -> Path:
    """The evidence bundle of the full review on the sample (every notebook, through the runner), run once."""
    from evaluation.params import load_params
    from evaluation.paths import PARAMS_DIR
    from evaluation.runner import run_review

    out = tmp_path_factory.mktemp("bundle") / "review"
    params = load_params(PARAMS_DIR / "cang_long_2018_2025.yaml", data=str(sample_dir), out=str(out))
    assert run_review(params, progress=False) == 0
    return out
