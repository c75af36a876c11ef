"""Per-quantizer activation ranges on a model's calibration set: the largest |x| against the percentile clip,
which shows how far a few outliers stretch a minmax range."""

from __future__ import annotations

import pandas as pd
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from esc.calibrate.standard import collect_statistics, quant_config
from esc.models.adapter import SpeechAdapter
from esc.quant import quantize, scaled_activation_quantizers
from esc.quant.calibrators import minmax_range, percentile_range

# esc-ranges writes results/figures/<prefix><model>.png and .csv, beside esc-tables' figures.
RANGES_FIGURE_PREFIX = "activation_ranges_"


def magnitude(clip: tuple[float, float]) -> float:
    """The half-width of a symmetric grid that holds the clip range [low, high]."""
    low, high = clip
    return max(-low, high)


def activation_ranges(
    adapter: SpeechAdapter, loader: DataLoader, quant_cfg: DictConfig, percentile: float
) -> pd.DataFrame:
    """Quantize, run one statistics pass, and list each activation quantizer that saw data, in module order,
    with its observed |x| maximum (`absmax`) and the percentile calibrator's clip (`clip`)."""
    quantize(adapter.model, quant_config(quant_cfg))
    collect_statistics(adapter, loader)
    observed = [
        q for q in scaled_activation_quantizers(adapter.model) if q.statistics and q.statistics.batches
    ]
    return pd.DataFrame(
        {
            "quantizer": [q.name for q in observed],
            "absmax": [magnitude(minmax_range(q.statistics, q.steps)) for q in observed],
            "clip": [magnitude(percentile_range(q.statistics, q.steps, percentile)) for q in observed],
            "percentile": percentile,
        }
    )
