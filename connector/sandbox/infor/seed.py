"""Reference data and deterministic sample data of an HVAC distributor's M3 tenant.

Reference data is always present (after reset too): companies 100 (the customer's, divisions
AAA/BBB), 200 (the service account's default company, division HLD) and 300 (exists, not
authorized); per authorized company the item types, accounting rules, AIT1 accounts, AIT2
cost centers and a ``TEMPLATE`` supplier whose fields clients may copy into AddSupplier.
``seed`` adds suppliers, items and POs, all from ``random.Random(seed)``: same seed, same data.
Company 200 gets a few look-alike records so a client that forgets ``cono`` reads
plausible but wrong data, which ``/_sandbox/state`` then shows under CONO 200.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import msgspec

from connector.sandbox.infor.data import Book, Company, M3Database, PurchaseOrder, Row

USER = "MLCONNECT"
CUSTOMER_CONO = "100"
DEFAULT_CONO = "200"
DEFAULT_DIVI = "HLD"
CENT = Decimal("0.01")


class SeedCounts(msgspec.Struct, forbid_unknown_fields=True):
    """How many records ``POST /_sandbox/seed`` generates in company 100."""

    suppliers: int = 200
    items: int = 300
    purchase_orders: int = 100
    accounts: int = 30
    cost_centers: int = 12


class SeedRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /_sandbox/seed``."""

    seed: int = 0
    counts: SeedCounts = msgspec.field(default_factory=SeedCounts)


ACCOUNTS = (
    # The first six are needed by the posting rules and are always seeded.
    ("1510", "Sales tax receivable"),
    ("2010", "Accounts payable - trade"),
    ("5010", "COGS - materials"),
    ("5020", "COGS - service labor"),
    ("5030", "COGS - subcontractors"),
    ("5040", "Freight in"),
    ("4010", "Revenue - equipment sales"),
    ("4020", "Revenue - service calls"),
    ("4030", "Revenue - maintenance agreements"),
    ("4040", "Revenue - installation"),
    ("1010", "Cash - operating account"),
    ("1200", "Accounts receivable"),
    ("1400", "Inventory - equipment and parts"),
    ("1410", "Inventory - refrigerant"),
    ("1600", "Vehicles"),
    ("2100", "Accrued payroll"),
    ("2200", "Sales tax payable"),
    ("2300", "Customer deposits"),
    ("3010", "Retained earnings"),
    ("5050", "Warranty costs"),
    ("6010", "Rent"),
    ("6020", "Utilities"),
    ("6030", "Vehicle fuel"),
    ("6040", "Vehicle maintenance"),
    ("6050", "Tools and small equipment"),
    ("6060", "Training"),
    ("6070", "Insurance"),
    ("6080", "Office supplies"),
    ("6090", "Software subscriptions"),
    ("6100", "Advertising"),
)
COST_CENTERS = (
    # The first five are needed by the posting rules and are always seeded.
    ("CC100", "Installation"),
    ("CC110", "Service"),
    ("CC150", "Warehouse"),
    ("CC160", "Fleet"),
    ("CC180", "Administration"),
    ("CC120", "Maintenance agreements"),
    ("CC130", "Commercial HVAC"),
    ("CC140", "Residential HVAC"),
    ("CC170", "Sales"),
    ("CC190", "IT"),
    ("CC200", "Training"),
    ("CC210", "Parts counter"),
)
CORE_ACCOUNTS, CORE_COST_CENTERS = 6, 5
#: Supplier accounting template (REGR) → (AIT1 expense account, AIT2 cost center).
ACCOUNTING_RULES = {
    "": ("5010", "CC180"),
    "MAT": ("5010", "CC150"),
    "SRV": ("5020", "CC110"),
    "SUB": ("5030", "CC100"),
    "FRT": ("5040", "CC160"),
}
ITEM_TYPES = (
    ("HVA", "HVAC equipment", "EA", "EQP"),
    ("PRT", "Repair parts", "EA", "PRT"),
    ("CON", "Consumables", "EA", "CON"),
    ("SRV", "Service items", "HR", "SRV"),
)
#: Manufacturers and distributors an HVAC contractor buys from, "|"-separated.
SUPPLIER_NAMES = tuple(
    (
        "Carrier Corporation|Trane Technologies|Lennox International|Daikin Applied|"
        "Goodman Manufacturing|Rheem Manufacturing|Johnson Controls York|"
        "Mitsubishi Electric Trane|Resideo Honeywell Home|Copeland|Danfoss|"
        "Belimo Americas|Aprilaire|Ferguson HVAC|Johnstone Supply|RectorSeal|"
        "Nortek Global HVAC|Fujitsu General America|LG Electronics HVAC|"
        "Bosch Thermotechnology|Navien|Taco Comfort Solutions|Bell & Gossett|"
        "Grundfos Pumps|Armstrong Fluid Technology|Sporlan Parker|Supco|DiversiTech|"
        "Mueller Industries|Southwire|Nu-Calgon|Fieldpiece Instruments|Testo|"
        "Ritchie Yellow Jacket|Malco Products|Hart & Cooley|Broan-NuTone|Field Controls|"
        "Little Giant Pumps|Heil Quaker|Ruud|Amana|Bryant|American Standard|Mestek|"
        "Modine|Reznor|Weil-McLain"
    ).split("|")
)
REGIONS = ("Dallas", "Houston", "Atlanta", "Chicago", "Phoenix", "Denver", "Tampa", "Ohio")
STATES = ("TX", "GA", "IL", "AZ", "CO", "FL", "OH", "CA", "PA", "NY")
ITEM_FAMILIES = (
    ("CND", "HVA", "Condenser {t} ton {s} SEER2", "EA", 1800, 4200),
    ("AHU", "HVA", "Air handler {t} ton var speed", "EA", 1100, 2600),
    ("FUR", "HVA", "Gas furnace {k}k BTU 96% AFUE", "EA", 1200, 2900),
    ("HPM", "HVA", "Heat pump {t} ton {s} SEER2", "EA", 2400, 5200),
    ("TST", "PRT", "Thermostat Wi-Fi {z}-stage", "EA", 80, 320),
    ("FLT", "CON", "Filter MERV {m} {w}x{h}x1", "EA", 6, 28),
    ("REF", "CON", "Refrigerant R-454B 25 lb", "EA", 180, 420),
    ("LNS", "PRT", "Line set 3/8x3/4 {l} ft", "EA", 90, 260),
    ("CAP", "PRT", "Run capacitor {u}/5 MFD 440V", "EA", 9, 45),
    ("CTR", "PRT", "Contactor 2P {a}A 24V coil", "EA", 12, 60),
    ("MTR", "PRT", "Condenser fan motor 1/{p} HP", "EA", 85, 310),
    ("DCT", "CON", "Flex duct {d} in x 25 ft", "EA", 35, 120),
    ("PMP", "PRT", "Condensate pump 115V", "EA", 45, 140),
)


