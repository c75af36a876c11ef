"""The user-facing quantization settings, kept a plain dataclass so they serialise with dataclasses.asdict."""

from __future__ import annotations

from dataclasses import dataclass, field

from esc.config import is_whole_number
from esc.quant.bits import check_bits
from esc.quant.weight_calibrators import WEIGHT_CALIBRATORS


@dataclass
class QuantConfig:
    """What `quantize` inserts: bit widths (16 = off), activation scheme and which modules stay float."""

    w_bits: int = 8
    a_bits: int = 8
    a_symmetric: bool = True
    weight_calibrator: str = "minmax"
    # fnmatch patterns matched against each module's own dotted path; "encoder.*" covers a whole subtree.
    keep_float: list[str] = field(default_factory=list)
    hist_bins: int = 2048

    @property
    def activation_scheme(self) -> str:
        """Grid scheme of Linear/Conv inputs and attention q/k/v (probabilities are always unsigned)."""
        return "symmetric" if self.a_symmetric else "asymmetric"

    def __post_init__(self) -> None:
        check_bits("w_bits", self.w_bits)
        check_bits("a_bits", self.a_bits)
        WEIGHT_CALIBRATORS.get(self.weight_calibrator)
        if not is_whole_number(self.hist_bins) or self.hist_bins < 2:
            raise ValueError(f"hist_bins={self.hist_bins!r} must be an integer >= 2")
