"""Realistic names and prices for a Denver HVAC/plumbing contractor ("Summit Comfort").

Pure data: the seeder draws from these with a seeded ``random.Random`` so the same seed
always yields the same tenant. Prices are 2025 list prices rounded to what a supply house
would quote; the pricebook marks materials up 1.6–2.4x and equipment 1.5–2.0x.
"""

from __future__ import annotations

COMPANY = "Summit Comfort Services LLC"
TENANT_NAME = "Summit Comfort Services"

#: (name, trade) — trade picks the revenue account and the kind of work on invoices.
BUSINESS_UNITS: tuple[tuple[str, str], ...] = (
    ("HVAC Service - North", "HVAC"),
    ("HVAC Service - South", "HVAC"),
    ("HVAC Install", "HVAC"),
    ("Plumbing Service", "Plumbing"),
    ("Plumbing Install", "Plumbing"),
    ("Drains & Sewer", "Plumbing"),
    ("Commercial HVAC", "HVAC"),
    ("Electrical Service", "Electrical"),
    ("Water Heaters", "Plumbing"),
    ("Indoor Air Quality", "HVAC"),
)

TRADES = {"HVAC": 1, "Plumbing": 2, "Electrical": 3}

#: (zone name, combined sales tax rate in percent)
TAX_ZONES: tuple[tuple[str, float], ...] = (
    ("Denver City & County", 8.81),
    ("Aurora", 8.0),
    ("Lakewood", 7.5),
    ("Littleton", 7.25),
    ("Arvada", 7.96),
    ("Westminster", 8.6),
    ("Englewood", 7.5),
    ("Thornton", 8.0),
)

#: (number, name, type, subtype, defaultAccountType or None)
GL_ACCOUNTS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("4000", "Service Revenue - HVAC", "Income", "Service/Fee Income", "Revenue"),
    ("4010", "Install Revenue - HVAC", "Income", "Sales of Product Income", None),
    ("4100", "Service Revenue - Plumbing", "Income", "Service/Fee Income", None),
    ("4110", "Install Revenue - Plumbing", "Income", "Sales of Product Income", None),
    ("4300", "Service Revenue - Electrical", "Income", "Service/Fee Income", None),
    ("5000", "Cost of Goods Sold - Materials", "Cost of Goods Sold", "Supplies & Materials - COGS",
     "CostOfGoodsSoldMaterials"),
    ("5010", "Cost of Goods Sold - Equipment", "Cost of Goods Sold", "Supplies & Materials - COGS",
     "CostOfGoodsSoldEquipment"),
    ("1400", "Inventory Asset", "Other Current Asset", "Inventory", "Inventory"),
    ("2000", "Accounts Payable", "Accounts Payable", "Accounts Payable (A/P)", "AccountsPayable"),
    ("1200", "Accounts Receivable", "Accounts Receivable", "Accounts Receivable (A/R)",
     "AccountsReceivable"),
    ("1000", "Operating Checking", "Bank", "Checking", "CheckingAccount"),
    ("1050", "Undeposited Funds", "Other Current Asset", "Undeposited Funds", "UndepositedFunds"),
    ("2200", "Sales Tax Payable", "Other Current Liability", "Sales Tax Payable",
     "SalesTaxPayable"),
    ("2300", "Customer Deposits", "Other Current Liability", "Other Current Liabilities",
     "CustomerDeposits"),
    ("4500", "Membership Revenue", "Income", "Service/Fee Income", "MembershipRevenue"),
    ("5020", "Cost of Goods Sold - Freight", "Cost of Goods Sold", "Shipping, Freight & Delivery",
     "CostOfGoodsSoldShipping"),
    ("5100", "Direct Labor", "Cost of Goods Sold", "Cost of Labor - COS", "CostOfGoodsSoldLabor"),
    ("6100", "Vehicle Expense", "Expense", "Auto", None),
    ("6200", "Shop Supplies", "Expense", "Supplies & Materials", None),
    ("6400", "Inventory Adjustments", "Expense", "Other Miscellaneous Service Cost",
     "InventoryAdjustments"),
    ("6500", "Tools & Small Equipment", "Expense", "Equipment Rental", None),
    ("2100", "Goods Received Not Invoiced", "Other Current Liability", "Other Current Liabilities",
     "GoodsReceivedNotInvoiced"),
    ("6600", "Merchant Processing Fees", "Expense", "Bank Charges", "ProcessingFees"),
    ("3000", "Retained Earnings", "Equity", "Retained Earnings", "RetainedEarnings"),
)

