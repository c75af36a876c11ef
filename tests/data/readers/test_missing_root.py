"""A missing or mislaid dataset, or a malformed split list, says what to do about it, in one line."""

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from esc.data.readers import READERS
from esc.data.readers.example import DatasetNotFoundError

HOW_TO_GET = {
    "speech_commands": r"esc-data corpus=kws .*data.download=true",
    "librispeech": r"esc-data corpus=asr .*data.download=true",
    "voxceleb1": r"esc-data corpus=sid .*manual download",
}


@pytest.mark.parametrize("reader", sorted(HOW_TO_GET))
def test_missing_root_names_the_path_and_how_to_get_the_data(reader, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError, match=HOW_TO_GET[reader]) as error:
        READERS[reader](missing, "test")
    assert str(missing) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("reader", "other"), [("speech_commands", "sid"), ("librispeech", "kws"), ("voxceleb1", "asr")]
)
def test_a_root_holding_another_synthetic_corpus_is_named(reader, other, tiny_corpora):
    with pytest.raises(DatasetNotFoundError, match=f"holds the synthetic '{other}' corpus instead") as error:
        READERS[reader](tiny_corpora[other], "test")
    assert "\n" not in str(error.value)


def test_voxceleb1_cannot_be_downloaded_automatically(tmp_path):
    with pytest.raises(ValueError, match="not available for VoxCeleb1"):
        READERS["voxceleb1"](tmp_path, "test", download=True)


def test_unknown_split_is_refused(tiny_corpora):
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        READERS["speech_commands"](tiny_corpora["kws"], "dev")


def test_speech_commands_unpacked_straight_into_the_root_says_where_to_move_it(tmp_path):
    (tmp_path / "validation_list.txt").write_text("yes/a_nohash_0.wav\n")  # the archive has no top folder
    with pytest.raises(DatasetNotFoundError, match="holds the unpacked archive itself; move its contents"):
        READERS["speech_commands"](tmp_path, "test")


def speech_commands_folder(root: Path, validation: str | None = "", testing: str | None = "") -> Path:
    """A Speech Commands v2 folder with a `yes` word folder and these list contents (None: no such list)."""
    folder = root / "SpeechCommands" / "speech_commands_v0.02"
    (folder / "yes").mkdir(parents=True)
    for name, text in (("validation_list.txt", validation), ("testing_list.txt", testing)):
        if text is not None:
            (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    ("validation", "testing", "named"),
    [
        ("", None, "testing_list.txt"),
        (None, "", "validation_list.txt"),
        (None, None, "validation_list.txt and testing_list.txt"),
    ],
)
@pytest.mark.parametrize("split", ["train", "test"])
def test_a_missing_speech_commands_split_list_is_named(tmp_path, split, validation, testing, named):
    speech_commands_folder(tmp_path, validation, testing)
    with pytest.raises(DatasetNotFoundError, match=f"lacks {named}"):
        READERS["speech_commands"](tmp_path, split)


def test_a_root_set_to_the_librispeech_folder_itself_names_its_parent(tmp_path):
    inside = tmp_path / "LibriSpeech"
    (inside / "test-clean").mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError, match="is the LibriSpeech folder itself") as error:
        READERS["librispeech"](inside, "test")
    assert f"set data.root={tmp_path}, which holds it" in str(error.value)


@pytest.mark.parametrize("download", [False, True], ids=["local", "download_on_a_copy_already_there"])
@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_a_blank_line_in_a_speech_commands_list_names_the_list_and_line_for_every_split(
    tmp_path, split, download
):
    folder = speech_commands_folder(tmp_path, testing="yes/a_nohash_0.wav\n\nyes/b_nohash_0.wav\n")
    with pytest.raises(ValueError, match=r"testing_list.txt, line 2: '' is not a clip path") as error:
        READERS["speech_commands"](tmp_path, split, download=download)
    assert str(folder) in str(error.value)


def test_a_training_clip_of_another_name_is_named_as_a_clip_not_as_a_list_line(tmp_path):
    folder = speech_commands_folder(tmp_path)
    sf.write(folder / "yes" / "a_nohash_0 (1).wav", np.zeros(160, dtype=np.float32), 16000)  # a copy
    with pytest.raises(ValueError, match="a clip in a word folder of .* is not named") as error:
        READERS["speech_commands"](tmp_path, "train")
    assert "_list.txt" not in str(error.value) and error.value.__cause__ is not None


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"1 id10001/v/00001.wav\n\n3 id10001/w/00001.wav\n", "line 2: ''"),
        (b"1 id10001/v/00001.wav\n1 id10001/00002.wav\n", "line 2: '1 id10001/00002.wav'"),  # no video
    ],
)
def test_a_malformed_iden_split_line_is_named_with_its_number(tmp_path, content, line):
    (tmp_path / "wav").mkdir()
    (tmp_path / "iden_split.txt").write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(f"iden_split.txt, {line} is not '<1|2|3> id1xxxx")):
        READERS["voxceleb1"](tmp_path, "train")


def test_an_iden_split_that_is_not_text_is_named(tmp_path):
    (tmp_path / "wav").mkdir()
    (tmp_path / "iden_split.txt").write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")  # a gzip header, say
    with pytest.raises(ValueError, match="iden_split.txt is not a text file"):
        READERS["voxceleb1"](tmp_path, "test")


def librispeech_chapter(root: Path, transcript: str | None) -> Path:
    """A test-clean chapter of two utterances with this .trans.txt content (None: no such file)."""
    chapter = root / "LibriSpeech" / "test-clean" / "1089" / "134686"
    chapter.mkdir(parents=True)
    for utterance in ("0000", "0001"):
        sf.write(chapter / f"1089-134686-{utterance}.flac", np.zeros(1600, dtype=np.float32), 16000)
    if transcript is not None:
        (chapter / "1089-134686.trans.txt").write_text(transcript)
    return chapter


def test_an_utterance_without_its_transcript_line_names_the_chapter_file_to_fix(tmp_path):
    librispeech_chapter(tmp_path, "1089-134686-0000 HE HOPED\n")
    untranscribed = "Translation not found for 1089-134686-0001; every"
    with pytest.raises(DatasetNotFoundError, match=untranscribed) as error:
        READERS["librispeech"](tmp_path, "test")
    assert "<speaker>-<chapter>.trans.txt" in str(error.value) and "\n" not in str(error.value)


def test_a_chapter_without_its_transcripts_names_the_file(tmp_path):
    chapter = librispeech_chapter(tmp_path, None)
    with pytest.raises(DatasetNotFoundError, match="LibriSpeech test-clean at") as error:
        READERS["librispeech"](tmp_path, "test")
    assert str(chapter / "1089-134686.trans.txt") in str(error.value)


def test_a_blank_transcript_line_names_the_split_folder(tmp_path):
    librispeech_chapter(tmp_path, "\n1089-134686-0000 HE HOPED\n1089-134686-0001 HE DID\n")
    with pytest.raises(ValueError, match=r"a line of a .trans.txt is not '<utterance id> <TRANSCRIPT>'"):
        READERS["librispeech"](tmp_path, "test")


@pytest.mark.parametrize("name", ["notes.flac", "1089-134686-0000-copy.flac"])
def test_a_flac_not_named_as_an_utterance_is_named_not_blamed_on_a_transcript(tmp_path, name):
    chapter = librispeech_chapter(tmp_path, "1089-134686-0000 HE HOPED\n1089-134686-0001 HE DID\n")
    sf.write(chapter / name, np.zeros(1600, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match=re.escape(f"{chapter / name} is not named <speaker>-<chapter>-")):
        READERS["librispeech"](tmp_path, "test")
