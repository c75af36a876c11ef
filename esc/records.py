"""The run record: metrics.json in DESIGN.md's flat schema, and the config hash that names a run."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from esc.atomic_files import write_bytes_atomically
from esc.config import PROJECT_ROOT
from esc.data.synth.manifest import corpus_stamp
from esc.devices import accelerator_device
from esc.quant.bits import is_float

log = logging.getLogger(__name__)

# Output paths and run controls (whether to reuse, where to log) leave the experiment itself unchanged.
_UNHASHED_KEYS = (
    "hydra",
    "reuse_from",
    "force",
    "logger",
    "fused_fake_quant",
    "float_cache",
    "ptq_cache",
)
# How a run's clips arrive (loader processes, fetching a missing dataset), not which clips they are.
LOADING_DATA_KEYS = ("num_workers", "download")
# Where and how often ESC saves its search, not what it finds.
_UNHASHED_ES_KEYS = ("checkpoint_dir", "checkpoint_every")
SEARCHING_CALIBRATOR = "esc"  # the one calibrator that draws on `seed` and on the `es` settings


@functools.cache
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    """sha256 of a file's bytes, read once per process for each (size, mtime) the file has had."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def weights_stamp(pretrained: str) -> list:
    """A content hash of each of a local checkpoint's files: a retrained model invalidates its entries, and
    the same weights after a checkout or in a fresh clone (new file times) keep them."""
    folder = Path(pretrained)
    if not folder.is_dir():
        return []
    files = [(path, path.stat()) for path in sorted(folder.iterdir()) if path.is_file()]
    return [(path.name, _file_sha256(path, stat.st_size, stat.st_mtime_ns)) for path, stat in files]


def input_stamps(pretrained: str, data_root: str | None) -> dict:
    """Stamps of the files a run evaluates, which no setting names: the local checkpoint's and the synthetic
    corpus's (a retrained model or a rebuilt corpus behind the same paths)."""
    return {"weights": weights_stamp(pretrained), "corpus": corpus_stamp(data_root)}


def inputs_hash(cfg: DictConfig) -> str:
    """A short hash of `input_stamps`, for the run record: tables keep one experiment's seeds per cell, and
    seeds run before and after a retraining are two experiments."""
    return payload_key(input_stamps(cfg.model.pretrained, cfg.data.root), length=16)


def evaluated_inputs(cfg: DictConfig) -> dict:
    """The model and the data a run evaluates, with stamps of their files on disk: what every cached
    result (float metric, weight rounding) depends on, whatever else its key adds."""
    settings = {
        "model": OmegaConf.to_container(cfg.model, resolve=True),
        "data": OmegaConf.to_container(cfg.data, resolve=True),
    }
    return checkout_relative(settings) | input_stamps(cfg.model.pretrained, cfg.data.root)


def checkout_relative(value: object) -> object:
    """`value` with each path inside this checkout written from `${project_root:}`, as the configs write it.

    Clones in two folders then hash one experiment alike: what lies behind those paths (zoo weights, a
    synthetic corpus) counts by its content stamp, not by where the clone sits.
    """
    root = str(PROJECT_ROOT)
    if isinstance(value, dict):
        return {key: checkout_relative(item) for key, item in value.items()}
    if isinstance(value, list):
        return [checkout_relative(item) for item in value]
    if isinstance(value, str) and (value == root or value.startswith(root + os.sep)):
        return "${project_root:}" + value[len(root) :]
    return value


