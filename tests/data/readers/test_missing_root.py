"""A missing or mislaid dataset, or a malformed split list, says what to do about it, in one line."""

import re

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


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_missing_speech_commands_split_list_is_named_for_every_split(tmp_path, split):
    folder = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    (folder / "yes").mkdir(parents=True)
    (folder / "validation_list.txt").write_text("")
    with pytest.raises(DatasetNotFoundError, match=r"lacks testing_list.txt, which every split needs"):
        READERS["speech_commands"](tmp_path, split)


def test_a_root_set_to_the_librispeech_folder_itself_names_its_parent(tmp_path):
    inside = tmp_path / "LibriSpeech"
    (inside / "test-clean").mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError, match="is the LibriSpeech folder itself") as error:
        READERS["librispeech"](inside, "test")
    assert f"set data.root={tmp_path}, which holds it" in str(error.value)


def test_a_blank_line_in_a_speech_commands_list_names_the_list(tmp_path):
    folder = tmp_path / "SpeechCommands" / "speech_commands_v0.02"
    (folder / "yes").mkdir(parents=True)
    (folder / "validation_list.txt").write_text("")
    (folder / "testing_list.txt").write_text("yes/a_nohash_0.wav\n\nyes/b_nohash_0.wav\n")
    with pytest.raises(ValueError, match="testing_list.txt has a line that is no clip path") as error:
        READERS["speech_commands"](tmp_path, "test")
    assert str(folder) in str(error.value)


def test_a_blank_line_in_iden_split_names_the_file(tmp_path):
    (tmp_path / "wav").mkdir()
    (tmp_path / "iden_split.txt").write_text("1 id10001/v/00001.wav\n\n3 id10001/w/00001.wav\n")
    with pytest.raises(ValueError, match=re.escape("iden_split.txt has a line that is not '<1|2|3> id1xxxx")):
        READERS["voxceleb1"](tmp_path, "train")


def test_an_utterance_without_its_transcript_line_names_the_chapter_file_to_fix(tmp_path):
    chapter = tmp_path / "LibriSpeech" / "test-clean" / "1089" / "134686"
    chapter.mkdir(parents=True)
    for utterance in ("0000", "0001"):
        sf.write(chapter / f"1089-134686-{utterance}.flac", np.zeros(1600, dtype=np.float32), 16000)
    (chapter / "1089-134686.trans.txt").write_text("1089-134686-0000 HE HOPED\n")
    untranscribed = "Translation not found for 1089-134686-0001; every"
    with pytest.raises(DatasetNotFoundError, match=untranscribed) as error:
        READERS["librispeech"](tmp_path, "test")
    assert "<speaker>-<chapter>.trans.txt" in str(error.value) and "\n" not in str(error.value)
