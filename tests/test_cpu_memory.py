"""Freed CPU memory stays in the process, so a re-allocated activation costs no page faults."""

import os
import subprocess
import sys

import pytest

# Run in a fresh interpreter, as an esc app starts: keep_freed_memory() comes before torch's first
# allocation, and no earlier test has left its own blocks scattered over the heap. The environment
# drops THP_MEM_ALLOC_ENABLE, which an app in this test session may have set: the probe sets its own.
PROBE = """
import resource, sys
from esc.cpu_memory import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
import torch
floats = 16 * 2**20  # 64 MiB: above glibc's largest mmap threshold, so by default it goes back on free
for _ in range(2):  # grow the heap to its steady state, as the first forwards of a run do
    torch.ones(floats)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
torch.ones(floats)
print(kept, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, floats * 4 // 4096)
"""


def page_faults_of_a_reallocation(mode: str) -> tuple[bool, int, int]:
    """(whether the memory was kept, page faults of the third 64 MiB tensor, its 4 KiB pages)."""
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    kept, faults, pages = result.stdout.split()
    return kept == "True", int(faults), int(pages)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_freed_activation_is_reallocated_without_page_faults() -> None:
    kept, faults, pages = page_faults_of_a_reallocation("keep")
    assert kept and faults < pages / 10, f"{faults} page faults for {pages} pages"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_without_it_every_page_of_the_reallocation_faults() -> None:
    kept, faults, pages = page_faults_of_a_reallocation("default")
    assert not kept and faults >= pages * 0.9, f"{faults} page faults for {pages} pages"
