"""Fake quantization arithmetic: agreement with torch reference ops, error bounds, gradients, populations."""

import pytest
import torch

from esc.calibrate.precision import cuda_float32_matmuls
from esc.quant import fake_quant
from esc.quant.bits import integer_grid
from esc.quant.fake_quant import (
    fake_quantize,
    fake_quantize_population,
    fused_kernel_enabled,
    qparams_from_range,
    use_fused_kernel,
)


def _random_case(generator: torch.Generator) -> tuple[torch.Tensor, float, int, int, int]:
    bits = int(torch.randint(2, 9, (), generator=generator))
    qmin, qmax = (
        integer_grid(bits, "asymmetric") if torch.rand((), generator=generator) < 0.5 else (-128, 127)
    )
    scale = float(torch.rand((), generator=generator) * 0.5 + 1e-3)
    zero_point = int(torch.randint(qmin, qmax + 1, (), generator=generator))
    x = torch.randn(4000, generator=generator) * scale * (qmax - qmin) / 3
    # Values exactly half-way between grid points check the rounding mode (half to even, like nearbyint).
    halves = (torch.arange(-200, 200) + 0.5) * scale
    return torch.cat([x, halves]), scale, zero_point, qmin, qmax


def test_per_tensor_is_bit_identical_to_torch_fake_quantize_per_tensor_affine() -> None:
    generator = torch.Generator().manual_seed(0)
    for _ in range(100):
        x, scale, zero_point, qmin, qmax = _random_case(generator)
        expected = torch.fake_quantize_per_tensor_affine(x, scale, zero_point, qmin, qmax)
        actual = fake_quantize(x, torch.tensor(scale), torch.tensor(float(zero_point)), qmin, qmax)
        assert torch.equal(actual, expected)


def test_per_channel_is_bit_identical_to_torch_fake_quantize_per_channel_affine() -> None:
    generator = torch.Generator().manual_seed(1)
    weight = torch.randn(16, 3, 5, generator=generator)
    scale = weight.abs().amax(dim=(1, 2)) / 7 * (0.5 + torch.rand(16, generator=generator))
    expected = torch.fake_quantize_per_channel_affine(
        weight, scale, torch.zeros(16, dtype=torch.int32), 0, -7, 7
    )
    assert torch.equal(fake_quantize(weight, scale.view(-1, 1, 1), None, -7, 7), expected)


def test_error_is_at_most_half_a_step_inside_the_representable_range() -> None:
    generator = torch.Generator().manual_seed(2)
    for _ in range(300):
        x, scale, zero_point, qmin, qmax = _random_case(generator)
        scale_t = torch.tensor(scale)
        x_hat = fake_quantize(x, scale_t, torch.tensor(float(zero_point)), qmin, qmax)
        low, high = (qmin - zero_point) * scale_t, (qmax - zero_point) * scale_t
        inside = (x >= low) & (x <= high)
        assert inside.any()
        # Float rounding of x·(1/s) and (q - z)·s adds a few ulps of |x| on top of the exact bound s/2.
        tolerance = scale_t / 2 + 1e-6 * (x.abs() + scale_t)
        assert ((x_hat - x).abs() <= tolerance)[inside].all()
        assert torch.equal(x_hat[x < low], low.expand(int((x < low).sum())))
        assert torch.equal(x_hat[x > high], high.expand(int((x > high).sum())))


def test_outputs_lie_on_the_grid() -> None:
    x = torch.randn(1000)
    scale = torch.tensor(0.05)
    levels = fake_quantize(x, scale, torch.tensor(3.0), 0, 15) / scale + 3
    assert torch.allclose(levels, levels.round(), atol=1e-4)
    assert levels.min() >= 0 and levels.max() <= 15


def test_gradient_passes_straight_through() -> None:
    x = torch.randn(50, requires_grad=True)
    y = fake_quantize(x, torch.tensor(0.1), None, -7, 7)
    (y * torch.arange(50.0)).sum().backward()
    assert torch.equal(x.grad, torch.arange(50.0))
    assert torch.equal(y.detach(), fake_quantize(x.detach(), torch.tensor(0.1), None, -7, 7))


def test_no_grad_result_carries_no_autograd_graph() -> None:
    x = torch.randn(10, requires_grad=True)
    with torch.no_grad():
        assert fake_quantize(x, torch.tensor(0.1), None, -7, 7).grad_fn is None


def test_population_rows_use_their_own_candidate_scale() -> None:
    x = torch.randn(2, 3, 4)
    scales = torch.tensor([0.1, 0.02, 0.3])
    population = fake_quantize_population(x.repeat(3, 1, 1), scales, None, -7, 7)
    for p, scale in enumerate(scales):
        assert torch.equal(population[2 * p : 2 * p + 2], fake_quantize(x, scale, None, -7, 7))


