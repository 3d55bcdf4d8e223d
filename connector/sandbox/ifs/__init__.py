"""Simulator of IFS Cloud: IFS IAM (Keycloak) and OData v4 projections with strict ETags.

Written from ``systems/ifs.md`` and the IFS projection sources it cites (see
``simulator.py`` for the routes); it imports nothing from ``connector.systems`` or
``connector.flows``.
"""

from connector.sandbox.ifs.knobs import IfsKnobs
from connector.sandbox.ifs.simulator import IfsSimulator

__all__ = ["IfsKnobs", "IfsSimulator"]
