"""esc-ranges: per activation quantizer, the largest |x| against the percentile clip."""

from __future__ import annotations

import pandas as pd


def test_every_observed_quantizer_has_a_clip_within_its_largest_value(tiny_results):
    ranges = pd.read_csv(tiny_results / "figures" / "activation_ranges_ast_kws.csv")
    assert not ranges.empty and ranges["quantizer"].is_unique
    assert (ranges["clip"] > 0).all() and (ranges["clip"] <= ranges["absmax"]).all()
    assert (ranges["clip"] < ranges["absmax"]).any(), "the 99.99th percentile clips some outliers"
    assert set(ranges["percentile"]) == {99.99} and set(ranges["model"]) == {"ast_kws"}
