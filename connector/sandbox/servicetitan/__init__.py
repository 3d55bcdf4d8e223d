"""ServiceTitan simulator (see :mod:`.simulator`); the registry loads it from here."""

from connector.sandbox.servicetitan.simulator import ServiceTitanSimulator

__all__ = ["ServiceTitanSimulator"]
