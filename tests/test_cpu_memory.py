"""Freed CPU memory stays in the process, so a re-allocated activation costs no page faults."""

import resource
import sys

import pytest
import torch

from esc.cpu_memory import keep_freed_memory

FLOATS = 16 * 2**20  # 64 MiB: above glibc's largest mmap threshold, so by default it goes back on free
PAGES = FLOATS * 4 // 4096


def _page_faults_of(allocate) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    allocate()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_freed_activation_is_reallocated_without_page_faults() -> None:
    assert keep_freed_memory()
    for _ in range(2):  # grow the heap to its steady state, as the first forwards of a run do
        torch.ones(FLOATS)
    faults = _page_faults_of(lambda: torch.ones(FLOATS))
    assert faults < PAGES / 10, f"{faults} page faults for {PAGES} pages"