def payload_key(payload: dict, length: int = 20) -> str:
    """A short stable hash of a JSON-able payload: a cache entry's file name, or a run's config hash."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:length]


def experiment_settings(container: dict, keep_seed: bool) -> dict:
    """What tells one experiment from another: a config's settings less its output paths, caches and run
    controls (data loading's included), less the `es` group unless ESC searches, and less its seeds unless
    `keep_seed`. A float run (no weight or activation quantized) keeps neither calibrator, PTQ, es nor
    seed: it uses none of them, so a sweep crossing `quant=fp` with calibrators evaluates the float model
    once."""
    settings = {key: value for key, value in container.items() if key not in _UNHASHED_KEYS}
    if isinstance(settings.get("data"), dict):
        settings["data"] = {
            key: value for key, value in settings["data"].items() if key not in LOADING_DATA_KEYS
        }
    if "quant" in settings and is_float(settings["quant"]):
        unused = ("calibrator", "ptq", "es", "seed")
        return {key: value for key, value in settings.items() if key not in unused}
    es = settings.pop("es", None)
    if isinstance(es, dict) and settings.get("calibrator", {}).get("name") == SEARCHING_CALIBRATOR:
        dropped = _UNHASHED_ES_KEYS if keep_seed else (*_UNHASHED_ES_KEYS, "seed")
        settings["es"] = {key: value for key, value in es.items() if key not in dropped}
    if not keep_seed:
        settings.pop("seed", None)
    return settings


def config_hash(cfg: DictConfig) -> str:
    """sha256 of the resolved config without output paths and run controls: equal hashes, same experiment.

    A local checkpoint's files count too, so a retrained zoo model never reuses its predecessor's runs, and
    so does a synthetic corpus's audio hash, so a rebuilt corpus never reuses runs made on the old one.
    Paths inside the checkout count from its folder (`checkout_relative`), so clones agree wherever they sit.
    Only ESC's search draws on `seed` and on `es` (a calibration subset that follows the seed is in `data`),
    so a run of any other calibrator hashes without them: a seed sweep, or a sweep under another es preset,
    computes that run once and reuses it.
    """
    resolved = OmegaConf.to_container(cfg, resolve=True)
    searching = resolved.get("calibrator", {}).get("name") == SEARCHING_CALIBRATOR
    container = experiment_settings(resolved, keep_seed=searching)
    # `auto` names no device: the one it picks computes the result (a GPU's convolutions round otherwise).
    container["accelerator"] = accelerator_device(container["accelerator"]).type
    stamps = input_stamps(str(container["model"].get("pretrained", "")), container["data"].get("root"))
    return payload_key(checkout_relative(container) | stamps, length=16)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


# What computes a result. results/, the README and zoo/ change without changing the code: `make reproduce`
# rewrites results/, and a retrained model is in the config hash already.
CODE_PATHS = ("esc", "conf", "benchmarks", "pyproject.toml")


def git_revision() -> str:
    """The checkout's commit; with local changes to its code, marked dirty with a hash of those changes, so
    that two edits of one commit do not pass for the same code (a forced ESC run must not resume the search
    of an earlier edit); `unknown` outside git."""
    try:
        head = _git("rev-parse", "--short", "HEAD")
        changes = _git("diff", "HEAD", "--binary", "--", *CODE_PATHS)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    if not changes:
        return head
    return f"{head}-dirty-{hashlib.sha256(changes.encode()).hexdigest()[:8]}"


def warn_if_made_by_other_code(what: str, made_by: str) -> None:
    """A reused result keeps the numbers of the code that made it (`made_by`, its recorded revision): say so
    when this checkout differs, since no key can see a code change."""
    checkout = git_revision()
    if made_by != checkout:
        log.warning(
            "%s was made by the code at %s, and this checkout is %s: if the change touched what it computes, "
            "force=true computes it again with this code",
            what,
            made_by,
            checkout,
        )


def device_name(device: torch.device) -> str:
    """The `device` that ran the work, in words: the GPU, or the CPU's model and torch's thread count.

    Naming the CPU matters: two CPUs' matmuls round differently, and a search that follows the fitness
    then ends elsewhere (see the README), so a result's machine must be on record. A run on the CPU of a
    machine with a GPU (accelerator=cpu) names the CPU.
    """
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{cpu_model()} ({torch.get_num_threads()} threads)"


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's model name from Linux's cpuinfo, else platform's guess, else `unknown`."""
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or "unknown"


def finished_now() -> str:
    """UTC time stamp for `finished_at`."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_json(path: Path, payload: dict | list) -> None:
    """Write JSON atomically, so a crash never leaves a half-written record behind."""
    write_bytes_atomically(path, (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode())
