"""Each tiny corpus is read by our reader of its layout and by torchaudio's own class alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from torchaudio.datasets import LIBRISPEECH, SPEECHCOMMANDS, VoxCeleb1Identification

from esc.data.readers import READERS
from esc.data.readers.example import SPLITS
from esc.data.synth.corpora import make_plan
from esc.data.synth.speakers import VARIANT_POOLS

READER_OF = {"kws": "speech_commands", "asr": "librispeech", "sid": "voxceleb1"}


def planned(corpus: str) -> dict[Path, object]:
    return {Path(clip.path): clip for clip in make_plan(corpus, "tiny", 0).clips}


def relative_to(root: Path, example_path: Path) -> Path:
    return example_path.relative_to(root)


@pytest.mark.parametrize("corpus", ["kws", "asr", "sid"])
def test_reader_returns_every_clip_once_with_its_planned_target(corpus, tiny_corpora):
    root, clips = tiny_corpora[corpus], planned(corpus)
    examples = [e for split in SPLITS for e in READERS[READER_OF[corpus]](root, split)]
    assert sorted(relative_to(root, e.path) for e in examples) == sorted(clips)
    for example in examples:
        clip = clips[relative_to(root, example.path)]
        expected = clip.text if corpus != "sid" else clip.path.split("/")[1]
        assert example.target == expected
        assert example.path.is_file()


def test_torchaudio_speechcommands_indexes_words_and_speakers(tiny_corpora):
    root, clips = tiny_corpora["kws"], planned("kws")
    folder = Path("SpeechCommands")
    for subset in ("training", "validation", "testing"):
        dataset = SPEECHCOMMANDS(root, subset=subset)
        assert len(dataset) > 0
        for n in range(len(dataset)):
            relative, rate, label, speaker, utterance = dataset.get_metadata(n)
            clip = clips[folder / relative]
            assert (rate, label, utterance) == (16000, clip.text, 0)
            assert Path(relative).name.startswith(f"{speaker}_nohash_")


def test_torchaudio_librispeech_indexes_transcripts_and_speakers(tiny_corpora):
    root, clips = tiny_corpora["asr"], planned("asr")
    for folder in ("train-clean-100", "dev-clean", "test-clean"):
        dataset = LIBRISPEECH(root, url=folder)
        assert len(dataset) > 0
        for n in range(len(dataset)):
            relative, rate, transcript, speaker, chapter, utterance = dataset.get_metadata(n)
            clip = clips[Path("LibriSpeech") / relative]
            assert rate == 16000 and transcript == clip.text and transcript.isupper()
            assert Path(relative).name == f"{speaker}-{chapter}-{utterance:04d}.flac"


def test_torchaudio_voxceleb1_indexes_identities(tiny_corpora):
    root, clips = tiny_corpora["sid"], planned("sid")
    for subset in ("train", "dev", "test"):
        dataset = VoxCeleb1Identification(root, subset=subset)
        assert len(dataset) > 0
        for n in range(len(dataset)):
            relative, rate, identity, file_id = dataset.get_metadata(n)
            assert Path("wav") / relative in clips
            assert rate == 16000 and identity == int(Path(relative).parts[0][3:])  # torchaudio: id10001 -> 1
            assert file_id == "-".join(Path(relative).with_suffix("").parts)


def speakers_by_split(corpus: str, root: Path) -> dict[str, set[str]]:
    reader = READERS[READER_OF[corpus]]
    return {split: {e.speaker for e in reader(root, split)} for split in SPLITS}


@pytest.mark.parametrize("corpus", ["kws", "asr"])
def test_train_validation_and_test_speakers_are_disjoint(corpus, tiny_corpora):
    speakers = speakers_by_split(corpus, tiny_corpora[corpus])
    assert all(speakers.values())
    assert not speakers["train"] & speakers["validation"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["validation"] & speakers["test"]


@pytest.mark.parametrize("corpus", ["kws", "asr"])
def test_held_out_speakers_use_voice_variants_that_no_training_speaker_uses(corpus, tiny_corpora):
    root, clips = tiny_corpora[corpus], planned(corpus)
    reader = READERS[READER_OF[corpus]]
    variants = {
        split: {clips[relative_to(root, e.path)].speaker.variant for e in reader(root, split)}
        for split in SPLITS
    }
    assert variants["test"] <= set(VARIANT_POOLS["test"])
    assert not variants["train"] & (variants["test"] | variants["validation"])


def test_speaker_id_splits_share_identities_but_never_a_recording_session(tiny_corpora):
    reader = READERS["voxceleb1"]
    splits = {split: reader(tiny_corpora["sid"], split) for split in SPLITS}
    identities = {split: {e.target for e in examples} for split, examples in splits.items()}
    videos = {split: {e.path.parent.name for e in examples} for split, examples in splits.items()}
    assert identities["train"] == identities["validation"] == identities["test"]
    assert not videos["train"] & videos["test"] and not videos["train"] & videos["validation"]
    assert not videos["validation"] & videos["test"]


def test_voxceleb1_split_codes_one_two_three_are_train_validation_test(tmp_path):
    # iden_split.txt's own convention, written by hand: the synthetic corpus could not catch a swap.
    sessions = {"train": ("1", "train_video"), "validation": ("2", "dev_video"), "test": ("3", "test_video")}
    lines = []
    for code, video in sessions.values():
        clip = tmp_path / "wav" / "id10001" / video / "00001.wav"
        clip.parent.mkdir(parents=True)
        sf.write(clip, np.zeros(1600, dtype=np.float32), 16000)
        lines.append(f"{code} id10001/{video}/00001.wav\n")
    (tmp_path / "iden_split.txt").write_text("".join(lines))
    for split, (_, video) in sessions.items():
        assert [e.path.parent.name for e in READERS["voxceleb1"](tmp_path, split)] == [video]
