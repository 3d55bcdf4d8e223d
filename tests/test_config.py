"""The configuration file: the example loads, and every kind of mistake reads clearly."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import msgspec
import pytest

from connector.config import (
    AcumaticaSystem,
    Config,
    CronSchedule,
    IfsSystem,
    InforSystem,
    IntervalSchedule,
    ServiceConfig,
    ServiceNowSystem,
    ServiceTitanSystem,
    StoreConfig,
    SysproSystem,
    VaultConfig,
    default_config,
    load_config,
    parse_schedule,
)
from connector.config.models import EmailAlerts, FlowConfig
from connector.errors import ConfigurationError

EXAMPLE = Path(__file__).resolve().parent.parent / "connector.example.toml"

BASE = """\
[systems.st]
kind = "servicetitan"
credential = "st"
tenant = 42

[systems.m3]
kind = "infor"
credential = "m3"
company = "100"
division = "AAA"

[flows.servicetitan-infor]
source = "st"
target = "m3"
"""


def load_text(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "connector.toml"
    path.write_text(text)
    return load_config(path)


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_text(tmp_path, text)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "connector.toml") + ": ")
    return message


def test_example_file_loads_with_one_system_of_each_kind() -> None:
    """connector.example.toml is a valid configuration with every system kind and flow."""
    config = load_config(EXAMPLE)
    kinds = {type(system) for system in config.systems.values()}
    assert kinds == {
        ServiceTitanSystem,
        InforSystem,
        AcumaticaSystem,
        ServiceNowSystem,
        IfsSystem,
        SysproSystem,
    }
    assert {
        "servicetitan-infor",
        "servicetitan-acumatica",
        "ifs-servicetitan",
        "infor-servicenow",
        "servicetitan-syspro",
    } <= set(config.flows)
    assert config.mappings["business_unit_cost_center"]["12"] == "CC100"
    assert config.service.admin_token_credential == "admin-token"


def test_example_file_documents_every_key() -> None:
    """Every field of every config object appears, commented, in the example file."""
    text = EXAMPLE.read_text()
    sections: list[type[msgspec.Struct]] = [
        StoreConfig,
        VaultConfig,
        ServiceConfig,
        EmailAlerts,
        ServiceTitanSystem,
        InforSystem,
        AcumaticaSystem,
        ServiceNowSystem,
        IfsSystem,
        SysproSystem,
        FlowConfig,
    ]
    for section in sections:
        for field in msgspec.structs.fields(section):
            lines = [
                line
                for line in text.splitlines()
                if line.lstrip("# ").startswith(f"{field.encode_name} =")
                or line.endswith(f".{field.encode_name}]")  # a sub-table such as options
            ]
            assert lines, f"{section.__name__}.{field.name} is not in the example file"
            index = text.splitlines().index(lines[0])
            assert text.splitlines()[index - 1].startswith("#"), field.name


def test_store_url_selects_postgresql_and_sqlite_stays_the_default(tmp_path: Path) -> None:
    """Without store.url the state is the SQLite file; with it, the PostgreSQL URL (and its
    schema); a URL of another scheme is refused naming the key."""
    assert load_text(tmp_path, "").store.location == tmp_path / "state" / "connector.db"
    config = load_text(
        tmp_path, '[store]\nurl = "postgresql://c@db:5432/x"\nschema = "tenant_7"\n'
    )
    assert (config.store.location, config.store.schema) == ("postgresql://c@db:5432/x", "tenant_7")
    message = error_for(tmp_path, '[store]\nurl = "mysql://db/x"\n')
    assert "store.url" in message


def test_relative_paths_resolve_against_the_config_directory(tmp_path: Path) -> None:
    """store.path and vault.key_file are relative to the file, not to the working directory."""
    config = load_text(tmp_path, '[store]\npath = "db/x.db"\n[vault]\nkey_file = "k.key"\n')
    assert config.store.path == tmp_path / "db" / "x.db"
    assert config.vault.key_file == tmp_path / "k.key"


def test_default_config_keeps_state_and_key_in_the_state_directory(tmp_path: Path) -> None:
    """Without a file, the database and the key file live in the given state directory."""
    config = default_config(tmp_path)
    assert config.store.path == tmp_path / "connector.db"
    assert config.vault.key_file == tmp_path / "vault.key"
    assert config.vault.key_env == "ML_CONNECTOR_VAULT_KEY"
    assert config.systems == {} and config.flows == {}


def test_servicetitan_urls_follow_the_environment(tmp_path: Path) -> None:
    """Unset api_url/auth_url derive from environment; set ones win, without a trailing '/'."""
    config = load_text(
        tmp_path,
        BASE.replace("tenant = 42", 'tenant = 42\nenvironment = "integration"')
        + '[systems.st2]\nkind = "servicetitan"\ncredential = "x"\ntenant = 1\n'
        'api_url = "http://127.0.0.1:8701/"\n',
    )
    st = config.systems["st"]
    assert isinstance(st, ServiceTitanSystem)
    assert st.resolved_api_url == "https://api-integration.servicetitan.io"
    assert st.resolved_auth_url == "https://auth-integration.servicetitan.io"
    st2 = config.systems["st2"]
    assert isinstance(st2, ServiceTitanSystem)
    assert st2.resolved_api_url == "http://127.0.0.1:8701"
    assert st2.resolved_auth_url == "https://auth.servicetitan.io"


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    """A TOML syntax error says so, with the line and column, and no traceback type."""
    message = error_for(tmp_path, BASE + "\n[flows.x\n")
    assert "not valid TOML" in message
    assert "line 16" in message


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    """A misspelt key is named by its full path with a 'did you mean'."""
    message = error_for(tmp_path, BASE.replace("tenant = 42", "tenent = 42"))
    assert "unknown key systems.st.tenent (did you mean tenant?)" in message


def test_unknown_section_lists_the_known_ones(tmp_path: Path) -> None:
    """An unknown top-level table is refused, naming it."""
    message = error_for(tmp_path, BASE + "\n[servcie]\nlog_level = 'info'\n")
    assert "unknown key servcie (did you mean service?)" in message


def test_wrong_type_names_key_expected_and_got(tmp_path: Path) -> None:
    """A string where an integer belongs is reported in TOML words."""
    message = error_for(tmp_path, BASE.replace("tenant = 42", 'tenant = "42"'))
    assert message.endswith("systems.st.tenant: expected an integer, got a string")


def test_wrong_type_inside_a_flow_list(tmp_path: Path) -> None:
    """List items are located by index."""
    message = error_for(tmp_path, BASE + 'streams = ["vendors", 3]\n')
    assert "flows.servicetitan-infor.streams[1]: expected a string, got an integer" in message


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    """A system missing a required key names the table and the key."""
    message = error_for(tmp_path, BASE.replace('company = "100"\n', ""))
    assert message.endswith("systems.m3: missing required key company")


def test_missing_and_unknown_system_kind(tmp_path: Path) -> None:
    """kind is required and must be one of the known kinds, which the message lists."""
    missing = error_for(tmp_path, BASE.replace('kind = "infor"\n', ""))
    assert (
        "systems.m3: missing required key kind "
        "(one of servicetitan, infor, acumatica, servicenow, ifs, syspro)" in missing
    )
    unknown = error_for(tmp_path, BASE.replace('kind = "infor"', 'kind = "sap"'))
    assert "systems.m3.kind: unknown system kind 'sap'" in unknown


def test_bad_enum_value_lists_the_allowed_ones(tmp_path: Path) -> None:
    """A value outside a fixed set names the allowed values and the one given."""
    message = error_for(tmp_path, BASE.replace("tenant = 42", 'tenant = 42\nenvironment = "prod"'))
    assert "systems.st.environment: expected one of" in message
    assert "'integration'" in message and "got 'prod'" in message


def test_empty_credential_name_is_refused(tmp_path: Path) -> None:
    """A system's credential must name something."""
    message = error_for(tmp_path, BASE.replace('credential = "st"', 'credential = ""'))
    assert "systems.st.credential: expected a non-empty string" in message


