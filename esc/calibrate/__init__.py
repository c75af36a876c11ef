"""Choosing activation scales: the standard calibrators and ESC, behind one entry point."""
