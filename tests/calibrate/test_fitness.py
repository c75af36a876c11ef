"""ESC's fitness: cached float outputs, and one population forward equal to separate evaluations."""

import pytest
import torch
from omegaconf import OmegaConf

from esc.calibrate.fitness import FITNESS, PopulationFitness, kl_rows, mse_rows
from esc.calibrate.precision import cuda_float32_matmuls
from esc.calibrate.standard import calibrate_standard, quant_config
from esc.data.build import build_datamodule
from esc.models.classifier import AudioClassifierAdapter
from esc.models.ctc import CTCAdapter
from esc.models.embedded import build_ecapa
from esc.models.speechbrain_speaker import SpeechBrainSpeakerAdapter
from esc.quant import get_activation_scales, quantize
from tests.tiny_data import data_config
from tests.tiny_models import ECAPA_LIKE, save_tiny_wav2vec2_ctc

QUANT = OmegaConf.create(
    {
        "w_bits": 4,
        "a_bits": 4,
        "a_symmetric": True,
        "weight_calibrator": "minmax",
        "keep_float": [],
        "hist_bins": 256,
    }
)


@pytest.fixture
def quantized_ast(tiny_corpora, tiny_ast_dir):
    data = data_config(tiny_corpora["kws"], "kws", batch_size=6, calib_size=12)
    datamodule = build_datamodule(data)
    adapter = AudioClassifierAdapter.load(str(tiny_ast_dir)).eval()
    quantize(adapter.model, quant_config(QUANT))
    calibrate_standard(adapter, datamodule.calibration_dataloader(), OmegaConf.create({"name": "mse"}))
    return adapter, datamodule


def test_kl_and_mse_rows_are_zero_only_for_identical_outputs():
    reference = torch.randn(3, 7)
    assert torch.equal(kl_rows(reference, reference), torch.zeros(3))
    assert torch.equal(mse_rows(reference, reference), torch.zeros(3))
    assert (kl_rows(reference + torch.randn(3, 7), reference) > 0).all()


def test_every_fitness_scores_bfloat16_outputs_in_float32(tiny_ast_dir):
    """es.precision=bf16 forwards give bfloat16 outputs; 8-bit losses would not rank close candidates."""
    adapter = AudioClassifierAdapter.load(str(tiny_ast_dir))
    outputs = torch.randn(4, adapter.num_classes, generator=torch.Generator().manual_seed(0))
    references = {"kl": outputs, "mse": outputs, "task": torch.arange(4) % adapter.num_classes}
    for kind, reference in references.items():
        rows = FITNESS[kind].rows(adapter, outputs.bfloat16(), {}, reference, None)
        exact = FITNESS[kind].rows(adapter, outputs.bfloat16().float(), {}, reference, None)
        assert rows.dtype == torch.float32 and torch.equal(rows, exact), kind


def test_kl_rows_of_confident_posteriors_match_float64_and_stay_positive():
    """A trained speaker classifier's posteriors at its training scale: float32's log_softmax rounds the
    top class to log 1 = 0, which made a KL err by orders of magnitude, and below zero."""
    generator = torch.Generator().manual_seed(0)
    reference = 30 * (0.2 * torch.randn(32, 50, generator=generator)).index_fill(1, torch.tensor([0]), 0.85)
    quantized = reference + 0.3 * torch.randn(32, 50, generator=generator)
    exact_p = torch.log_softmax(reference.double(), dim=-1)
    exact = (exact_p.exp() * (exact_p - torch.log_softmax(quantized.double(), dim=-1))).sum(dim=-1)
    rows = kl_rows(quantized, reference)
    assert (rows > 0).all()
    torch.testing.assert_close(rows.double(), exact, rtol=1e-3, atol=0)


