"""The tables this instance knows: columns, references, who may read and write them, and
the Import Set staging tables with their transform maps.

Column names follow the sheet's assumption (snake_case of the documented labels, §9); the
S2P tables exist only while the Source-to-Pay plugin is active (a knob).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connector.sandbox.servicenow.knobs import ADMIN, INTEGRATOR, READER, S2P_ADMIN

SYS_FIELDS = (
    "sys_id",
    "sys_created_on",
    "sys_updated_on",
    "sys_created_by",
    "sys_updated_by",
    "sys_mod_count",
)
NUMERIC = "numeric"
DATE_TIME = "date_time"

_READERS = frozenset({READER, INTEGRATOR, S2P_ADMIN, ADMIN})
_WRITERS = frozenset({S2P_ADMIN, ADMIN})
_INTEGRATORS = frozenset({INTEGRATOR, S2P_ADMIN, ADMIN})


@dataclass(frozen=True)
class Table:
    """One table: its columns, reference columns (→ table), numeric columns, ACL roles."""

    name: str
    columns: tuple[str, ...]
    display: str
    references: dict[str, str] = field(default_factory=dict)
    numeric: frozenset[str] = frozenset()
    s2p: bool = True
    read_roles: frozenset[str] = _READERS
    write_roles: frozenset[str] = _WRITERS
    #: Prefix of the auto-number in ``number`` (None = no auto-number).
    number_prefix: str | None = None
    #: Outbound staging: ``integration_status`` moves only along OUTBOUND_STATES.
    outbound: bool = False

    def all_columns(self) -> tuple[str, ...]:
        return SYS_FIELDS + self.columns

    def kind(self, column: str) -> str:
        if column in self.numeric or column == "sys_mod_count":
            return NUMERIC
        if column in ("sys_created_on", "sys_updated_on"):
            return DATE_TIME
        return "string"


@dataclass(frozen=True)
class Staging:
    """An Import Set staging table and the transform map into its target table."""

    name: str
    target: str
    map_name: str
    #: staging column → (label, target column or None when the transform uses it otherwise).
    columns: dict[str, tuple[str, str | None]]
    mandatory: tuple[str, ...]
    #: staging column → (table, lookup columns) resolved to a sys_id for the target column.
    resolve: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: Columns that pick the parent header of a line: (target column, table, lookup pairs).
    parent: tuple[str, str, tuple[tuple[str, str], ...]] | None = None

    def label_to_column(self) -> dict[str, str]:
        return {label: column for column, (label, _) in self.columns.items()}


OUTBOUND_STATES = {
    "new": {"in_progress"},
    "in_progress": {"processed", "error"},
    "processed": set(),
    "error": set(),
}
_OUTBOUND_COLUMNS = (
    "number",
    "integration_status",
    "processing_message",
    "erp_number",
    "erp_source",
)


def _tables() -> dict[str, Table]:
    tables = [
        Table("core_company", ("name", "vendor", "supplier_code"), "name", s2p=False),
        Table(
            "cmn_cost_center",
            ("code", "name", "legal_entity", "valid_from", "valid_to", "erp_source", "active"),
            "name",
            references={"legal_entity": "sn_fin_legal_entity"},
            s2p=False,
        ),
        Table("sn_fin_legal_entity", ("code", "name"), "name"),
        Table(
            "sn_fin_supplier",
            ("number", "name", "company", "erp_supplier_id", "erp_source", "active"),
            "name",
            references={"company": "core_company"},
            number_prefix="SUP",
        ),
        Table(
            "sn_fin_gl_account",
            ("number", "account_name", "entity", "type", "erp_source", "active"),
            "number",
            references={"entity": "sn_fin_legal_entity"},
        ),
        Table(
            "sn_shop_invoice",
            (
                "number",
                "supplier",
                "purchase_order",
                "external_invoice_number",
                "external_invoice_source",
                "erp_source",
                "invoice_date",
                "other_charges",
                "subtotal",
                "currency",
                "state",
            ),
            "number",
            references={"supplier": "sn_fin_supplier", "purchase_order": "sn_shop_purchase_order"},
            numeric=frozenset({"other_charges", "subtotal"}),
            number_prefix="INV",
        ),
        Table(
            "sn_shop_invoice_line",
            (
                "invoice",
                "erp_line_number",
                "line_description",
                "cost_center",
                "gl_account",
                "line_quantity",
                "line_unit_price",
                "subtotal",
                "erp_source",
            ),
            "line_description",
            references={
                "invoice": "sn_shop_invoice",
                "cost_center": "cmn_cost_center",
                "gl_account": "sn_fin_gl_account",
            },
            numeric=frozenset({"erp_line_number", "line_quantity", "line_unit_price", "subtotal"}),
        ),
        Table(
            "sn_shop_purchase_order",
            ("number", "erp_po_number", "erp_source", "supplier", "total_amount", "state"),
            "number",
            references={"supplier": "sn_fin_supplier"},
            numeric=frozenset({"total_amount"}),
            number_prefix="PO",
        ),
        Table(
            "sn_shop_purchase_order_line",
            (
                "purchase_order",
                "erp_po_number",
                "erp_po_line_number",
                "erp_source",
                "quantity",
                "unit_price",
            ),
            "erp_po_line_number",
            references={"purchase_order": "sn_shop_purchase_order"},
            numeric=frozenset({"erp_po_line_number", "quantity", "unit_price"}),
        ),
        Table(
            "sys_import_set",
            ("number", "table_name", "state", "mode"),
            "number",
            read_roles=_INTEGRATORS,
            s2p=False,
            number_prefix="ISET",
        ),
        Table(
            "sys_import_set_run",
            (
                "set",
                "transform_map",
                "state",
                "total",
                "inserts",
                "updates",
                "ignored",
                "skipped",
                "errors",
            ),
            "set",
            references={"set": "sys_import_set"},
            read_roles=_INTEGRATORS,
            s2p=False,
            numeric=frozenset({"total", "inserts", "updates", "ignored", "skipped", "errors"}),
        ),
    ]
    for name, extra in (
        ("sn_spend_intg_outbound_invoice", ("supplier_invoice_number", "invoice_date", "subtotal")),
        ("sn_spend_intg_outbound_invoice_line", ("invoice", "erp_line_number")),
        ("sn_spend_intg_outbound_invoice_tax_line", ("invoice",)),
        ("sn_spend_intg_outbound_purchase_order", ("erp_po_number",)),
        ("sn_spend_intg_outbound_purchase_order_line", ("purchase_order", "erp_line_number")),
        ("sn_spend_intg_outbound_supplier", ("name",)),
    ):
        tables.append(
            Table(
                name,
                _OUTBOUND_COLUMNS + extra,
                "number",
                outbound=True,
                read_roles=_INTEGRATORS,
                write_roles=_INTEGRATORS,
                number_prefix="OUT",
            )
        )
    for staging in STAGING.values():
        tables.append(
            Table(
                staging.name,
                tuple(staging.columns) + STAGING_SYS_COLUMNS,
                "sys_id",
                read_roles=_INTEGRATORS,
                write_roles=_INTEGRATORS,
            )
        )
    return {table.name: table for table in tables}


#: Columns every staging row carries about its own transform.
STAGING_SYS_COLUMNS = (
    "sys_import_set",
    "sys_import_state",
    "sys_import_state_comment",
    "sys_target_sys_id",
    "sys_target_table",
    "sys_transform_map",
    "sys_row_error",
)


def _staging() -> dict[str, Staging]:
    # Columns and mandatory flags follow the staging-table reference pages (Zurich/Australia);
    # erp_supplier_id is not documented on the supplier stage and stays an assumption.
    entries = [
        Staging(
            "sn_spend_intg_imp_invoice",
            "sn_shop_invoice",
            "Invoice import",
            {
                "erp_source": ("ERP source", "erp_source"),
                "external_invoice_number": ("External invoice number", "external_invoice_number"),
                "external_invoice_source": ("External invoice source", "external_invoice_source"),
                "invoice_date": ("Invoice date", "invoice_date"),
                "other_charges": ("Other charges", "other_charges"),
                "subtotal": ("Subtotal", "subtotal"),
                "supplier": ("Supplier", "supplier"),
                "supplier_invoice_number": ("Supplier invoice number", None),
                "purchase_order": ("Purchase order", "purchase_order"),
                "currency": ("Currency", "currency"),
            },
            (
                "erp_source",
                "external_invoice_number",
                "external_invoice_source",
                "invoice_date",
                "other_charges",
                "subtotal",
                "supplier",
            ),
            resolve={
                "supplier": ("sn_fin_supplier", ("name",)),
                "purchase_order": ("sn_shop_purchase_order", ("erp_po_number",)),
            },
        ),
        Staging(
            "sn_spend_intg_imp_invoice_line",
            "sn_shop_invoice_line",
            "Invoice line import",
            {
                "erp_source": ("ERP source", "erp_source"),
                "external_invoice_number": ("External invoice number", None),
                "external_invoice_source": ("External invoice source", None),
                "erp_line_number": ("ERP line number", "erp_line_number"),
                "line_description": ("Line description", "line_description"),
                "cost_center": ("Cost center", "cost_center"),
                "gl_account": ("GL account", "gl_account"),
                "line_quantity": ("Line quantity", "line_quantity"),
                "line_unit_price": ("Line unit price", "line_unit_price"),
                "subtotal": ("Subtotal", "subtotal"),
                "currency": ("Currency", None),
            },
            (
                "erp_source",
                "external_invoice_source",
                "line_description",
                "line_quantity",
                "line_unit_price",
                "subtotal",
            ),
            resolve={
                "cost_center": ("cmn_cost_center", ("code", "name")),
                "gl_account": ("sn_fin_gl_account", ("number",)),
            },
            parent=(
                "invoice",
                "sn_shop_invoice",
                (
                    ("external_invoice_number", "external_invoice_number"),
                    ("erp_source", "erp_source"),
                ),
            ),
        ),
        Staging(
            "sn_fcms_intg_imp_order",
            "sn_shop_purchase_order",
            "Order stage",
            {
                "erp_po_number": ("ERP PO number", "erp_po_number"),
                "erp_source": ("ERP source", "erp_source"),
                "supplier_company_name": ("Supplier company name", "supplier"),
                "po_amount": ("PO amount", "total_amount"),
                "po_amount_currency": ("PO amount currency", None),
                "legal_entity": ("Legal entity", None),
                "cost_center": ("Cost center", None),
            },
            ("erp_po_number", "erp_source"),
            resolve={"supplier_company_name": ("sn_fin_supplier", ("name",))},
        ),
        Staging(
            "sn_fcms_intg_imp_order_line",
            "sn_shop_purchase_order_line",
            "Order line stage",
            {
                "erp_source": ("ERP source", "erp_source"),
                "erp_po_number": ("ERP PO number", "erp_po_number"),
                "erp_po_line_number": ("ERP PO line number", "erp_po_line_number"),
                "quantity": ("Quantity", "quantity"),
                "unit_price": ("Unit price", "unit_price"),
            },
            ("erp_source", "erp_po_number", "erp_po_line_number"),
            parent=(
                "purchase_order",
                "sn_shop_purchase_order",
                (("erp_po_number", "erp_po_number"), ("erp_source", "erp_source")),
            ),
        ),
        Staging(
            "sn_fcms_intg_imp_supplier",
            "sn_fin_supplier",
            "Master data supplier",
            {
                "company": ("Company", None),
                "erp_source": ("ERP source", "erp_source"),
                "erp_supplier_id": ("ERP supplier ID", "erp_supplier_id"),
            },
            ("company", "erp_source"),
        ),
        Staging(
            "sn_fcms_intg_gl_account_stage",
            "sn_fin_gl_account",
            "GL account load data",
            {
                "number": ("Number", "number"),
                "account_name": ("Account name", "account_name"),
                "entity": ("Entity", "entity"),
                "type": ("Type", "type"),
                "erp_source": ("ERP source", "erp_source"),
            },
            ("number", "account_name", "entity", "type", "erp_source"),
            resolve={"entity": ("sn_fin_legal_entity", ("code", "name"))},
        ),
        Staging(
            "sn_fcms_intg_imp_cost_center",
            "cmn_cost_center",
            "Master data cost center",
            {
                "code": ("Code", "code"),
                "name": ("Name", "name"),
                "legal_entity": ("Legal entity", "legal_entity"),
                "valid_from": ("Valid from", "valid_from"),
                "valid_to": ("Valid to", "valid_to"),
                "erp_source": ("ERP source", "erp_source"),
            },
            ("code", "name", "legal_entity", "erp_source"),
            resolve={"legal_entity": ("sn_fin_legal_entity", ("code", "name"))},
        ),
    ]
    return {entry.name: entry for entry in entries}


STAGING = _staging()
TABLES = _tables()
#: The alternative name of the PO header staging table (knob ``po_staging_table``).
PO_STAGING_ALIAS = "sn_fcms_intg_imp_po_response"
