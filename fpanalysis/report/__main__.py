"""``python -m fpanalysis.report refresh``: re-execute the committed notebooks."""

from fpanalysis.report import main

raise SystemExit(main())