def test_flow_naming_an_unknown_system(tmp_path: Path) -> None:
    """A flow whose target is not a configured system names it and the configured ones."""
    message = error_for(tmp_path, BASE.replace('target = "m3"', 'target = "acumatica"'))
    assert "flows.servicetitan-infor.target: names system 'acumatica', which is not" in message
    assert "configured systems: st, m3" in message


def test_flow_from_a_system_to_itself(tmp_path: Path) -> None:
    """A flow needs two different systems."""
    message = error_for(tmp_path, BASE.replace('target = "m3"', 'target = "st"'))
    assert "flows.servicetitan-infor.target: must be a different system" in message


def test_bad_schedule_explains_the_accepted_forms(tmp_path: Path) -> None:
    """A schedule that is neither 'every …' nor cron says which forms exist."""
    message = error_for(tmp_path, BASE + 'schedule = "every fortnight"\n')
    assert "flows.servicetitan-infor.schedule:" in message
    assert "5-field cron expression" in message


def test_cron_field_out_of_range(tmp_path: Path) -> None:
    """An out-of-range cron field names the field and its range."""
    message = error_for(tmp_path, BASE + 'schedule = "0 25 * * *"\n')
    assert "cron hour field '25': 25 is out of range 0-23" in message


@pytest.mark.parametrize("port", [0, 70000])
def test_port_out_of_range(tmp_path: Path, port: int) -> None:
    """Ports must be 1-65535; the message gives the bound and the value."""
    message = error_for(tmp_path, BASE + f"[service]\nwebhook_port = {port}\n")
    assert "service.webhook_port: expected an integer" in message
    assert f"got {port}" in message


