"""ServiceTitan vendors that mirror an ERP's suppliers.

A vendor the connector creates for a supplier is stamped with the supplier's code in
``externalData`` (under our application guid and a key per ERP), which is how it is found
again live; the ERP owns its name and active flag, so an update writes exactly those.
"""

from __future__ import annotations

from connector.systems.servicetitan import models as st
from connector.systems.servicetitan.client import APPLICATION_GUID, ServiceTitanClient
from connector.systems.servicetitan.resources import RESOURCES


async def update_mirrored_vendor(
    client: ServiceTitanClient, vendor_id: int, *, name: str, active: bool, origin: str
) -> None:
    """Carry the ERP supplier's name and active flag (``origin`` names it in errors)."""
    await client.update(
        RESOURCES["vendors"],
        vendor_id,
        st.VendorUpdate(name=name, active=active),
        record=f"vendor {vendor_id} ({origin})",
    )


async def create_mirrored_vendor(
    client: ServiceTitanClient, *, name: str, active: bool, key: str, code: str, origin: str
) -> int:
    """Create the vendor for an ERP supplier, stamped ``key`` = ``code``; its id."""
    return await client.create_vendor(
        st.VendorCreate(
            name=name,
            active=active,
            is_truck_replenishment=False,
            tax_rate=0.0,
            restricted_mobile_creation=False,
            address=st.VendorAddress(),
            memo=origin,
            external_data=st.ExternalDataUpdate(
                application_guid=APPLICATION_GUID,
                external_data=[st.ExternalData(key=key, value=code)],
            ),
        )
    )


async def write_mirrored_vendor(
    client: ServiceTitanClient,
    existing_id: str | None,
    *,
    name: str,
    active: bool,
    key: str,
    code: str,
    origin: str,
) -> tuple[bool, int]:
    """Update the vendor found for an ERP supplier, or create it stamped ``key`` = ``code``;
    (created, vendor id)."""
    if existing_id is not None:
        await update_mirrored_vendor(
            client, int(existing_id), name=name, active=active, origin=origin
        )
        return False, int(existing_id)
    return True, await create_mirrored_vendor(
        client, name=name, active=active, key=key, code=code, origin=origin
    )
