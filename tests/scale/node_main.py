"""``python -m tests.scale.node_main run --workers N …``: the real ``ml-connector`` command
line with the toyledger pairing registered (a plugin registers by being imported)."""

import sys

import tests.scale.toyledger  # noqa: F401 - registers the toyledger system and pairing
from connector.cli import main

if __name__ == "__main__":
    sys.exit(main())
