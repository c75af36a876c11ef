"""activation_ranges: per observed activation quantizer, the largest |x| against the percentile clip."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from esc.config import CONFIG_DIR
from esc.results.ranges import activation_ranges, magnitude
from tests.models.toy_adapter import ToyAdapter

# The percentile is read off a 2048-bin histogram that spans the outlier, so it is exact to about a bin.
BIN = 2 * 50.0 / 2048


class TwoLayersAndASpare(nn.Module):
    """Two linear layers in a row (module order is not name order), and a spare one between them that no
    forward reaches."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(4, 3)
        self.spare = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.stem(x)))


def clips_with_one_outlier(outlier: float) -> list[dict]:
    """Four batches of 64 four-sample clips in [-1, 1], the last sample of the last clip set to `outlier`."""
    torch.manual_seed(0)
    batches = [torch.rand(64, 4) * 2 - 1 for _ in range(4)]
    batches[-1][-1, -1] = outlier
    return [{"waveforms": w, "lengths": torch.full((64,), 4), "targets": ["0"] * 64} for w in batches]


def ranges(outlier: float, percentile: float, a_symmetric: bool = True) -> pd.DataFrame:
    """The toy model's ranges on those clips under W8A8, with symmetric or asymmetric activations."""
    torch.manual_seed(0)
    quant = OmegaConf.merge(OmegaConf.load(f"{CONFIG_DIR}/quant/w8a8.yaml"), {"a_symmetric": a_symmetric})
    return activation_ranges(
        ToyAdapter(TwoLayersAndASpare()), clips_with_one_outlier(outlier), quant, percentile
    )


@pytest.mark.parametrize(("clip", "half_width"), [((-3.0, 2.0), 3.0), ((-1.0, 5.0), 5.0), ((0.0, 0.5), 0.5)])
def test_magnitude_is_the_larger_side_of_the_clip_range(clip: tuple[float, float], half_width: float) -> None:
    assert magnitude(clip) == half_width


def test_only_the_quantizers_that_saw_data_are_listed_in_module_order_with_the_percentile() -> None:
    frame = ranges(outlier=50.0, percentile=99.9)
    assert list(frame.columns) == ["quantizer", "absmax", "clip", "percentile"]
    assert frame["quantizer"].tolist() == ["stem.input", "head.input"]
    assert set(frame["percentile"]) == {99.9}


def test_one_outlier_sets_the_largest_value_while_the_percentile_clip_stays_with_the_bulk() -> None:
    stem = ranges(outlier=50.0, percentile=99.9).set_index("quantizer").loc["stem.input"]
    assert stem["absmax"] == 50.0
    assert stem["clip"] == pytest.approx(1.0, abs=BIN)


@pytest.mark.parametrize("a_symmetric", [True, False])
def test_a_negative_outlier_counts_by_its_magnitude_on_either_grid(a_symmetric: bool) -> None:
    stem = ranges(outlier=-50.0, percentile=99.9, a_symmetric=a_symmetric).iloc[0]
    assert stem["quantizer"] == "stem.input" and stem["absmax"] == 50.0
    assert stem["clip"] == pytest.approx(1.0, abs=BIN)


def test_every_clip_lies_within_its_largest_value_and_reaches_it_at_the_100th_percentile() -> None:
    frame = ranges(outlier=50.0, percentile=100.0)
    assert (frame["clip"] <= frame["absmax"]).all()
    assert frame.loc[0, "clip"] == pytest.approx(50.0, rel=1e-3)
