"""A toy pairing over real HTTP for the cluster tests: invoices of a tenant's "toyledger"
become bills in the same toyledger, exactly once.

Unlike tests/toy (in memory, one process), this one lives behind a simulator
(:mod:`.sim`) that several node processes reach over loopback, that creates a new bill on
every POST (so a duplicate write shows as a duplicate), and that counts every request per
tenant and per rolling second. Importing the package registers the system and the pairing.
"""

from tests.scale.toyledger import flow, system

__all__ = ["flow", "system"]
