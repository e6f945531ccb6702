"""``python -m bptt ...`` runs the command line, as ``bptt ...`` does."""

from .cli import main

raise SystemExit(main())
