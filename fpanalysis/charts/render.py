"""The notebooks' altair renderer, ``fpanalysis``: each chart saved as SVG (sharp, searchable,
what the HTML reports show) with a PNG beside it and a plain-text line instead of the chart's
``repr``. JupyterLab does not draw SVG in a notebook it does not trust (one opened from a
clone), but it does draw PNG, so the committed notebooks show their charts before they are run;
both images are drawn offline by vl-convert."""

from __future__ import annotations

import base64
from typing import Any

import altair as alt

NAME = "fpanalysis"
#: What a notebook shows for a chart where no image can be drawn.
PLAIN = "（图表 / chart）"
#: Pixels per CSS pixel of the PNG fallback.
PNG_SCALE = 1.0


def chart_bundle(spec: dict, **_: Any) -> dict[str, Any]:
    """A Vega-Lite spec as ``{"image/svg+xml", "image/png", "text/plain"}``."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec)
    png = vlc.vegalite_to_png(spec, scale=PNG_SCALE)
    return {
        "image/svg+xml": svg,
        "image/png": base64.b64encode(png).decode("ascii"),
        "text/plain": PLAIN,
    }


def enable() -> None:
    """Register and enable the renderer (in a notebook's first code cell)."""
    if NAME not in alt.renderers.names():
        alt.renderers.register(NAME, chart_bundle)
    alt.renderers.enable(NAME)
