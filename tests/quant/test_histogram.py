"""The growing histogram: exact re-binning when the range widens, bounded size."""

import torch

from esc.quant.histogram import GrowingHistogram


def _add(histogram: GrowingHistogram, values: torch.Tensor) -> None:
    histogram.add(values, float(values.min()), float(values.max()))


def test_every_value_is_counted_across_range_growth() -> None:
    generator = torch.Generator().manual_seed(0)
    histogram = GrowingHistogram(64)
    total = 0
    for spread in (0.1, 1.0, 5.0, 0.5, 40.0):
        values = torch.randn(1000, generator=generator) * spread + spread
        _add(histogram, values)
        total += values.numel()
        assert histogram.low <= float(values.min()) and histogram.high >= float(values.max())
    assert histogram.counts.sum() == total
    assert histogram.counts.numel() == 64


def test_regrown_histogram_matches_a_histogram_built_on_the_final_grid() -> None:
    generator = torch.Generator().manual_seed(1)
    batches = [torch.randn(5000, generator=generator) * scale for scale in (0.3, 1.0, 3.0, 9.0)]
    histogram = GrowingHistogram(128)
    for values in batches:
        _add(histogram, values)
    direct = torch.histc(torch.cat(batches), 128, histogram.low, histogram.high).double()
    # Old bins merge whole into new ones; only values within float rounding of an edge may move one bin.
    assert (histogram.counts - direct).abs().sum() <= 0.001 * direct.sum()


def test_growth_widens_bins_by_an_integer_factor_and_shifts_by_whole_old_bins() -> None:
    histogram = GrowingHistogram(8)
    _add(histogram, torch.tensor([0.0, 8.0]))
    old_low, old_width = histogram.low, histogram.width
    _add(histogram, torch.tensor([-3.0, 20.0]))
    factor = histogram.width / old_width
    shift = (old_low - histogram.low) / old_width
    assert factor > 1 and abs(factor - round(factor)) < 1e-9
    assert shift > 0 and abs(shift - round(shift)) < 1e-9


def test_a_constant_first_batch_still_grows_to_later_data() -> None:
    histogram = GrowingHistogram(16)
    _add(histogram, torch.zeros(100))
    _add(histogram, torch.linspace(-1.0, 1.0, 100))
    assert histogram.counts.sum() == 200
    assert histogram.low <= -1.0 and histogram.high >= 1.0
    zero_bin = int((0.0 - histogram.low) / histogram.width)
    assert histogram.counts[zero_bin] >= 100


def test_centres_lie_midway_between_edges() -> None:
    histogram = GrowingHistogram(4)
    _add(histogram, torch.tensor([0.0, 4.0]))
    edges = histogram.edges()
    assert torch.allclose(histogram.centres(), (edges[1:] + edges[:-1]) / 2)


def test_new_minimums_of_a_signed_histogram_do_not_compound_its_bin_width() -> None:
    # Ten batches of one distribution, each with a slightly lower minimum: the range must stay near the
    # data's, where carrying the old range's empty top doubled the width at every new minimum.
    generator = torch.Generator().manual_seed(2)
    histogram = GrowingHistogram(2048)
    batches = [torch.randn(4000, generator=generator) * 3 + 1 for _ in range(10)]
    for values in batches:
        _add(histogram, values)
    seen = torch.cat(batches)
    span = float(seen.max() - seen.min())
    assert histogram.high - histogram.low <= 2 * span
    assert histogram.counts.sum() == seen.numel()
