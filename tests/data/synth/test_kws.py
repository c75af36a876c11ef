"""The keyword plan: Speech Commands v2's folders, 1 s clips, and held-out lists that name whole speakers."""

from __future__ import annotations

import re
from collections import defaultdict

from esc.data.synth.augment import NOISE_COLOURS
from esc.data.synth.kws import FOLDER, NOISE_SECONDS, SPEAKERS, WORDS
from esc.data.synth.plan import CorpusPlan
from esc.data.synth.speakers import VARIANT_POOLS
from tests.data.synth.speaker_voices import voice_of_each_speaker

CORPUS = "kws"  # the corpus whose plans the sized_plan fixture gives (conftest.py)
LISTS = {"validation": f"{FOLDER}/validation_list.txt", "testing": f"{FOLDER}/testing_list.txt"}
POOL = {"training": "train", "validation": "validation", "testing": "test"}
CLIP_PATH = re.compile(rf"{re.escape(FOLDER)}/(?P<word>[a-z]+)/(?P<speaker>[0-9a-f]{{8}})_nohash_0\.wav")


def listed(kws: CorpusPlan, split: str) -> list[str]:
    return kws.text_files[LISTS[split]].splitlines()


def speakers_by_split(kws: CorpusPlan) -> dict[str, set[str]]:
    """Speaker ids per split, the held-out ones read from the lists as torchaudio does."""
    held_out = {split: {p.split("/")[1].split("_nohash_")[0] for p in listed(kws, split)} for split in LISTS}
    every = {CLIP_PATH.fullmatch(clip.path)["speaker"] for clip in kws.clips}
    return {"training": every - set().union(*held_out.values()), **held_out}


def test_clips_are_one_second_words_in_their_word_folders(sized_plan):
    _, kws = sized_plan
    for clip in kws.clips:
        match = CLIP_PATH.fullmatch(clip.path)
        assert match, clip.path
        assert clip.text == match["word"] and clip.seconds == 1.0


def test_each_split_has_its_speaker_count_and_every_speaker_says_every_word_once(sized_plan):
    size, kws = sized_plan
    speakers = speakers_by_split(kws)
    assert {split: len(ids) for split, ids in speakers.items()} == SPEAKERS[size]
    words_of = defaultdict(list)
    for clip in kws.clips:
        match = CLIP_PATH.fullmatch(clip.path)
        words_of[match["speaker"]].append(match["word"])
    assert all(sorted(words) == sorted(WORDS) for words in words_of.values())
    assert len(kws.clips) == sum(SPEAKERS[size].values()) * len(WORDS)


def test_held_out_lists_are_sorted_paths_of_planned_clips_relative_to_the_dataset_folder(sized_plan):
    _, kws = sized_plan
    planned = {clip.path for clip in kws.clips}
    assert set(kws.text_files) == set(LISTS.values())
    for split in LISTS:
        text = kws.text_files[LISTS[split]]
        assert text.endswith("\n")
        paths = listed(kws, split)
        assert paths == sorted(paths)
        assert {f"{FOLDER}/{p}" for p in paths} <= planned


def test_held_out_lists_name_whole_speakers_and_no_speaker_is_in_two_splits(sized_plan):
    _, kws = sized_plan
    speakers = speakers_by_split(kws)
    for split in LISTS:
        assert len(listed(kws, split)) == len(speakers[split]) * len(WORDS)
    assert not speakers["training"] & speakers["validation"]
    assert not speakers["training"] & speakers["testing"]
    assert not speakers["validation"] & speakers["testing"]


def test_each_speaker_id_is_one_voice_from_its_split_pool(sized_plan):
    _, kws = sized_plan
    voice_of = voice_of_each_speaker(kws, CLIP_PATH, "speaker")
    for split, ids in speakers_by_split(kws).items():
        variants = {voice_of[i].variant for i in ids}
        assert variants <= set(VARIANT_POOLS[POOL[split]]), split


def test_every_clip_has_its_own_seed_and_recording_condition(sized_plan):
    _, kws = sized_plan
    assert len({clip.seed for clip in kws.clips}) == len(kws.clips)
    assert all(clip.condition_seed == clip.seed for clip in kws.clips)


def test_background_noise_has_one_file_per_colour_of_the_size_length(sized_plan):
    size, kws = sized_plan
    assert [n.path for n in kws.noise_files] == [
        f"{FOLDER}/_background_noise_/{colour}_noise.wav" for colour in NOISE_COLOURS
    ]
    assert [n.colour for n in kws.noise_files] == list(NOISE_COLOURS)
    assert all(n.seconds == NOISE_SECONDS[size] for n in kws.noise_files)
    assert len({n.seed for n in kws.noise_files}) == len(NOISE_COLOURS)
