"""Speech models behind one adapter: hub checkpoints and embedded zoo models alike."""
