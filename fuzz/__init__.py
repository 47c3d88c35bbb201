"""Coverage-guided fuzz harnesses for the ingest containers and formats (`make fuzz`; see fuzz/run.py)."""
