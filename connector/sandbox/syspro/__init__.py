"""SYSPRO 8: e.net Solutions REST (business objects over XML) and the read-only OData service.

See :mod:`.simulator` for the routes and the SYSPRO sheet (shared/systems/syspro.md) for
the rules it enforces.
"""

from connector.sandbox.syspro.simulator import SysproSimulator

__all__ = ["SysproSimulator"]
