"""Bit-width validation and integer grids, shared by the config and every quantizer."""

from __future__ import annotations

from collections.abc import Mapping

from esc.config import is_whole_number

MIN_BITS = 2
OFF_BITS = 16  # 16 means "leave this tensor in float": no grid is used at all


def check_bits(name: str, bits: int) -> int:
    """Reject widths outside 2..16 early, naming the bad setting, rather than build a degenerate grid."""
    if not is_whole_number(bits) or not MIN_BITS <= bits <= OFF_BITS:
        raise ValueError(
            f"{name}={bits!r} is outside the allowed range {MIN_BITS}..{OFF_BITS} "
            f"(integers; {OFF_BITS} = off)"
        )
    return bits


def is_float(quant: Mapping) -> bool:
    """True when a quant setting (a config group or its plain dict) quantizes neither weights nor activations
    (both at 16 bits); a width that is not one is refused by name here, where a run's record asks first."""
    widths = [check_bits(f"quant.{key}", quant[key]) for key in ("w_bits", "a_bits")]
    return min(widths) >= OFF_BITS


def integer_grid(bits: int, scheme: str) -> tuple[int, int]:
    """(qmin, qmax) of a scheme: 'symmetric' is narrow signed so ±amax map to ±qmax; others are unsigned."""
    if scheme == "symmetric":
        qmax = 2 ** (bits - 1) - 1
        return -qmax, qmax
    if scheme in ("asymmetric", "unsigned"):
        return 0, 2**bits - 1
    raise ValueError(f"unknown quantization scheme {scheme!r}; valid: symmetric, asymmetric, unsigned")
