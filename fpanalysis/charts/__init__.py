"""Altair chart builders for the analyses: one module per policy area (bonus, compliance, relief)."""
