"""The ServiceNow simulator (Table API, Import Set API, OAuth); see :mod:`.simulator`."""

from connector.sandbox.servicenow.simulator import ServiceNowSimulator

__all__ = ["ServiceNowSimulator"]