#: Revenue account number per trade and kind of line.
REVENUE_ACCOUNT = {
    ("HVAC", "service"): "4000",
    ("HVAC", "install"): "4010",
    ("Plumbing", "service"): "4100",
    ("Plumbing", "install"): "4110",
    ("Electrical", "service"): "4300",
    ("Electrical", "install"): "4300",
}

VENDORS: tuple[str, ...] = (
    "Ferguson Enterprises", "Johnstone Supply", "Carrier Enterprise", "Winsupply",
    "Hajoca Plumbing Supply", "Lennox PartsPlus", "Trane Supply", "Goodman Distribution",
    "Daikin Comfort Technologies", "Rheem Pro Partner Supply", "Grainger", "Home Depot Pro",
    "Baker Distributing", "United Refrigeration", "RE Michel Company", "Watsco",
    "Gensco", "Keller Supply", "Consolidated Supply", "Coburn Supply", "Moore Supply",
    "Morrison Supply", "Dakota Supply Group", "Locke Supply", "Wittichen Supply",
    "Robertson Heating Supply", "F.W. Webb Company", "Plumbers Supply Co", "Sid Harvey Industries",
    "Habegger Corporation", "Auer Steel & Heating Supply", "Slakey Brothers", "Russell Sigler",
    "Geary Pacific Supply", "Insco Distributing", "Mingledorff's", "Shearer Supply",
    "Century A/C Supply", "Crescent Electric Supply", "Rocky Mountain Plumbing Wholesale",
)

BRANCH_CITIES = (
    "Denver", "Aurora", "Colorado Springs", "Boulder", "Fort Collins", "Lakewood",
    "Englewood", "Pueblo", "Greeley", "Longmont",
)

#: Material code prefixes by trade (the rest are HVAC): decides revenue accounts and which
#: jobs use them.
PLUMBING_PREFIXES = frozenset({
    "CUE", "CUC", "CUT", "PVW", "PVT", "WAX", "TFL", "TFV", "ANO", "GFC", "EXT", "PEX", "BVL",
    "PRV", "SMP", "GDS", "CRT",
})
ELECTRICAL_PREFIXES = frozenset({"DSC", "WHP", "BRK", "GFI"})

