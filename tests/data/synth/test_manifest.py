"""A corpus's manifest: what identifies its bytes, and nothing for a folder that is not a synthetic corpus."""

from __future__ import annotations

from esc.data.synth.manifest import corpus_stamp, read_manifest


def test_a_synthetic_corpus_is_stamped_with_its_audio_hash(tiny_corpora):
    assert corpus_stamp(tiny_corpora["kws"]) == read_manifest(tiny_corpora["kws"])["corpus_sha256"]


def test_a_folder_without_a_manifest_has_no_stamp(tmp_path):
    assert corpus_stamp(tmp_path) is None and corpus_stamp(tmp_path / "absent") is None


def test_no_root_has_no_stamp_even_beside_a_manifest(tiny_corpora, monkeypatch):
    monkeypatch.chdir(tiny_corpora["kws"])
    assert corpus_stamp(None) is None and corpus_stamp("") is None
