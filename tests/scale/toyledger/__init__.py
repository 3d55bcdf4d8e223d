"""A toy pairing over real HTTP for the cluster tests: invoices of a tenant's "toyledger"
become bills in the same toyledger, exactly once.

Unlike tests/toy (in memory, one process), this one lives behind a simulator
(:mod:`.sim`) that several node processes reach over loopback, that creates a new bill on
every POST (so a duplicate write shows as a duplicate), and that counts every request per
tenant and per rolling second. :func:`register` declares the system and the pairing (the
tests do it around each test, the node processes at start), :func:`unregister` forgets
them, so no other test sees a toyledger kind in its messages.
"""

from connector import registry
from tests.scale.toyledger import flow, system


def register() -> None:
    registry.register_system(system.SPEC)
    registry.register_pairing(flow.PAIRING)


def unregister() -> None:
    registry.unregister_pairing(system.KIND, system.KIND)
    registry.unregister_system(system.KIND)