#: (description, cost low, cost high, unit of measure, code prefix); "{size}" expands.
MATERIALS: tuple[tuple[str, float, float, str, str, tuple[str, ...]], ...] = (
    ("{size} Pleated Filter MERV 11", 4.5, 21.0, "Each", "FLT",
     ("16x25x1", "20x25x1", "16x20x1", "20x20x1", "14x25x1", "16x25x4", "20x25x4", "20x20x4")),
    ("{size} Copper Elbow 90", 0.9, 7.5, "Each", "CUE", ("1/2in", "3/4in", "1in", "1-1/4in")),
    ("{size} Copper Coupling", 0.6, 5.2, "Each", "CUC", ("1/2in", "3/4in", "1in")),
    ("{size} Copper Tee", 1.4, 9.8, "Each", "CUT", ("1/2in", "3/4in", "1in")),
    ("{size} PVC DWV Wye", 3.2, 18.5, "Each", "PVW", ("1-1/2in", "2in", "3in", "4in")),
    ("{size} PVC Sanitary Tee", 2.8, 15.9, "Each", "PVT", ("1-1/2in", "2in", "3in", "4in")),
    ("{size} MFD 440V Dual Run Capacitor", 11.0, 26.0, "Each", "CAP",
     ("35/5", "40/5", "45/5", "55/5", "60/5", "70/5")),
    ("{size} 24V Contactor", 12.5, 31.0, "Each", "CON", ("30A 1-Pole", "30A 2-Pole", "40A 2-Pole")),
    ("R-410A Refrigerant {size} Cylinder", 165.0, 310.0, "Each", "REF", ("25 lb",)),
    ("R-454B Refrigerant {size} Cylinder", 240.0, 380.0, "Each", "REF", ("20 lb",)),
    ("Hard Start Kit {size}", 18.0, 34.0, "Each", "HSK", ("5-2-1", "SPP6")),
    ("Condensate Pump {size}", 48.0, 92.0, "Each", "CDP", ("120V", "230V")),
    ("Thermostat Wire {size}", 42.0, 118.0, "Roll", "TWR", ("18/5 250ft", "18/8 250ft")),
    ("Hot Surface Ignitor {size}", 19.0, 46.0, "Each", "IGN", ("Universal", "Silicon Nitride")),
    ("Flame Sensor {size}", 8.5, 21.0, "Each", "FLS", ("Universal",)),
    ("Blower Motor {size}", 165.0, 420.0, "Each", "BLM",
     ("1/3 HP 115V", "1/2 HP 115V", "3/4 HP 230V")),
    ("Condenser Fan Motor {size}", 98.0, 240.0, "Each", "CFM", ("1/4 HP 230V", "1/3 HP 230V")),
    ("Wax Ring with Flange {size}", 3.1, 7.9, "Each", "WAX", ("Standard", "Extra Thick")),
    ("Toilet Flapper {size}", 4.2, 11.5, "Each", "TFL", ("2in Universal", "3in Universal")),
    ("Toilet Fill Valve {size}", 8.9, 19.0, "Each", "TFV", ("Universal",)),
    ("Water Heater Anode Rod {size}", 22.0, 48.0, "Each", "ANO",
     ("Magnesium 44in", "Aluminum 44in")),
    ("Gas Flex Connector {size}", 11.0, 27.0, "Each", "GFC", ("1/2in x 24in", "3/4in x 36in")),
    ("Expansion Tank {size}", 36.0, 89.0, "Each", "EXT", ("2 Gal", "4.5 Gal")),
    ("PEX-A Tubing {size}", 38.0, 165.0, "Roll", "PEX", ("1/2in x 100ft", "3/4in x 100ft")),
    ("Ball Valve {size} Sweat", 9.5, 38.0, "Each", "BVL", ("1/2in", "3/4in", "1in")),
    ("Pressure Reducing Valve {size}", 78.0, 165.0, "Each", "PRV", ("3/4in", "1in")),
    ("Sump Pump {size}", 145.0, 320.0, "Each", "SMP", ("1/3 HP", "1/2 HP")),
    ("Garbage Disposal {size}", 110.0, 260.0, "Each", "GDS", ("1/2 HP", "3/4 HP")),
    ("Faucet Cartridge {size}", 14.0, 36.0, "Each", "CRT", ("Moen 1222", "Delta RP46074")),
    ("Line Set {size}", 118.0, 265.0, "Each", "LNS", ("3/8 x 3/4 x 25ft", "3/8 x 7/8 x 50ft")),
    ("Foil Tape {size}", 7.8, 16.0, "Roll", "FTP", ("2.5in x 60yd",)),
    ("Duct Mastic {size}", 14.5, 31.0, "Each", "MST", ("1 Gal",)),
    ("Flex Duct R8 {size}", 32.0, 64.0, "Each", "FLX", ("6in x 25ft", "8in x 25ft")),
    ("Smart Thermostat {size}", 129.0, 215.0, "Each", "TST", ("Wi-Fi", "Wi-Fi with Sensor")),
    ("HVAC Surge Protector {size}", 38.0, 79.0, "Each", "SRG", ("240V",)),
    ("Non-Fused Disconnect {size}", 14.0, 34.0, "Each", "DSC", ("60A",)),
    ("Liquid-Tight Whip {size}", 12.0, 26.0, "Each", "WHP", ("3/4in x 6ft",)),
    ("Circuit Breaker {size}", 7.5, 29.0, "Each", "BRK",
     ("20A 1-Pole", "30A 2-Pole", "40A 2-Pole")),
    ("GFCI Receptacle {size}", 16.0, 28.0, "Each", "GFI", ("20A",)),
    ("UV Air Purifier Bulb {size}", 55.0, 120.0, "Each", "UVB", ("16in", "24in")),
)

