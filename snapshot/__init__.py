"""Snapshots by stable names (DESIGN §5).  `state` captures, checks and restores a
machine's state by name in memory; the file format, the store and the monitor
commands come next (issue 4)."""
