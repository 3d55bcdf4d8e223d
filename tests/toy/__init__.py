"""A toy pairing that lives entirely under tests/: a system package and a flow package that
register themselves in :mod:`connector.registry` when imported, with no connector module
edited (issue 13: adding a pairing is a new system package and a new flow package)."""
