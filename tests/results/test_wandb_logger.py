"""logger=wandb leaves an offline W&B run beside each run's metrics.json, holding what the run recorded.

wandb 0.31 writes no wandb-summary.json offline, so the test reads the run's .wandb record stream: a LevelDB
log (32 KiB blocks, 7-byte record headers) of wandb's Record protobufs.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from wandb.proto.wandb_internal_pb2 import Record

BLOCK = 32 * 1024
HEADER = struct.Struct("<IHB")  # crc32, length, chunk type
FULL, LAST = 1, 4


def wandb_records(path: Path) -> Iterator[Record]:
    data, position, chunks = path.read_bytes(), 7, []  # after the file header `:W&B`, magic, version
    while position + HEADER.size <= len(data):
        if BLOCK - position % BLOCK < HEADER.size:  # a block's tail too short for a header is padding
            position += BLOCK - position % BLOCK
            continue
        _, length, kind = HEADER.unpack_from(data, position)
        chunks.append(data[position + HEADER.size : position + HEADER.size + length])
        position += HEADER.size + length
        if kind in (FULL, LAST):
            record = Record()
            record.ParseFromString(b"".join(chunks))
            chunks = []
            yield record


def items(updates) -> dict:
    """A record's key/value items as a dict; W&B files keys with a slash under nested_key."""
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in updates}


def logged(run_dir: Path) -> tuple[dict, list[dict], dict]:
    """(summary, history rows, config) of the one offline W&B run under run_dir."""
    (stream,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    summary, history, config = {}, [], {}
    for record in wandb_records(stream):
        kind = record.WhichOneof("record_type")
        if kind == "summary":
            summary |= items(record.summary.update)
        elif kind == "history":
            history.append(items(record.history.item))
        elif kind == "run":
            config |= items(record.run.config.update)
    return summary, history, config


def test_summary_holds_metrics_json_and_config_the_resolved_config(int8_sweep):
    run_dirs = sorted(int8_sweep.glob("[0-9]*"))
    assert len(run_dirs) == 2, "the sweep's minmax and esc runs"
    for run_dir in run_dirs:
        metrics = json.loads((run_dir / "metrics.json").read_text())
        summary, _, config = logged(run_dir)
        assert {key: summary[key] for key in metrics} == metrics
        assert config["model"]["name"] == "ast_kws" and config["table"] == "int8"


def test_esc_convergence_and_activation_scales_are_logged(int8_sweep):
    (esc_dir,) = [d for d in int8_sweep.glob("[0-9]*") if (d / "es_history.csv").is_file()]
    _, history, _ = logged(esc_dir)
    curve = [row["es/best_fitness"] for row in history if "es/best_fitness" in row]
    assert len(curve) == 2 and curve == list(pd.read_csv(esc_dir / "es_history.csv")["best_fitness"])
    scales = [row for row in history if "activation_scales/_type" in row]
    activations = [q for q in json.loads((esc_dir / "scales.json").read_text()) if q["kind"] == "activation"]
    assert len(scales) == 1 and scales[0]["activation_scales/nrows"] == len(activations)
