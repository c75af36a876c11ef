"""The speaker-id plan: VoxCeleb1's folders and split file, each identity in each split, sessions by video."""

from __future__ import annotations

import re
from collections import defaultdict

from esc.data.synth.plan import CorpusPlan
from esc.data.synth.sid import SIZES, SPLIT_CODES
from esc.data.synth.speakers import VARIANT_POOLS
from tests.data.synth.speaker_voices import voice_of_each_speaker

CORPUS = "sid"  # the corpus whose plans the sized_plan fixture gives (conftest.py)
CLIP_PATH = re.compile(r"wav/(?P<identity>id1\d{4})/(?P<video>[A-Za-z0-9_-]{11})/(?P<utt>\d{5})\.wav")


def split_of(sid: CorpusPlan) -> dict[str, str]:
    """Split name of each clip path, read back from iden_split.txt."""
    name = {str(code): split for split, code in SPLIT_CODES.items()}
    lines = [line.split(" ") for line in sid.text_files["iden_split.txt"].splitlines()]
    return {f"wav/{relative}": name[code] for code, relative in lines}


def test_split_file_lists_every_clip_once_relative_to_wav_with_its_split_code(sized_plan):
    _, sid = sized_plan
    assert list(sid.text_files) == ["iden_split.txt"]
    assert sid.text_files["iden_split.txt"].endswith("\n")
    lines = sid.text_files["iden_split.txt"].splitlines()
    assert all(re.fullmatch(r"[123] \S+\.wav", line) for line in lines)
    assert sorted(split_of(sid)) == sorted(clip.path for clip in sid.clips)
    assert len(lines) == len(sid.clips)


def test_identities_are_numbered_from_id10001_with_videos_and_utterances_of_the_size(sized_plan):
    size, sid = sized_plan
    spec = SIZES[size]
    splits = split_of(sid)
    videos = defaultdict(set)
    utterances = defaultdict(list)
    for clip in sid.clips:
        match = CLIP_PATH.fullmatch(clip.path)
        assert match, clip.path
        videos[match["identity"], splits[clip.path]].add(match["video"])
        utterances[match["identity"], match["video"]].append(int(match["utt"]))
    identities = {identity for identity, _ in videos}
    assert identities == {f"id{10001 + n}" for n in range(spec["identities"])}
    for identity in identities:
        assert {split: len(videos[identity, split]) for split in SPLIT_CODES} == spec["videos"]
    assert all(sorted(utts) == list(range(1, spec["utterances"] + 1)) for utts in utterances.values())


def test_a_video_is_one_split_and_one_recording_condition(sized_plan):
    _, sid = sized_plan
    splits = split_of(sid)
    sessions = defaultdict(set)
    for clip in sid.clips:
        sessions[clip.path.rsplit("/", 1)[0]].add((splits[clip.path], clip.condition_seed))
    assert all(len(session) == 1 for session in sessions.values())
    conditions = [condition for session in sessions.values() for _, condition in session]
    assert len(set(conditions)) == len(conditions)


def test_each_identity_is_one_voice_and_no_two_identities_share_one(sized_plan):
    _, sid = sized_plan
    voices = voice_of_each_speaker(sid, CLIP_PATH, "identity")
    assert len(set(voices.values())) == len(voices)


def test_identities_come_from_every_variant_pool(sized_plan):
    # SID is tested on the voices it trains on, so held-out pools need not be kept out of it.
    variants = {clip.speaker.variant for clip in sized_plan[1].clips}
    assert all(variants & set(pool) for pool in VARIANT_POOLS.values())


def test_utterances_are_sentences_of_their_own_length_and_seed(sized_plan):
    _, sid = sized_plan
    assert all(clip.text.split() and clip.text.isupper() for clip in sid.clips)
    assert all(clip.seconds is None for clip in sid.clips)
    assert len({clip.seed for clip in sid.clips}) == len(sid.clips)
