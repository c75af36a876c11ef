"""Float metrics cached per model + data + task, so a sweep evaluates each float model once."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from omegaconf import DictConfig

from esc.devices import accelerator_device
from esc.records import (
    LOADING_DATA_KEYS,
    evaluated_inputs,
    git_revision,
    payload_key,
    warn_if_made_by_other_code,
    write_json,
)

log = logging.getLogger(__name__)

# Data settings that choose the calibration clips or how files arrive: the float metric depends on none,
# so a sweep over calibration sets (experiment=ablation_calib_size) evaluates its float model once.
_UNEVALUATED_DATA_KEYS = ("calib_size", "calib_seed", *LOADING_DATA_KEYS)


def float_key(cfg: DictConfig) -> str:
    """Hash of everything the float metric depends on, the device type that evaluates it included: a GPU's
    convolutions round otherwise than a CPU's, and `accelerator=auto` picks either."""
    inputs = evaluated_inputs(cfg)
    inputs["data"] = {
        key: value for key, value in inputs["data"].items() if key not in _UNEVALUATED_DATA_KEYS
    }
    device = accelerator_device(cfg.accelerator).type
    return payload_key(inputs | {"metric": cfg.task.metric, "device": device})


def read_entry(entry: Path) -> float | None:
    """The cached metric at `entry`; None when absent, or, with a warning, when unreadable (a cache entry
    is recomputed, never trusted half-written). An entry computed by other code is used, with a warning."""
    if not entry.is_file():
        return None
    try:
        cached = json.loads(entry.read_text())
        value = float(cached["float"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        log.warning("float cache entry %s is unreadable (%r); computing the float metric again", entry, error)
        return None
    warn_if_made_by_other_code(f"the cached float metric {entry}", cached.get("git", "unknown"))
    return value


def cached_float_metric(cfg: DictConfig, compute: Callable[[], float]) -> float:
    """The float metric from the cache under `cfg.float_cache`, computing and storing it when absent.

    `force=true` computes it again and replaces the entry: the key cannot see a code change, and a forced
    run must not pair a fresh quantized metric with a float one that older code computed.
    """
    folder = Path(cfg.float_cache)
    entry = folder / f"{float_key(cfg)}.json"
    cached = None if cfg.get("force", False) else read_entry(entry)
    if cached is not None:
        return cached
    value = compute()
    folder.mkdir(parents=True, exist_ok=True)
    write_json(entry, {"model": cfg.model.name, "data": cfg.data.name, "float": value, "git": git_revision()})
    return value