def test_non_http_url_is_refused(tmp_path: Path) -> None:
    """Base URLs must be http(s)."""
    message = error_for(tmp_path, BASE.replace("tenant = 42", 'tenant = 42\napi_url = "api.x"'))
    assert "systems.st.api_url: expected an http:// or https:// URL" in message


def test_mapping_values_must_be_strings(tmp_path: Path) -> None:
    """Mapping codes are text; a bare number says to quote it."""
    message = error_for(tmp_path, BASE + '[mappings.business_unit_cost_center]\n"12" = 100\n')
    assert "mappings.business_unit_cost_center.12: expected a string, got an integer" in message


def test_path_keys_must_be_non_empty_strings(tmp_path: Path) -> None:
    """store.path and vault.key_file are file paths; other types are named as such."""
    message = error_for(tmp_path, BASE + "[store]\npath = 3\n")
    assert "store.path: expected a file path (a non-empty string), got an integer" in message
    message = error_for(tmp_path, BASE + '[vault]\nkey_file = ""\n')
    assert "vault.key_file: expected a file path (a non-empty string), got an empty string" in (
        message
    )


def test_acumatica_endpoint_version_shape(tmp_path: Path) -> None:
    """An Acumatica endpoint version must look like 24.200.001."""
    text = BASE + '[systems.acu]\nkind = "acumatica"\ncredential = "a"\nversion = "24"\n'
    assert "systems.acu.version: expected an endpoint version like 24.200.001, got '24'" in (
        error_for(tmp_path, text)
    )


@pytest.mark.parametrize(
    ("streams", "complaint"),
    [("[]", "empty list: omit the key"), ('["items", "items"]', "lists items more than once")],
)
def test_flow_streams_list(tmp_path: Path, streams: str, complaint: str) -> None:
    """A flow's streams, when given, are a non-empty list without repeats."""
    message = error_for(tmp_path, BASE + f"streams = {streams}\n")
    assert f"flows.servicetitan-infor.streams: {complaint}" in message