def build_database() -> M3Database:
    """A database holding only the reference data (what ``reset`` restores)."""
    db = M3Database(USER, DEFAULT_CONO, DEFAULT_DIVI)
    db.add_company(
        Company(
            "100",
            "ACME Heating & Cooling Inc.",
            "US",
            "USD",
            {"AAA": "ACME East", "BBB": "ACME West"},
            authorized=True,
        )
    )
    db.add_company(
        Company(
            DEFAULT_CONO,
            "ACME Holding (service default)",
            "US",
            "USD",
            {DEFAULT_DIVI: "Holding"},
            authorized=True,
        )
    )
    db.add_company(
        Company("300", "ACME Canada Ltd.", "CA", "CAD", {"CAN": "Canada"}, authorized=False)
    )
    for cono in ("100", DEFAULT_CONO):
        _load_reference(db, cono, SeedCounts())
    return db


def _stamped(row: Row, rng: random.Random, day: dt.date) -> Row:
    """Audit fields of a record that was last changed on ``day`` (deterministic)."""
    epoch_ms = int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp() * 1000)
    row.update(
        {
            "LMDT": day.strftime("%Y%m%d"),
            "LMTS": str(epoch_ms + rng.randrange(86_400_000)),
            "CHNO": str(rng.randint(1, 6)),
            "CHID": rng.choice(("JSMITH", "MLOPEZ", "KNGUYEN")),
            "RGDT": (day - dt.timedelta(days=rng.randint(0, 400))).strftime("%Y%m%d"),
            "RGTM": f"{rng.randint(6, 18):02d}{rng.randint(0, 59):02d}00",
        }
    )
    return row


def _day_2024(rng: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(366))


