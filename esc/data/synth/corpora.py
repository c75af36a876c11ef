"""The registry of synthetic corpora, by the name that `esc-data corpus=<name>` uses."""

from collections.abc import Callable

from esc.data.synth import asr, kws, sid
from esc.data.synth.plan import CorpusPlan

PLANNERS: dict[str, Callable[[str, int], CorpusPlan]] = {"kws": kws.plan, "asr": asr.plan, "sid": sid.plan}
SIZES = ("tiny", "default")


def make_plan(corpus: str, size: str, seed: int) -> CorpusPlan:
    """The plan of `corpus` at `size`, with a clear error for a name or size that doesn't exist."""
    if corpus not in PLANNERS:
        raise ValueError(f"unknown corpus {corpus!r}; choose one of {sorted(PLANNERS)}")
    if size not in SIZES:
        raise ValueError(f"unknown corpus.size {size!r}; choose one of {list(SIZES)}")
    return PLANNERS[corpus](size, seed)