def test_population_of_a_transposed_tensor_matches_separate_quantization() -> None:
    x = torch.randn(4, 5, 2, 3).transpose(1, 2)  # non-contiguous, like attention's q/k/v
    scales = torch.tensor([0.1, 0.4])
    population = fake_quantize_population(x, scales, torch.tensor(2.0), 0, 15)
    assert population.shape == x.shape
    assert torch.equal(population[:2], fake_quantize(x[:2], scales[0], torch.tensor(2.0), 0, 15))
    assert torch.equal(population[2:], fake_quantize(x[2:], scales[1], torch.tensor(2.0), 0, 15))


def test_population_batch_must_be_a_multiple_of_the_population() -> None:
    with pytest.raises(ValueError, match="not a multiple of the population size 3"):
        fake_quantize_population(torch.randn(4, 2), torch.ones(3), None, -7, 7)


def test_qparams_include_zero_and_map_the_range_ends_to_the_grid_ends() -> None:
    scale, zero_point = qparams_from_range(torch.tensor(-1.0), torch.tensor(3.0), 255)
    assert torch.isclose(scale, torch.tensor(4.0 / 255))
    assert zero_point == 64
    scale, zero_point = qparams_from_range(torch.tensor(0.5), torch.tensor(2.0), 15)
    assert torch.isclose(scale, torch.tensor(2.0 / 15)) and zero_point == 0


def test_all_zero_range_gets_a_small_positive_scale() -> None:
    scale, _ = qparams_from_range(torch.tensor(0.0), torch.tensor(0.0), 127)
    assert scale > 0
    assert torch.equal(fake_quantize(torch.zeros(3), scale, None, -127, 127), torch.zeros(3))


@pytest.fixture
def fused_on_cpu():
    use_fused_kernel(["cpu"])
    if not fused_kernel_enabled("cpu"):  # it stays eager, and the comparisons would compare eager with eager
        pytest.skip("the fused kernel cannot compile here (no C++ compiler), so it cannot be compared")
    yield
    use_fused_kernel([])


def _layouts() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(3)
    activation = torch.randn(6, 7, 16, generator=generator) * 3
    with_specials = activation.clone()
    with_specials[0, 0, :3] = torch.tensor([float("nan"), float("inf"), -float("inf")])
    return {
        "per tensor": (with_specials, torch.tensor(0.21)),
        "population": (activation, torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]).view(6, 1, 1)),
        "per channel": (torch.randn(8, 3, 5, generator=generator), torch.rand(8, 1, 1, generator=generator)),
        "transposed": (activation.transpose(0, 1), torch.tensor(0.3)),
        "transposed population": (
            activation.transpose(1, 2),
            torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]).view(6, 1, 1),
        ),
        "widening": (torch.randn(40, generator=generator), torch.rand(3, 1, generator=generator) + 0.1),
        "empty": (torch.randn(0, 16), torch.tensor(0.3)),
    }


def recording_kernels(monkeypatch) -> list[str]:
    """The names of the functions that fake_quantize runs compiled, from now on."""
    kernels = []
    compiled_version = fake_quant._compiled_version
    monkeypatch.setattr(
        fake_quant, "_compiled_version", lambda f: kernels.append(f.__name__) or compiled_version(f)
    )
    return kernels


@pytest.mark.parametrize("layout", list(_layouts()))
@pytest.mark.parametrize("zero_point", [None, 3.0])
@pytest.mark.parametrize("out_dtype", [None, torch.bfloat16])
def test_fused_kernel_is_bit_identical_to_the_eager_ops(
    fused_on_cpu, monkeypatch, layout: str, zero_point, out_dtype
) -> None:
    x, scale = _layouts()[layout]
    qmin, qmax = (-7, 7) if zero_point is None else (0, 15)
    zero = None if zero_point is None else torch.tensor(zero_point)
    kernels = recording_kernels(monkeypatch)
    fused = fake_quantize(x, scale, zero, qmin, qmax, out_dtype=out_dtype)
    # A scale that widens x stays eager (a one-off shape); every other layout must take the compiled kernel.
    assert bool(kernels) is (layout != "widening")
    use_fused_kernel([])
    eager = fake_quantize(x, scale, zero, qmin, qmax, out_dtype=out_dtype)
    assert fused.shape == eager.shape and fused.dtype == eager.dtype == (out_dtype or x.dtype)
    assert torch.equal(fused.isnan(), eager.isnan())
    assert torch.equal(fused.nan_to_num(), eager.nan_to_num())


@pytest.mark.parametrize("layout", ["transposed", "transposed population"])
def test_copying_a_transposed_input_first_sends_it_through_the_matrix_kernel_bit_identically(
    fused_on_cpu, monkeypatch, layout: str
) -> None:
    # The GPU strategy, run on this CPU: the copy must change the kernel used, not a single value.
    monkeypatch.setattr(fake_quant, "CONTIGUOUS_FIRST_DEVICE_TYPES", frozenset({"cuda", "cpu"}))
    kernels = recording_kernels(monkeypatch)
    x, scale = _layouts()[layout]
    fused = fake_quantize(x, scale, None, -7, 7, out_dtype=torch.bfloat16)
    use_fused_kernel([])
    eager = fake_quantize(x, scale, None, -7, 7, out_dtype=torch.bfloat16)
    assert kernels == ["_round_to_grid"]
    assert fused.is_contiguous() and torch.equal(fused, eager)