def _load_reference(db: M3Database, cono: str, counts: SeedCounts) -> None:
    book = db.book(cono)
    rng = random.Random(f"reference-{cono}")
    book.accounting.clear()
    accounts = list(ACCOUNTS[: max(counts.accounts, CORE_ACCOUNTS)])
    accounts += [
        (f"69{n:02d}", f"Miscellaneous expense {n}") for n in range(counts.accounts - len(accounts))
    ]
    centers = list(COST_CENTERS[: max(counts.cost_centers, CORE_COST_CENTERS)])
    centers += [
        (f"CC{300 + n}", f"Branch {n + 1}") for n in range(counts.cost_centers - len(centers))
    ]
    for aitp, identities in (("1", accounts), ("2", centers)):
        for aitm, name in identities:
            book.accounting[(aitp, aitm)] = _stamped(
                {
                    "DIVI": "",
                    "AITP": aitp,
                    "AITM": aitm,
                    "TX40": name,
                    "TX15": name[:15],
                    "STAT": "20",
                },
                rng,
                dt.date(2023, 1, 2),
            )
    book.accounting_rules = dict(ACCOUNTING_RULES)
    book.item_types = {
        itty: {
            "ITTY": itty,
            "TX40": name,
            "UNMS": unit,
            "PUUN": unit,
            "ITGR": group,
            "ITCL": "STD",
            "RESP": "PURCH01",
            "MABU": "2",
            "PRVG": "STD",
            "STAT": "20",
            "NUMBER_PREFIX": itty,
        }
        for itty, name, unit, group in ITEM_TYPES
    }
    book.suppliers["TEMPLATE"] = _stamped(
        _supplier_row(cono, "TEMPLATE", "Template - HVAC trade supplier", "MAT", "TX", rng)
        | {"STAT": "10"},
        rng,
        dt.date(2023, 1, 2),
    )


def _supplier_row(
    cono: str, suno: str, name: str, regr: str, state: str, rng: random.Random
) -> Row:
    return {
        "CONO": cono,
        "SUNO": suno,
        "SUNM": name[:36],
        "SUTY": "1",
        "CSCD": "US",
        "ECAR": state,
        "LNCD": "GB",
        "DTFM": "MDY",
        "MEPF": "*MAIL",
        "SUCL": "HVA",
        "QUCL": "A",
        "ORTY": "PP1",
        "TEDL": "FOB",
        "MODL": "TRK",
        "TEAF": "PPD",
        "TEPA": "STD",
        "DT4T": "1",
        "DTCD": "1",
        "CUCD": "USD",
        "CRTP": "1",
        "TEPY": rng.choice(("N30", "N45", "N60")),
        "PYME": rng.choice(("ACH", "CHK")),
        "ATPR": "0",
        "ACRF": "AP01",  # accounting control object: mandatory on AddSupplier
        "VTCD": "0",
        "VRNO": "",
        "TINO": f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
        "PRSU": suno,
        "REGR": regr,
        "STAT": "20",
        "PHNO": f"214-555-{rng.randint(1000, 9999)}",
        "ADR1": f"{rng.randint(100, 9999)} Industrial Blvd",
        "TOWN": rng.choice(REGIONS),
        "PONO": f"{rng.randint(10000, 99999)}",
    }


def seed_database(request: SeedRequest) -> tuple[M3Database, dict[str, int]]:
    """A fresh database with reference data plus the requested sample data, and the counts
    of what was made. The simulator swaps it in whole, so seeding also clears old writes."""
    db = build_database()
    counts = request.counts
    _load_reference(db, CUSTOMER_CONO, counts)
    rng = random.Random(request.seed)
    book = db.book(CUSTOMER_CONO)
    _seed_suppliers(book, rng, counts.suppliers)
    _seed_items(book, rng, counts.items)
    _seed_orders(db, book, rng, counts.purchase_orders)
    _seed_lookalikes(db.book(CUSTOMER_CONO), db.book(DEFAULT_CONO))
    return db, {
        "suppliers": len(book.suppliers) - 1,
        "items": len(book.items),
        "purchase_orders": len(book.purchase_orders),
        "accounts": sum(1 for aitp, _ in book.accounting if aitp == "1"),
        "cost_centers": sum(1 for aitp, _ in book.accounting if aitp == "2"),
    }


def _seed_suppliers(book: Book, rng: random.Random, count: int) -> None:
    for n in range(count):
        base = SUPPLIER_NAMES[n % len(SUPPLIER_NAMES)]
        lap = n // len(SUPPLIER_NAMES)
        name = base if lap == 0 else f"{base} {REGIONS[(lap - 1) % len(REGIONS)]}"
        suno = f"SUP{n + 1:05d}"
        row = _supplier_row(
            "100",
            suno,
            name,
            rng.choice(("MAT", "MAT", "SRV", "SUB", "FRT")),
            rng.choice(STATES),
            rng,
        )
        if rng.random() < 0.03:
            row["STAT"] = "90"
        book.suppliers[suno] = _stamped(row, rng, _day_2024(rng))


