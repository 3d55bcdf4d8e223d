"""What ``ml-connector check`` verifies in M3 for servicetitan-infor, before a run finds out.

Reads only: the clearing supplier job invoices are booked against (CRS620MI/GetBasicData),
whether this M3 takes the cost-center AIT on APS450MI/AddLine (MRS001MI/LstFields), and
whether the cost-center dimension and the mapped accounts and cost centers exist
(CRS630MI/LstAccountID). Each failure says what is wrong and the exact fix.
"""

from __future__ import annotations

from connector.config import Config
from connector.flows.servicetitan_infor import mapping
from connector.registry import CheckResult
from connector.store import Store
from connector.systems.infor import M3Client

#: Status of an M3 supplier APS450MI/AddHead accepts (10 = preliminary, 90 = blocked).
DEFINITE = "20"


async def clearing_supplier(m3: M3Client, flow: str, options: mapping.Options) -> CheckResult:
    """The supplier ServiceTitan job invoices are booked against exists and is usable."""
    suno = options.invoice_supplier
    table = f"[flows.{flow}.options]"
    supplier = await m3.get_supplier(suno)
    if supplier is None:
        return CheckResult(
            "clearing supplier",
            False,
            f"supplier {suno} (invoice_supplier in {table}), which job invoices are booked "
            f"against, does not exist in M3 company {m3.company}: create it in CRS620 (e.g. "
            f"copied from {options.supplier_template}) or set invoice_supplier in {table} "
            "to an existing supplier",
        )
    if supplier.STAT != DEFINITE:
        return CheckResult(
            "clearing supplier",
            False,
            f"supplier {suno} (invoice_supplier in {table}) has status {supplier.STAT or '?'} "
            f"in M3 company {m3.company}; APS450MI/AddHead takes only suppliers in status "
            f"{DEFINITE}: set its status to {DEFINITE} in CRS620",
        )
    return CheckResult(
        "clearing supplier", True, f"supplier {suno} ({supplier.SUNM}) exists, status 20"
    )


async def accounting(
    m3: M3Client, flow: str, options: mapping.Options, config: Config, store: Store
) -> list[CheckResult]:
    """AIT support: AddLine takes the cost-center AIT (``ap_coding = "addline"``), the
    dimension has values, and every mapped account and cost center is one of them."""
    table = f"[flows.{flow}.options]"
    ait = f"AIT{options.cost_center_ait}"
    results: list[CheckResult] = []
    if options.ap_coding == "addline":
        fields = await m3.mi.call(
            "MRS001MI",
            "LstFields",
            {"MINM": "APS450MI", "TRNM": "AddLine", "TRTP": "I"},
            write=False,
            record="APS450MI/AddLine fields",
        )
        if ait not in {row.get("FLNM", "").strip() for row in fields}:
            results.append(
                CheckResult(
                    "AIT on AddLine",
                    False,
                    f"this M3's APS450MI/AddLine takes no {ait} (MRS001MI/LstFields lists "
                    f'its inputs), so ap_coding = "addline" cannot code cost centers: set '
                    f'ap_coding = "recode" in {table}',
                )
            )
        else:
            results.append(CheckResult("AIT on AddLine", True, f"APS450MI/AddLine takes {ait}"))
    centers = {a.AITM.strip() for a in await m3.accounting_ids(options.cost_center_ait)}
    if not centers:
        results.append(
            CheckResult(
                "cost center dimension",
                False,
                f"accounting dimension {ait} (cost_center_ait = {options.cost_center_ait} in "
                f"{table}) has no values in M3 company {m3.company}, so it is not where this "
                f"company keeps cost centers: set cost_center_ait in {table} to that dimension "
                "(CRS630MI/LstAccountID?AITP=1..7 lists each)",
            )
        )
        return results
    accounts = {a.AITM.strip() for a in await m3.accounting_ids(1)}
    mapped = await _mappings(config, store)
    results.append(
        _known(
            "cost centers", mapping.BU_COST_CENTER, mapped, centers, f"{ait}", m3.company, config
        )
    )
    gl = dict(mapped.get(mapping.GL_ACCOUNT, {}))
    results.append(
        _known(
            "accounts",
            mapping.GL_ACCOUNT,
            {mapping.GL_ACCOUNT: gl},
            accounts,
            "AIT1",
            m3.company,
            config,
        )
    )
    if options.default_account and options.default_account not in accounts:
        results.append(
            CheckResult(
                "accounts",
                False,
                f"default_account {options.default_account!r} in {table} is not an account "
                f"(AIT1) of M3 company {m3.company}: set it to one CRS630MI/LstAccountID?AITP=1 "
                "lists, or remove it",
            )
        )
    return results


async def _mappings(config: Config, store: Store) -> dict[str, dict[str, str]]:
    """The mappings a run would use: the stored ones, the config's winning (as on open)."""
    stored = await store.all_mappings()
    return {
        kind: {**stored.get(kind, {}), **config.mappings.get(kind, {})}
        for kind in {*stored, *config.mappings}
    }


def _known(
    what: str,
    kind: str,
    mapped: dict[str, dict[str, str]],
    values: set[str],
    dimension: str,
    company: str,
    config: Config,
) -> CheckResult:
    table = mapped.get(kind, {})
    wrong = {key: value for key, value in sorted(table.items()) if value.strip() not in values}
    if not wrong:
        return CheckResult(what, True, f"{len(table)} mapped in {kind}, every one in {dimension}")
    fixes = [
        f"{key} → {value!r}: "
        + (
            f"change it under [mappings.{kind}] in the config"
            if key in config.mappings.get(kind, {})
            else f"`ml-connector mappings set {kind} {key} <{dimension} value>`"
        )
        for key, value in list(wrong.items())[:5]
    ]
    more = f" (and {len(wrong) - 5} more)" if len(wrong) > 5 else ""
    return CheckResult(
        what,
        False,
        f"{len(wrong)} of {len(table)} {kind} mappings name a value that is not in "
        f"{dimension} of M3 company {company}: {'; '.join(fixes)}{more}",
    )
