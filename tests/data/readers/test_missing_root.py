"""A missing dataset root says how to get the data, in one line."""

import pytest

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
