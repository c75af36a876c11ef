"""The results store (each run's own metrics.json) and what is drawn from it: tables, figures, W&B runs."""