def test_unreadable_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A missing file raises ConfigurationError naming it, not FileNotFoundError."""
    with pytest.raises(ConfigurationError, match="cannot read the configuration"):
        load_config(tmp_path / "absent.toml")


def test_config_objects_are_frozen(tmp_path: Path) -> None:
    """Loaded configuration cannot be changed in place."""
    config = load_text(tmp_path, BASE)
    with pytest.raises(AttributeError):
        config.service.webhook_port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "seconds"), [("every 30s", 30), ("every 15m", 900), ("Every 2h", 7200)]
)
def test_interval_schedules(text: str, seconds: float) -> None:
    """'every <n><unit>' parses to seconds."""
    assert parse_schedule(text) == IntervalSchedule(seconds=seconds)


def test_cron_schedule_matches_like_cron() -> None:
    """Cron steps, ranges and names work; day-of-month OR day-of-week when both are set."""
    workdays = parse_schedule("*/15 6-20 * * mon-fri")
    assert isinstance(workdays, CronSchedule)
    assert workdays.matches(datetime(2026, 1, 14, 6, 45))  # a Wednesday
    assert not workdays.matches(datetime(2026, 1, 17, 6, 45))  # a Saturday
    assert not workdays.matches(datetime(2026, 1, 14, 6, 50))
    either = parse_schedule("0 0 1 * 0")
    assert isinstance(either, CronSchedule)
    assert either.matches(datetime(2026, 1, 1, 0, 0))  # the 1st, a Thursday
    assert either.matches(datetime(2026, 1, 4, 0, 0))  # a Sunday
    assert not either.matches(datetime(2026, 1, 5, 0, 0))
    assert parse_schedule("0 0 * * 7") == parse_schedule("0 0 * * 0")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("60 * * * *", "cron minute field '60': 60 is out of range 0-59"),
        ("* * 0 * *", "cron day of month field '0': 0 is out of range 1-31"),
        ("* * * foo *", "'foo' is not a number"),
        ("*/0 * * * *", "step after '/' must be a whole number of at least 1"),
        ("* 5-2 * * *", "the range runs backwards"),
        ("every 0m", "longer than zero"),
        ("* * * *", "not a schedule"),
    ],
)
def test_bad_cron_expressions(text: str, complaint: str) -> None:
    """Each kind of cron mistake gets its own explanation."""
    with pytest.raises(ValueError) as caught:
        parse_schedule(text)
    assert complaint in str(caught.value)


def test_example_flow_options_are_accepted_by_their_flows() -> None:
    """Every option the example file documents is one its flow knows and accepts."""
    from connector.flows.servicetitan_acumatica import parse_options as acumatica_options
    from connector.flows.servicetitan_infor import parse_options as infor_options

    config = load_config(EXAMPLE)
    assert infor_options(config.flows["servicetitan-infor"], "servicetitan-infor").currency
    acumatica = acumatica_options(config.flows["servicetitan-acumatica"], "servicetitan-acumatica")
    assert acumatica.release_invoices == "yes"


def test_unknown_stream_names_the_flow_and_the_valid_streams(tmp_path: Path) -> None:
    """A stream the flow lacks stops the load, naming the flow, the name and the valid ones."""
    message = error_for(tmp_path, BASE + 'streams = ["vendors_to_m3", "vendor_to_m3x"]\n')
    assert "flows.servicetitan-infor.streams[1]: flow servicetitan-infor has no stream" in message
    assert "'vendor_to_m3x'" in message and "did you mean vendors_to_m3?" in message
    assert "its streams are: vendors_to_m3, suppliers_to_st," in message


def test_an_infor_line_other_than_m3_has_its_own_stream_names(tmp_path: Path) -> None:
    """On SyteLine/LN/FSM the streams are named …_to_infor; an M3 name is refused with them."""
    text = BASE.replace('division = "AAA"', 'product = "ln"')
    assert load_text(tmp_path, text + 'streams = ["vendors_to_infor"]\n')
    message = error_for(tmp_path, text + 'streams = ["vendors_to_m3"]\n')
    assert "did you mean vendors_to_infor?" in message
    assert "its streams are: vendors_to_infor, suppliers_to_st," in message


_KEY_LINE = re.compile(r"^(?:# )?([a-z_]+) = (.+)$")
_EXAMPLE_VALUE = re.compile(r'"[^"]*"|\[[^\]]*\]|-?\d+(?:\.\d+)?')


def example_variants() -> list[tuple[str, str, str]]:
    """(key, example value, example file with that value set) for every ``Example:`` in the
    example file's comments, and every commented-out key line."""
    lines = EXAMPLE.read_text().splitlines()
    variants: list[tuple[str, str, str]] = []
    for index, line in enumerate(lines):
        key_line = _KEY_LINE.match(line)
        if key_line is None:
            continue
        key = key_line[1]
        values = [key_line[2]] if line.startswith("# ") else []
        above = index - 1
        while above >= 0 and lines[above].startswith("#") and not _KEY_LINE.match(lines[above]):
            if "Example" in lines[above]:
                said = lines[above].split("Example", 1)[1].split(":", 1)[1]
                values += _EXAMPLE_VALUE.findall(said)
            above -= 1
        for value in dict.fromkeys(values):
            text = "\n".join([*lines[:index], f"{key} = {value}", *lines[index + 1 :]]) + "\n"
            variants.append((key, value, text))
    return variants


