"""The read-speech plan: LibriSpeech's folders and transcripts, one chapter per speaker, no shared speaker."""

from __future__ import annotations

import re
from collections import defaultdict

from esc.data.synth.asr import FOLDER, SIZES, SPLITS
from esc.data.synth.speakers import VARIANT_POOLS
from tests.data.synth.speaker_voices import voice_of_each_speaker

CORPUS = "asr"  # the corpus whose plans the sized_plan fixture gives (conftest.py)
CLIP_PATH = re.compile(
    rf"{FOLDER}/(?P<split>[a-z0-9-]+)/(?P<speaker>\d+)/(?P<chapter>\d+)/(?P=speaker)-(?P=chapter)-(?P<utt>\d{{4}})\.flac"
)


def test_each_split_folder_has_its_speakers_each_reading_one_chapter_of_numbered_utterances(sized_plan):
    size, asr = sized_plan
    utterances = defaultdict(list)
    for clip in asr.clips:
        match = CLIP_PATH.fullmatch(clip.path)
        assert match, clip.path
        utterances[match["split"], match["speaker"], match["chapter"]].append(int(match["utt"]))
    for split, (speakers, per_speaker) in SIZES[size].items():
        chapters = [utts for (s, _, _), utts in utterances.items() if s == split]
        assert len(chapters) == speakers, split
        assert all(utts == list(range(per_speaker)) for utts in chapters), split
    assert {split for split, _, _ in utterances} == set(SPLITS)


def test_no_speaker_or_chapter_is_in_two_splits(sized_plan):
    _, asr = sized_plan
    speakers, chapters = defaultdict(set), defaultdict(set)
    for clip in asr.clips:
        match = CLIP_PATH.fullmatch(clip.path)
        speakers[match["speaker"]].add(match["split"])
        chapters[match["chapter"]].add(match["split"])
    assert all(len(splits) == 1 for splits in speakers.values())
    assert all(len(splits) == 1 for splits in chapters.values())


def test_each_chapter_has_a_transcript_file_of_its_utterances_in_order(sized_plan):
    _, asr = sized_plan
    expected = defaultdict(str)
    for clip in asr.clips:
        folder, name = clip.path.rsplit("/", 1)
        speaker, chapter = folder.split("/")[-2:]
        file_id = name.removesuffix(".flac")
        expected[f"{folder}/{speaker}-{chapter}.trans.txt"] += f"{file_id} {clip.text}\n"
    assert asr.text_files == expected


def test_transcripts_are_upper_case_words_and_single_spaced(sized_plan):
    _, asr = sized_plan
    assert all(re.fullmatch(r"[A-Z]+( [A-Z]+)*", clip.text) for clip in asr.clips)


def test_each_speaker_is_one_voice_from_its_split_pool(sized_plan):
    _, asr = sized_plan
    for (split, _), voice in voice_of_each_speaker(asr, CLIP_PATH, "split", "speaker").items():
        assert voice.variant in VARIANT_POOLS[SPLITS[split]], split


def test_utterances_keep_their_length_and_each_has_its_own_seed(sized_plan):
    _, asr = sized_plan
    assert all(clip.seconds is None for clip in asr.clips)
    assert len({clip.seed for clip in asr.clips}) == len(asr.clips)
