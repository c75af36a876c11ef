"""Weight post-training quantization: GPTQ and AdaRound rounding for every quantized Linear/Conv/cosine."""
