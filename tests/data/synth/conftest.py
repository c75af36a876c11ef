"""The plan of the corpus a test module names in CORPUS, at every size."""

from __future__ import annotations

import pytest

from esc.data.synth.corpora import SIZES, make_plan
from esc.data.synth.plan import CorpusPlan


@pytest.fixture(scope="module", params=SIZES)
def sized_plan(request: pytest.FixtureRequest) -> tuple[str, CorpusPlan]:
    """(size, plan at seed 0): planning the default sizes takes a second or so, so once per module."""
    return request.param, make_plan(request.module.CORPUS, request.param, 0)
