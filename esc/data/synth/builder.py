"""Writes a CorpusPlan to disk: in parallel, resumable, deterministic and idempotent.

The corpus is assembled in `<root>.partial` and renamed into place only when complete, so a
root folder is either absent or a whole corpus. Each fixed chunk of clips is synthesised in a
freshly forked worker because eSpeak carries state between utterances: the same chunk then
always yields the same bytes, whatever the number of workers or the order they finish in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from esc.atomic_files import write_bytes_atomically
from esc.data.synth.manifest import MANIFEST, read_manifest
from esc.data.synth.plan import SAMPLE_RATE, CorpusPlan
from esc.data.synth.render import render_clip, render_noise

GENERATOR_VERSION = "2"  # 2: eSpeak's noise generator seeded per clip (was the clock)
CHUNK_SIZE = 128
_CHUNKS_DIR = ".esc_chunks"
log = logging.getLogger(__name__)


class CorpusExistsError(RuntimeError):
    """The target folder holds something other than the requested corpus."""


def write_audio(path: Path, audio: np.ndarray) -> str:
    """Write 16-bit PCM (wav or flac by suffix) and return the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _render_chunk(args: tuple[CorpusPlan, int, Path]) -> int:
    plan, index, staging = args
    clips = plan.clips[index * CHUNK_SIZE : (index + 1) * CHUNK_SIZE]
    hashes = {clip.path: write_audio(staging / clip.path, render_clip(clip, plan)) for clip in clips}
    marker = staging / _CHUNKS_DIR / f"{index}.json"
    write_bytes_atomically(marker, json.dumps(hashes).encode())
    return len(clips)


def is_complete(root: Path, plan: CorpusPlan) -> bool:
    """True when `root` holds this exact plan's corpus with every clip, list, transcript and noise file, none
    of them empty (a zero-byte clip is what a full disk or an interrupted copy leaves)."""
    manifest = read_manifest(root)
    if manifest is None or manifest["fingerprint"] != plan.fingerprint(GENERATOR_VERSION):
        return False
    files = (
        [clip.path for clip in plan.clips]
        + list(plan.text_files)
        + [noise.path for noise in plan.noise_files]
    )
    return all((root / relative).is_file() and (root / relative).stat().st_size > 0 for relative in files)


def _prepare_staging(staging: Path, fingerprint: str) -> None:
    """Keep an interrupted build of the same plan, discard one of another plan."""
    stamp = staging / _CHUNKS_DIR / "fingerprint"
    if staging.exists() and (not stamp.is_file() or stamp.read_text() != fingerprint):
        shutil.rmtree(staging)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint)


def _render_pending_chunks(plan: CorpusPlan, staging: Path, workers: int) -> None:
    n_chunks = -(-len(plan.clips) // CHUNK_SIZE)
    pending = [i for i in range(n_chunks) if not (staging / _CHUNKS_DIR / f"{i}.json").is_file()]
    done = len(plan.clips) - sum(len(plan.clips[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]) for i in pending)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["esc.data.synth.render"])
    with (
        tqdm(total=len(plan.clips), initial=done, desc=f"esc-data {plan.name}", unit="clip") as bar,
        context.Pool(workers, maxtasksperchild=1) as pool,
    ):
        for count in pool.imap_unordered(_render_chunk, [(plan, i, staging) for i in pending]):
            bar.update(count)


def _corpus_sha256(staging: Path) -> str:
    hashes: dict[str, str] = {}
    for marker in (staging / _CHUNKS_DIR).glob("*.json"):
        hashes.update(json.loads(marker.read_text()))
    lines = "".join(f"{path} {digest}\n" for path, digest in sorted(hashes.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def build_corpus(plan: CorpusPlan, root: Path, workers: int | None = None, overwrite: bool = False) -> Path:
    """Synthesise `plan` into `root` unless that exact corpus is already there; return `root`.

    A symlinked root is followed, so the corpus is staged on the disk it points to and replaces the folder
    there (the link itself cannot be removed like a folder).
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers} must be ≥ 1, or null for every core")
    root = Path(root).resolve()
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"corpus.root={root} is a file; the corpus needs a folder or a new path")
    fingerprint = plan.fingerprint(GENERATOR_VERSION)
    if is_complete(root, plan):
        log.info("%s: complete corpus with a matching manifest, nothing to do", root)
        return root
    manifest = read_manifest(root)
    damaged_copy = manifest is not None and manifest["fingerprint"] == fingerprint
    if root.exists() and any(root.iterdir()) and manifest is None:
        # Not written by esc-data (a real dataset, say): never ours to delete, even when asked to overwrite.
        raise CorpusExistsError(
            f"corpus.root={root} holds files that no esc-data run wrote (no {MANIFEST}), which "
            "corpus.overwrite=true does not replace; choose another corpus.root, or empty that folder "
            "yourself"
        )
    if manifest is not None and not (overwrite or damaged_copy):
        found = "another esc corpus"
        if manifest.get("generator_version") != GENERATOR_VERSION:
            found = (
                f"an esc corpus from generator version {manifest.get('generator_version')}, "
                f"and this code writes version {GENERATOR_VERSION}"
            )
        raise CorpusExistsError(
            f"corpus.root={root} already holds {found}; choose another corpus.root "
            "or pass corpus.overwrite=true to replace it"
        )
    staging = root.with_name(root.name + ".partial")
    _prepare_staging(staging, fingerprint)
    _render_pending_chunks(plan, staging, workers or os.cpu_count() or 1)
    for relative, text in plan.text_files.items():
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        (staging / relative).write_text(text)
    for noise in plan.noise_files:
        write_audio(staging / noise.path, render_noise(noise))
    manifest = {
        "corpus": plan.name,
        "fingerprint": fingerprint,
        "generator_version": GENERATOR_VERSION,
        "clips": len(plan.clips),
        "corpus_sha256": _corpus_sha256(staging),
    }
    shutil.rmtree(staging / _CHUNKS_DIR)
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    if root.exists():
        shutil.rmtree(root)
    os.replace(staging, root)
    return root
