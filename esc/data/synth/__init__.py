"""Offline corpus synthesis with eSpeak NG, written in the real datasets' on-disk layouts."""
