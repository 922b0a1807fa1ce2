"""Layer 4, altair chart builders for the analyses, one module per policy area (``bonus``,
``compliance``, ``relief``), each drawn from the frames of :mod:`fpanalysis.rules`; charts
import ``core``, ``rules`` and ``charts`` only.
"""