@pytest.mark.parametrize(
    ("key", "value", "text"), example_variants(), ids=[f"{k}={v}" for k, v, _ in example_variants()]
)
async def test_every_example_value_loads_and_its_flows_build(
    tmp_path: Path, key: str, value: str, text: str
) -> None:
    """Each Example value and commented-out key of the example file loads and its flows build."""
    from typing import Any, cast

    from connector.flows import servicetitan_acumatica, servicetitan_infor
    from connector.store import Store

    config = load_text(tmp_path, text)
    pairings = {
        "servicetitan-infor": servicetitan_infor,
        "servicetitan-acumatica": servicetitan_acumatica,
    }
    store = await Store.open(tmp_path / "state.db")
    try:
        for name, flow in config.flows.items():
            if name not in pairings:
                continue  # its stream names were checked on load; its build has its own tests
            source = config.systems[flow.source]
            assert isinstance(source, ServiceTitanSystem)
            # Building declares streams and does no I/O, so no client is needed.
            none = cast(Any, None)
            built = pairings[name].build(name, flow, source, none, none, store)
            names = [stream.name for stream in built.flow.streams]
            assert set(flow.streams or names) <= set(names), (key, value)
    finally:
        await store.close()


async def test_each_pairing_lists_the_streams_it_builds(tmp_path: Path) -> None:
    """The stream names a config is checked against are exactly the streams a flow builds."""
    from typing import Any, cast

    from connector import registry
    from connector.flows import servicetitan_acumatica, servicetitan_infor, stream_names
    from connector.store import Store

    config = load_config(EXAMPLE)
    store = await Store.open(tmp_path / "state.db")
    try:
        for name, pairing in (
            ("servicetitan-infor", servicetitan_infor),
            ("servicetitan-acumatica", servicetitan_acumatica),
        ):
            flow = config.flows[name]
            source = config.systems[flow.source]
            assert isinstance(source, ServiceTitanSystem)
            none = cast(Any, None)
            built = pairing.build(name, flow, source, none, none, store)
            names = tuple(stream.name for stream in built.flow.streams)
            target = config.systems[flow.target]
            spec = registry.pairing("servicetitan", target.kind)
            assert spec is not None
            assert names == spec.streams_of(source, target)
            assert (
                set(names)
                <= set(pairing.STREAMS)
                == set(stream_names("servicetitan", target.kind) or ())
            )
    finally:
        await store.close()