#: (name template, cost low, cost high, manufacturer pool, sizes)
EQUIPMENT: tuple[tuple[str, float, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("{brand} {size} Ton 16 SEER2 AC Condenser", 2100.0, 4300.0,
     ("Carrier", "Trane", "Lennox", "Goodman", "Rheem", "Daikin", "Bryant", "American Standard"),
     ("1.5", "2", "2.5", "3", "3.5", "4", "5")),
    ("{brand} {size} Ton 15 SEER2 Heat Pump", 2400.0, 4900.0,
     ("Carrier", "Trane", "Lennox", "Goodman", "Rheem", "Daikin"),
     ("2", "2.5", "3", "3.5", "4", "5")),
    ("{brand} {size}k BTU 96% AFUE Gas Furnace", 1350.0, 2900.0,
     ("Carrier", "Trane", "Lennox", "Goodman", "Rheem", "Ruud", "York"),
     ("40", "60", "80", "100", "120")),
    ("{brand} {size} Gal Gas Water Heater", 780.0, 1650.0,
     ("Rheem", "A.O. Smith", "Bradford White", "State"), ("40", "50", "75")),
    ("{brand} {size}k BTU Tankless Water Heater", 1350.0, 2600.0,
     ("Navien", "Rinnai", "Noritz"), ("160", "180", "199")),
    ("{brand} {size} Ton Cased Evaporator Coil", 520.0, 1150.0,
     ("Carrier", "Goodman", "Lennox", "Rheem"), ("2", "3", "4", "5")),
    ("{brand} {size}k BTU Ductless Mini-Split", 1250.0, 2800.0,
     ("Mitsubishi", "Fujitsu", "Daikin", "LG"), ("9", "12", "18", "24")),
    ("{brand} {size} Whole-Home Humidifier", 240.0, 520.0,
     ("Aprilaire", "Honeywell"), ("Bypass", "Steam")),
)

#: (name, price, hours, trade)
SERVICES: tuple[tuple[str, float, float, str], ...] = (
    ("Diagnostic Fee - HVAC", 89.0, 0.5, "HVAC"),
    ("AC Tune-Up", 129.0, 1.0, "HVAC"),
    ("Furnace Safety Inspection", 119.0, 1.0, "HVAC"),
    ("Capacitor Replacement Labor", 145.0, 0.5, "HVAC"),
    ("Refrigerant Recharge per lb", 95.0, 0.25, "HVAC"),
    ("Thermostat Installation", 175.0, 1.0, "HVAC"),
    ("Blower Motor Replacement Labor", 385.0, 2.0, "HVAC"),
    ("Inducer Motor Replacement Labor", 345.0, 2.0, "HVAC"),
    ("Flame Sensor Cleaning", 99.0, 0.5, "HVAC"),
    ("Ignitor Replacement Labor", 165.0, 0.75, "HVAC"),
    ("Condenser Coil Cleaning", 189.0, 1.0, "HVAC"),
    ("Evaporator Coil Cleaning", 289.0, 2.0, "HVAC"),
    ("AC System Install - Labor", 2400.0, 10.0, "HVAC"),
    ("Furnace Install - Labor", 1800.0, 8.0, "HVAC"),
    ("Duct Cleaning - Whole Home", 499.0, 4.0, "HVAC"),
    ("Indoor Air Quality Assessment", 149.0, 1.0, "HVAC"),
    ("UV Light Installation", 245.0, 1.5, "HVAC"),
    ("Humidifier Installation", 395.0, 3.0, "HVAC"),
    ("Emergency After-Hours Fee", 150.0, 0.0, "HVAC"),
    ("Membership Visit - HVAC", 0.0, 1.0, "HVAC"),
    ("Diagnostic Fee - Plumbing", 79.0, 0.5, "Plumbing"),
    ("Drain Clearing - Main Line", 295.0, 1.5, "Plumbing"),
    ("Drain Clearing - Secondary Line", 189.0, 1.0, "Plumbing"),
    ("Hydro Jetting - Main Line", 595.0, 3.0, "Plumbing"),
    ("Sewer Camera Inspection", 325.0, 1.0, "Plumbing"),
    ("Water Heater Flush", 149.0, 1.0, "Plumbing"),
    ("Water Heater Install - 50 Gal", 1650.0, 4.0, "Plumbing"),
    ("Toilet Repair", 165.0, 1.0, "Plumbing"),
    ("Faucet Replacement", 225.0, 1.5, "Plumbing"),
    ("Garbage Disposal Installation", 245.0, 1.5, "Plumbing"),
    ("Sump Pump Replacement", 650.0, 3.0, "Plumbing"),
    ("Leak Detection", 275.0, 2.0, "Plumbing"),
    ("Gas Line Repair", 385.0, 2.0, "Plumbing"),
    ("Pressure Reducing Valve Installation", 425.0, 2.0, "Plumbing"),
    ("Main Water Shutoff Replacement", 395.0, 2.0, "Plumbing"),
    ("Electrical Panel Inspection", 129.0, 1.0, "Electrical"),
    ("Whole-Home Surge Protection", 395.0, 1.5, "Electrical"),
    ("Breaker Replacement", 185.0, 1.0, "Electrical"),
    ("GFCI Outlet Installation", 165.0, 1.0, "Electrical"),
    ("Dedicated Circuit Installation", 495.0, 3.0, "Electrical"),
)

JOB_SUMMARIES = {
    "HVAC": ("No cool - AC not turning on", "Furnace short cycling", "Annual AC tune-up",
             "Weak airflow upstairs", "Thermostat blank", "Replace 15 yr old system"),
    "Plumbing": ("Kitchen sink clogged", "Water heater leaking", "Main line backup",
                 "Running toilet", "Low water pressure", "Replace water heater"),
    "Electrical": ("Breaker keeps tripping", "Add dedicated circuit", "Outlets dead in garage"),
}

FIRST_NAMES = (
    "Maria", "James", "Linda", "Robert", "Patricia", "Michael", "Jennifer", "David", "Elena",
    "William", "Aisha", "Richard", "Susan", "Joseph", "Karen", "Thomas", "Nancy", "Daniel",
    "Priya", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra", "Carlos", "Ashley",
    "Kevin", "Mei", "Brian", "Olivia", "Juan", "Emily", "Tyler", "Grace", "Hannah",
)
LAST_NAMES = (
    "Gonzalez", "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Patel", "Kim",
)
COMMERCIAL_WORDS = (
    ("Aspen Grove", "Mile High", "Front Range", "Cherry Creek", "Red Rocks", "Blue Spruce",
     "Platte River", "Highline", "Summit Peak", "Golden Triangle", "Sloan's Lake", "Wash Park"),
    ("Dental", "Brewing Co", "Property Management", "Animal Hospital", "Self Storage",
     "Family Medicine", "Apartments", "Bakery", "Church", "Fitness", "Auto Repair", "Office Park"),
)
STREETS = (
    "Colfax Ave", "Broadway", "Speer Blvd", "Federal Blvd", "Alameda Ave", "Evans Ave",
    "Hampden Ave", "Colorado Blvd", "Monaco Pkwy", "Quebec St", "Sheridan Blvd", "Wadsworth Blvd",
    "Kipling St", "Yale Ave", "Mississippi Ave", "Louisiana Ave", "Downing St", "Pearl St",
    "Logan St", "Grant St", "Sherman St", "Tennyson St", "Lowell Blvd", "Zuni St",
    "Arapahoe Rd", "Dry Creek Rd", "Belleview Ave", "Iliff Ave", "Jewell Ave", "Florida Ave",
)
#: (city, zip codes, tax zone index)
CITIES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("Denver", ("80202", "80205", "80206", "80209", "80210", "80211", "80218", "80220"), 0),
    ("Aurora", ("80010", "80011", "80012", "80013", "80014"), 1),
    ("Lakewood", ("80226", "80227", "80228"), 2),
    ("Littleton", ("80120", "80122", "80123", "80127"), 3),
    ("Arvada", ("80002", "80003", "80004", "80005"), 4),
    ("Westminster", ("80030", "80031"), 5),
    ("Englewood", ("80110", "80111", "80113"), 6),
    ("Thornton", ("80229", "80233", "80241"), 7),
)

WAREHOUSES: tuple[str, ...] = (
    "Main Warehouse - Denver", "South Yard - Littleton", "North Yard - Thornton",
)

#: (name, automatically receive): an auto-receive type creates receipt and bill at once.
PURCHASE_ORDER_TYPES: tuple[tuple[str, bool], ...] = (
    ("Standard", False),
    ("Will Call - Auto Receive", True),
)

PAYMENT_TYPES: tuple[str, ...] = ("Credit Card", "Check", "Cash", "ACH/EFT", "Financing")
TECHNICIANS: tuple[str, ...] = (
    "Jake Morales", "Tony Reyes", "Sam Whitaker", "Dana Kowalski", "Luis Ortega", "Chris Baird",
)
OFFICE_STAFF: tuple[str, ...] = ("Rachel Dunn", "Marcus Bell", "Stephanie Cho")
JOB_TYPES = {"service": 7_001, "maintenance": 7_002, "install": 7_003}
CAMPAIGNS = (8_001, 8_002, 8_003, 8_004)
TERMS = ("Due Upon Receipt", "Net 15", "Net 30")
