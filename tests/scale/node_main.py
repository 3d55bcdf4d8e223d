"""``python -m tests.scale.node_main run --workers N …``: the real ``ml-connector`` command
line with the toyledger system and pairing registered, as a plugin would."""

import sys

from connector.cli import main
from tests.scale import toyledger

if __name__ == "__main__":
    toyledger.register()
    sys.exit(main())
