"""Presentation layer: text tables, written outputs (JSON/CSV), plots and reports."""