def test_kl_fitness_of_a_cosine_classifier_weighs_the_classes_that_decide(monkeypatch):
    """ECAPA's cosines are posteriors at the margin loss's scale: lowering the top class until the answer
    flips must cost more than small changes to the classes that decide nothing."""
    speakers = [f"id{n:05d}" for n in range(50)]
    adapter = SpeechBrainSpeakerAdapter(*build_ecapa({"n_mels": 16, "ecapa": ECAPA_LIKE}, speakers, []))
    generator = torch.Generator().manual_seed(0)
    cosines = 0.6 * torch.rand(1, 50, generator=generator) - 0.3
    cosines[0, :2] = torch.tensor([0.7, 0.62])
    flipped, noisy = cosines.clone(), cosines + 0.05 * torch.randn(1, 50, generator=generator)
    flipped[0, 0], noisy[0, :2] = 0.6, cosines[0, :2]
    assert flipped.argmax() == 1 and noisy.argmax() == cosines.argmax() == 0
    monkeypatch.setattr(adapter, "logits", lambda inputs: inputs["cosines"])
    kl = FITNESS["kl"]
    reference = kl.reference(adapter, {"cosines": cosines}, [])

    def fitness(scores: torch.Tensor) -> float:
        return float(kl.rows(adapter, kl.outputs(adapter, {"cosines": scores}), {}, reference, None))

    assert fitness(flipped) > 100 * fitness(noisy)


