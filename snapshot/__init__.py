"""Snapshots by stable names (DESIGN §5).  `schema` declares state (Field, Section)
and validates values against the declarations; `state` captures, checks and
restores a machine's state by name in memory; `format` is the file, `store` the
directory of named snapshots that savevm/loadvm use."""
