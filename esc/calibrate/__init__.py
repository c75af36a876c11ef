"""Choosing activation scales: the standard calibrators (`standard`) and ESC (`esc`), between which
`esc.pipeline.calibrate` picks by `calibrator.name`."""
