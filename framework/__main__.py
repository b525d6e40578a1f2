"""``python -m framework`` is the ``tradewire`` command."""

from .cli import main

raise SystemExit(main())
