"""``python -m connector`` is the same as the ``ml-connector`` command."""

from connector.cli import main

raise SystemExit(main())
