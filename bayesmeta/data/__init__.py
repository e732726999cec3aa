"""Data layer: reading, validating and describing user tables and bundled datasets."""

from bayesmeta.data.binary import BinaryData, read_binary

__all__ = ["BinaryData", "read_binary"]
