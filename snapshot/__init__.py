"""Snapshots by stable names (DESIGN §5).  Not built yet: see issue 4."""
