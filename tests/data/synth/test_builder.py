"""The corpus builder: deterministic bytes, idempotence, resumption and no silent overwrite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from esc.data.synth import builder
from esc.data.synth.builder import CorpusExistsError, build_corpus, is_complete
from esc.data.synth.corpora import make_plan
from esc.data.synth.manifest import MANIFEST, read_manifest


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("corpus", ["kws", "asr", "sid"])
def test_same_seed_gives_byte_identical_corpus(corpus, tiny_corpora, tmp_path):
    again = build_corpus(make_plan(corpus, "tiny", 0), tmp_path / corpus, workers=1)
    first, second = file_bytes(tiny_corpora[corpus]), file_bytes(again)
    assert first.keys() == second.keys()
    assert first == second


def test_other_seed_gives_other_audio(tiny_corpora, tmp_path):
    other = build_corpus(make_plan("sid", "tiny", 1), tmp_path / "sid")
    assert read_manifest(other)["corpus_sha256"] != read_manifest(tiny_corpora["sid"])["corpus_sha256"]


def test_complete_corpus_is_not_generated_again(tiny_corpora, monkeypatch):
    before = {p: p.stat().st_mtime_ns for p in tiny_corpora["kws"].rglob("*")}
    monkeypatch.setattr(
        builder, "_render_pending_chunks", lambda *a: pytest.fail("rendered a finished corpus")
    )
    build_corpus(make_plan("kws", "tiny", 0), tiny_corpora["kws"])
    assert {p: p.stat().st_mtime_ns for p in tiny_corpora["kws"].rglob("*")} == before


def test_different_corpus_at_root_is_never_overwritten_silently(tiny_corpora):
    with pytest.raises(CorpusExistsError, match="corpus.overwrite=true"):
        build_corpus(make_plan("kws", "tiny", 7), tiny_corpora["kws"])


def test_a_corpus_of_an_older_generator_is_refused_naming_both_versions(tmp_path):
    root = tmp_path / "kws"
    root.mkdir()
    (root / MANIFEST).write_text(
        json.dumps({"corpus": "kws", "fingerprint": "old", "generator_version": "1"})
    )
    with pytest.raises(CorpusExistsError, match="generator version 1, and this code writes version 2"):
        build_corpus(make_plan("kws", "tiny", 0), root)


def test_overwrite_replaces_a_different_corpus(tmp_path):
    root = build_corpus(make_plan("sid", "tiny", 0), tmp_path / "sid")
    build_corpus(make_plan("sid", "tiny", 3), root, overwrite=True)
    assert is_complete(root, make_plan("sid", "tiny", 3))


def test_overwrite_never_deletes_a_folder_that_esc_data_did_not_write(tmp_path):
    """A real dataset at corpus.root (no manifest) stays, whatever corpus.overwrite says."""
    root = tmp_path / "voxceleb1"
    clip = root / "wav" / "id10001" / "1zcIwhmdeo4" / "00001.wav"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"licensed audio")
    with pytest.raises(CorpusExistsError, match="no esc-data run wrote .*empty that folder yourself"):
        build_corpus(make_plan("sid", "tiny", 0), root, overwrite=True)
    assert clip.read_bytes() == b"licensed audio"
    assert not root.with_name("voxceleb1.partial").exists()


def test_damaged_corpus_with_its_own_manifest_is_rebuilt(tmp_path):
    plan = make_plan("sid", "tiny", 0)
    root = build_corpus(plan, tmp_path / "sid")
    (root / plan.clips[0].path).unlink()
    assert not is_complete(root, plan)
    build_corpus(plan, root)
    assert is_complete(root, plan)


@pytest.mark.parametrize("lost", ["iden_split.txt", "a clip", "a clip's bytes"])
def test_a_corpus_missing_a_split_list_or_a_clip_is_incomplete_and_rebuilt(tiny_corpora, tmp_path, lost):
    plan = make_plan("sid", "tiny", 0)
    root = build_corpus(plan, tmp_path / "sid")
    if lost == "a clip's bytes":
        (root / plan.clips[0].path).write_bytes(b"")
    else:
        (root / (plan.clips[0].path if lost == "a clip" else lost)).unlink()
    assert not is_complete(root, plan)
    build_corpus(plan, root)
    assert file_bytes(root) == file_bytes(tiny_corpora["sid"])


def test_a_worker_count_below_one_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="workers=-1 must be ≥ 1, or null for every core"):
        build_corpus(make_plan("sid", "tiny", 0), tmp_path / "sid", workers=-1)


def test_a_root_that_is_a_file_is_refused_by_name_and_kept(tmp_path):
    root = tmp_path / "kws"
    root.write_text("notes")
    with pytest.raises(NotADirectoryError, match=f"corpus.root={root} is a file; the corpus needs a folder"):
        build_corpus(make_plan("kws", "tiny", 0), root, workers=1)
    assert root.read_text() == "notes"


def test_a_symlinked_root_gets_the_corpus_in_the_folder_it_points_to(tiny_corpora, tmp_path):
    target = tmp_path / "disk" / "sid"
    target.mkdir(parents=True)
    link = tmp_path / "sid"
    link.symlink_to(target)
    build_corpus(make_plan("sid", "tiny", 0), link)
    assert link.is_symlink() and file_bytes(target) == file_bytes(tiny_corpora["sid"])


def test_interrupted_build_leaves_no_root_and_resumes_to_identical_bytes(tiny_corpora, tmp_path):
    root = tmp_path / "kws"
    staging = tmp_path / "kws.partial"
    command = [
        sys.executable,
        "-m",
        "esc.apps.data",
        "corpus=kws",
        "corpus.size=tiny",
        f"corpus.root={root}",
        "workers=1",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while (
        not list(staging.glob(".esc_chunks/*.json"))
        and process.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    assert process.poll() is None, f"the build ended (rc {process.returncode}) before it could be interrupted"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert list(staging.glob(".esc_chunks/*.json")), "the build never finished a chunk"
    assert not root.exists(), "an interrupted build must not leave a half-valid corpus at root"
    build_corpus(make_plan("kws", "tiny", 0), root)
    assert file_bytes(root) == file_bytes(tiny_corpora["kws"])
    assert not staging.exists()
