"""fpanalysis: the county Civil Affairs Bureau's family-planning work plan, made computable.

The rules live in one module per policy area (``scope``, ``compliance``, ``cases``,
``bonus``, ``relief``); parameters in ``policy.yaml`` (``params``); table schemas in
``schema``; reading and writing in ``io``. See ``docs/design.md``.
"""

__version__ = "0.1.0"
