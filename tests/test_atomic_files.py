"""Atomic writes: concurrent writers of one file never trip over each other's staging file."""

import json
import os
from concurrent.futures import ThreadPoolExecutor

from esc.records import write_json


def test_concurrent_json_records_of_one_file_all_succeed_and_leave_one_whole_version(tmp_path):
    # The jobs of a parallel sweep write the same float-cache entry: with one shared staging name, the
    # second rename found the first writer's file already gone.
    target = tmp_path / "entry.json"
    versions = [{"writer": n, "padding": "x" * 5000} for n in range(8)]

    def write_many(payload: dict) -> None:
        for _ in range(50):
            write_json(target, payload)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write_many, versions))
    assert json.loads(target.read_text()) in versions
    assert [p.name for p in tmp_path.iterdir()] == ["entry.json"], "no staging file is left behind"


def test_a_written_file_gets_the_permissions_of_the_umask(tmp_path):
    # tempfile.mkstemp stages owner-only (0600) files, and the rename kept that mode for every result.
    previous = os.umask(0o022)
    try:
        write_json(tmp_path / "metrics.json", {"quantized": 97.0})
    finally:
        os.umask(previous)
    assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == 0o644


def test_the_bytes_reach_the_disk_before_the_new_name_does(tmp_path, monkeypatch):
    synced = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    def replace(source, target) -> None:
        assert synced == [str(source)], "the staged file is synced before the rename"
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_json(tmp_path / "metrics.json", {"quantized": 97.0})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"quantized": 97.0}
