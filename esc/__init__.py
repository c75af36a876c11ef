"""esc: evolution-strategy calibration and standard PTQ calibrators for low-bit speech models."""