def _seed_items(book: Book, rng: random.Random, count: int) -> None:
    for n in range(count):
        prefix, itty, pattern, unit, low, high = ITEM_FAMILIES[n % len(ITEM_FAMILIES)]
        description = pattern.format(
            t=rng.choice((1.5, 2, 2.5, 3, 4, 5)),
            s=rng.choice((14, 15, 16, 17)),
            k=rng.choice((40, 60, 80, 100, 120)),
            z=rng.choice((1, 2, 3)),
            m=rng.choice((8, 11, 13)),
            w=rng.choice((16, 20, 25)),
            h=rng.choice((20, 25)),
            l=rng.choice((15, 25, 35, 50)),
            u=rng.choice((35, 40, 45, 55)),
            a=rng.choice((30, 40)),
            p=rng.choice((4, 3, 2)),
            d=rng.choice((6, 8, 10)),
        )
        itno = f"{prefix}-{n + 1:05d}"
        price = Decimal(rng.uniform(low, high)).quantize(CENT)
        row: Row = {
            "CONO": "100",
            "ITNO": itno,
            "ITDS": description[:30],
            "FUDS": f"{description} - stocked by ACME branches",
            "STAT": "20",
            "ITTY": itty,
            "UNMS": unit,
            "ITGR": prefix,
            "ITCL": rng.choice(("RES", "COM")),
            "RESP": "PURCH01",
            "MABU": "2",
            "PRVG": "STD",
            "ITNE": "",
            "PUUN": unit,
            "SALE": "1",
            "PUPR": str(price),
        }
        book.items[itno] = _stamped(row, rng, _day_2024(rng))


def _seed_orders(db: M3Database, book: Book, rng: random.Random, count: int) -> None:
    suppliers = [s for k, s in sorted(book.suppliers.items()) if s["STAT"] == "20"]
    items = [book.items[k] for k in sorted(book.items)]
    if not suppliers or not items:
        return
    for _ in range(count):
        supplier = rng.choice(suppliers)
        day = _day_2024(rng)
        puno = db.take_puno()
        status = rng.choice(("20", "35", "50", "85"))
        head: Row = {
            "CONO": "100",
            "PUNO": puno,
            "SUNO": supplier["SUNO"],
            "ORTY": "PP1",
            "FACI": "F01",
            "WHLO": rng.choice(("W01", "W02")),
            "PUDT": day.strftime("%Y%m%d"),
            "DWDT": (day + dt.timedelta(days=rng.randint(7, 30))).strftime("%Y%m%d"),
            "CUCD": supplier["CUCD"],
            "BUYE": "BUYER01",
            "TEPY": supplier["TEPY"],
            "YRE1": "",
            "OURR": "",
            "PUSL": status,
            "PUST": status,
        }
        order = PurchaseOrder(_stamped(head, rng, day))
        for index in range(rng.randint(1, 4)):
            item = rng.choice(items)
            quantity = rng.randint(1, 20)
            price = Decimal(item["PUPR"])
            order.lines.append(
                _stamped(
                    {
                        "CONO": "100",
                        "PUNO": puno,
                        "PNLI": str(10 * (index + 1)),
                        "PNLS": "0",
                        "ITNO": item["ITNO"],
                        "PITD": item["ITDS"],
                        "ORQA": str(quantity),
                        "PUPR": str(price),
                        "PUUN": item["PUUN"],
                        "PPUN": item["PUUN"],
                        "LNAM": str((price * quantity).quantize(CENT)),
                        "DWDT": head["DWDT"],
                        "PUSL": status,
                        "PUST": status,
                        "SUNO": head["SUNO"],
                        "FACI": "F01",
                        "WHLO": head["WHLO"],
                        "VTCD": "0",
                        "COCE": "",
                    },
                    rng,
                    day,
                )
            )
        head["LNAM"] = str(sum((Decimal(ln["LNAM"]) for ln in order.lines), Decimal(0)))
        book.purchase_orders[puno] = order


def _seed_lookalikes(source: Book, target: Book) -> None:
    """Copy a few records into the default company under visibly different names."""
    for suno in sorted(source.suppliers)[:5]:
        if suno != "TEMPLATE":
            row = dict(source.suppliers[suno])
            row.update({"CONO": DEFAULT_CONO, "SUNM": f"HOLDING {row['SUNM']}"[:36]})
            target.suppliers[suno] = row
    for itno in sorted(source.items)[:5]:
        row = dict(source.items[itno])
        row.update({"CONO": DEFAULT_CONO, "ITDS": f"HOLDING {row['ITDS']}"[:30]})
        target.items[itno] = row