def _eager_softmax_quantized(scores, scaling, mask, scale, population):
    scores = scores * scaling
    if mask is not None:
        scores = scores + mask
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
    if population:
        return fake_quantize_population(probs, scale, None, 0, 15, out_dtype=scores.dtype)
    return fake_quantize(probs, scale, None, 0, 15, out_dtype=scores.dtype)


@pytest.mark.parametrize("population", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_fused_softmax_matches_the_eager_ops_bit_for_bit_in_float32(population: bool, masked: bool) -> None:
    generator = torch.Generator().manual_seed(6)
    scores = torch.randn(4, 2, 5, 7, generator=generator) * 4
    mask = torch.where(torch.rand(4, 1, 5, 7, generator=generator) < 0.3, -1e9, 0.0) if masked else None
    scale = torch.tensor([0.05, 0.07]) if population else torch.tensor(1 / 15)
    fused = fake_quant.softmax_fake_quantize(scores, 0.125, mask, scale, None, 0, 15, torch.float32)
    assert torch.equal(fused, _eager_softmax_quantized(scores, 0.125, mask, scale, population))


def test_fused_softmax_in_bfloat16_stays_within_one_grid_step_of_the_eager_ops() -> None:
    # The eager ops round the scaled scores to bfloat16 before the softmax; the fused kernel does not.
    scores = (torch.randn(8, 4, 16, 16, generator=torch.Generator().manual_seed(7)) * 4).bfloat16()
    scale = torch.tensor([0.05, 0.07, 0.06, 0.08])
    fused = fake_quant.softmax_fake_quantize(scores, 0.3, None, scale, None, 0, 15, torch.bfloat16)
    eager = _eager_softmax_quantized(scores, 0.3, None, scale, population=True)
    assert fused.dtype == torch.bfloat16
    step = scale.view(4, 1).expand(4, fused.numel() // 4).reshape(fused.shape)
    assert ((fused.float() - eager.float()).abs() <= step * 1.01).all()


def test_fused_softmax_is_chosen_only_where_the_forward_runs_below_float32(monkeypatch) -> None:
    monkeypatch.setattr(fake_quant, "FUSED_SOFTMAX_DEVICE_TYPES", frozenset({"cuda", "cpu"}))
    monkeypatch.setattr(fake_quant, "_fused_device_types", frozenset({"cuda", "cpu"}))
    assert not fake_quant.fuses_softmax("cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert fake_quant.fuses_softmax("cpu")
    with cuda_float32_matmuls("ieee"):
        assert not fake_quant.fuses_softmax("cuda")
    with cuda_float32_matmuls("tf32"):
        assert fake_quant.fuses_softmax("cuda")


def test_fused_softmax_refuses_a_batch_the_population_does_not_divide() -> None:
    with pytest.raises(ValueError, match="batch dimension 3 is not a multiple of the population size 2"):
        fake_quant.softmax_fake_quantize(
            torch.zeros(3, 1, 2, 2), 1.0, None, torch.ones(2), None, 0, 15, torch.float32
        )


def test_a_widening_scale_gives_one_quantized_copy_per_scale() -> None:
    # A calibrator's candidate grid: each of the 3 scales quantizes all of x.
    x = torch.randn(40, generator=torch.Generator().manual_seed(5))
    scales = torch.tensor([[0.05], [0.1], [0.2]])
    quantized = fake_quantize(x, scales, None, -7, 7)
    assert quantized.shape == (3, 40)
    for row, scale in zip(quantized, scales, strict=True):
        assert torch.equal(row, fake_quantize(x, scale, None, -7, 7))


def test_a_transposed_input_gives_a_contiguous_result() -> None:
    # attention's q/k/v arrive transposed; a contiguous result spares the next matmul a copy.
    x = torch.randn(2, 5, 3, 4).transpose(1, 2)
    assert fake_quantize(x, torch.tensor(0.1), None, -7, 7).is_contiguous()


def test_a_bfloat16_input_is_rounded_on_the_float32_grid() -> None:
    x = torch.randn(64, 48, generator=torch.Generator().manual_seed(4)).bfloat16()
    scale = torch.tensor(0.0123)  # not a bfloat16 number: rounding it would move every grid point
    quantized = fake_quantize(x, scale, None, -7, 7)
    assert quantized.dtype == torch.bfloat16
    assert torch.equal(quantized, fake_quantize(x.float(), scale, None, -7, 7).bfloat16())


def test_fused_kernel_names_an_unknown_device_type() -> None:
    with pytest.raises(ValueError, match=r"\['tpu'\] are unknown: use cpu and/or cuda"):
        use_fused_kernel(["cpu", "tpu"])


def test_without_a_cpp_compiler_cpu_stays_eager(monkeypatch, caplog) -> None:
    monkeypatch.setattr("esc.quant.fake_quant.shutil.which", lambda name: None)
    use_fused_kernel(["cpu"])
    assert not fused_kernel_enabled("cpu")
    assert "no C++ compiler" in caplog.text
