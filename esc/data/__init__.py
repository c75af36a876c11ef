"""Speech corpora: offline synthesis in the real datasets' layouts, readers and data modules."""
