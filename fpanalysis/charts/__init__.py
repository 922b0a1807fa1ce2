"""Altair chart builders for the analyses, one module per policy area (bonus, compliance,
relief); the notebooks' renderer (SVG with a PNG beside it) and the HTML tables and conclusion
boxes of reports and dashboards (:mod:`fpanalysis.charts.tables`)."""