def assert_same_fitness(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Equal to float rounding, not bit for bit: a CPU's matmul may block 30 rows otherwise than 6 (an
    AVX-512 EPYC does, moving the KL by up to 2e-5 of itself). A candidate that read another's scales would
    be off by percents."""
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=0)


@pytest.mark.parametrize("kind", ["kl", "mse", "task"])
def test_population_fitness_equals_separate_evaluations(quantized_ast, kind):
    adapter, datamodule = quantized_ast
    base = get_activation_scales(adapter.model)
    candidates = base * torch.exp2(
        0.3 * torch.randn(5, len(base), generator=torch.Generator().manual_seed(0))
    )
    batched = PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), kind, chunk_rows=18)
    together = batched(candidates)
    separately = torch.cat([batched(candidate[None]) for candidate in candidates])
    assert_same_fitness(together, separately)
    assert together.unique().numel() == 5, "different scales must give different fitness"


def test_fitness_of_the_local_scales_is_positive_and_float_cache_is_not_quantized(quantized_ast):
    adapter, datamodule = quantized_ast
    fitness = PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=64)
    assert fitness(get_activation_scales(adapter.model)[None]).item() > 0
    assert fitness.clips == 12


def test_unknown_fitness_and_an_empty_chunk_are_refused(quantized_ast):
    adapter, datamodule = quantized_ast
    with pytest.raises(ValueError, match="es.fitness='ce' is unknown; choose one of"):
        PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), "ce", chunk_rows=64)
    for chunk_rows in (0, 1024.0):
        with pytest.raises(ValueError, match=f"es.chunk_rows={chunk_rows} must be an integer ≥ 1"):
            PopulationFitness.on_clips(
                adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=chunk_rows
            )


def test_positions_the_mask_leaves_out_do_not_count_in_kl_or_mse_rows():
    reference = torch.randn(2, 5, 7, generator=torch.Generator().manual_seed(3))
    quantized = reference + 0.1 * torch.randn(2, 5, 7, generator=torch.Generator().manual_seed(4))
    # The padding past the first clip's end, where the outputs mean nothing and may differ widely.
    quantized[0, 3:] = 5 * torch.randn(2, 7, generator=torch.Generator().manual_seed(5))
    mask = torch.arange(5) < torch.tensor([3, 5])[:, None]
    for rows in (kl_rows, mse_rows):
        masked = rows(quantized, reference, mask).tolist()
        assert masked[0] == pytest.approx(rows(quantized[:1, :3], reference[:1, :3]).item(), rel=1e-6)
        assert masked[1] == pytest.approx(rows(quantized[1:], reference[1:]).item(), rel=1e-6)
        assert rows(quantized, reference)[0].item() > 10 * masked[0]


def test_a_ctc_clip_is_scored_on_the_frames_of_its_own_waveform(tmp_path):
    adapter = CTCAdapter.load(str(save_tiny_wav2vec2_ctc(tmp_path / "ctc", ["AB C"]))).eval()
    lengths = torch.tensor([16000, 6000])
    inputs = adapter.features(torch.randn(2, 16000), lengths)
    with torch.no_grad():
        logits = adapter.logits(inputs)
    mask = adapter.output_mask(inputs, lengths)
    frames = adapter.model._get_feat_extract_output_lengths(lengths).tolist()
    assert mask.shape == logits.shape[:2] and frames[0] == logits.shape[1] > frames[1]
    assert mask.sum(dim=1).tolist() == frames and not mask[1, frames[1] :].any()


def test_task_fitness_on_transcripts_asks_for_kl_or_mse(tiny_corpora, tmp_path):
    data = data_config(tiny_corpora["asr"], "asr", batch_size=4, calib_size=4)
    datamodule = build_datamodule(data)
    transcripts = [e.target for e in datamodule.split("train")]
    adapter = CTCAdapter.load(str(save_tiny_wav2vec2_ctc(tmp_path / "ctc", transcripts))).eval()
    with pytest.raises(ValueError, match="es.fitness=task needs class targets.*kl or es.fitness=mse"):
        PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), "task", chunk_rows=64)


class SmallMemory(PopulationFitness):
    """A device that holds at most `limit` rows per forward."""

    limit = 12

    def chunk_losses(self, inputs: dict, reference: torch.Tensor, mask, chunk: torch.Tensor) -> torch.Tensor:
        if len(chunk) * len(reference) > self.limit:
            raise torch.OutOfMemoryError("simulated: too many rows for this device")
        return super().chunk_losses(inputs, reference, mask, chunk)


def test_an_out_of_memory_forward_halves_the_chunk_and_keeps_the_fitness(quantized_ast):
    adapter, datamodule = quantized_ast
    base = get_activation_scales(adapter.model)
    candidates = base * torch.exp2(
        0.3 * torch.randn(5, len(base), generator=torch.Generator().manual_seed(1))
    )
    small = SmallMemory.on_clips(adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=60)
    roomy = PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=60)
    assert_same_fitness(small(candidates), roomy(candidates))
    assert small.chunk_rows <= SmallMemory.limit < roomy.chunk_rows


def test_one_candidate_that_does_not_fit_says_to_lower_the_batch(quantized_ast):
    adapter, datamodule = quantized_ast
    tiny = SmallMemory.on_clips(adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=60)
    tiny.limit = 1
    with pytest.raises(torch.OutOfMemoryError, match="data.batch_size"):
        tiny(get_activation_scales(adapter.model)[None])


def test_float_references_are_ieee_float32_where_convolutions_default_to_tf32(quantized_ast, monkeypatch):
    adapter, datamodule = quantized_ast
    arithmetic, logits = [], adapter.logits

    def noting_logits(inputs: dict) -> torch.Tensor:
        arithmetic.append(torch.backends.cudnn.conv.fp32_precision)
        return logits(inputs)

    monkeypatch.setattr(adapter, "logits", noting_logits)
    with cuda_float32_matmuls("tf32"):  # a machine whose default is TF32
        PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=64)
        assert torch.backends.cudnn.conv.fp32_precision == "tf32", "the default comes back afterwards"
    assert arithmetic == ["ieee", "ieee"]  # two batches of six clips


def test_a_float_model_that_overflows_is_refused_naming_the_batch(quantized_ast, monkeypatch):
    adapter, datamodule = quantized_ast
    logits = adapter.logits

    def overflowing_second_batch(inputs: dict, calls=[]) -> torch.Tensor:  # noqa: B006 (counts the calls)
        calls.append(1)
        return logits(inputs) * (float("inf") if len(calls) == 2 else 1.0)

    monkeypatch.setattr(adapter, "logits", overflowing_second_batch)
    with pytest.raises(FloatingPointError, match="reference is NaN or Inf on calibration batch 2 of 2"):
        PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=64)


def test_a_candidate_whose_quantized_forward_overflows_is_counted(quantized_ast):
    adapter, datamodule = quantized_ast
    fitness = PopulationFitness.on_clips(adapter, datamodule.calibration_dataloader(), "kl", chunk_rows=64)
    outputs = fitness.outputs

    def second_candidate_overflows(inputs: dict) -> torch.Tensor:
        logits = outputs(inputs)
        return torch.cat([logits[:6], logits[6:] * float("inf")])  # six clips per batch, candidate-major

    fitness.outputs = second_candidate_overflows
    base = get_activation_scales(adapter.model)
    with pytest.raises(FloatingPointError, match="NaN or Inf for 1 of 2 candidates"):
        fitness(torch.stack([base, base]))
