"""The console scripts: Hydra apps over conf/."""
