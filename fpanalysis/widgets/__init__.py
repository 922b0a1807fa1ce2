"""Layer 5, ipywidgets dashboards for the analyses, one module per policy area (``bonus``,
``compliance``, ``relief``): sliders and pickers that recompute the rules and redraw the charts
of :mod:`fpanalysis.charts`; widgets import ``core``, ``rules``, ``io`` and ``charts``.
"""
