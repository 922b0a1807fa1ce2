"""``python -m fpanalysis`` runs the command line."""

from fpanalysis.cli import main

raise SystemExit(main())
