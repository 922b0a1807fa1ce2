"""ipywidgets dashboards for the analyses, one module per policy area (bonus, compliance,
relief), and what they share (:mod:`fpanalysis.widgets.common`)."""
