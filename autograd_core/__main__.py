"""``python -m autograd_core`` runs the command-line tool."""

from .cli import main

raise SystemExit(main())
