"""Reading a plan's speakers back from its clip paths, as the corpus tests do."""

from __future__ import annotations

import re
from collections import defaultdict

from esc.data.synth.plan import CorpusPlan


def voice_of_each_speaker(plan: CorpusPlan, clip_path: re.Pattern, *groups: str) -> dict:
    """Each speaker id's voice, the id read from the clip paths by `groups` of `clip_path`; every id must
    speak with one voice."""
    voices = defaultdict(set)
    for clip in plan.clips:
        voices[clip_path.fullmatch(clip.path).group(*groups)].add(clip.speaker)
    assert all(len(v) == 1 for v in voices.values())
    return {speaker: voice for speaker, (voice,) in voices.items()}
