"""Simulator of Acumatica ERP's contract-based REST API (see ``simulator.py`` for the routes).

Written from ``systems/acumatica.md`` and Acumatica's own OpenAPI definition of the
``Default/24.200.001`` endpoint; it imports nothing from ``connector.systems`` or
``connector.flows``.
"""

from connector.sandbox.acumatica.knobs import AcumaticaKnobs
from connector.sandbox.acumatica.simulator import AcumaticaSimulator

__all__ = ["AcumaticaKnobs", "AcumaticaSimulator"]
