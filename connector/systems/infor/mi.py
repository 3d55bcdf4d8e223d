"""M3 MI REST v2: one transaction per call, results classified into the error tree.

Facts this module encodes (sheet ``infor.md`` §2–§6):

* ``GET {gateway}/M3/m3api-rest/v2/execute/{PGM}/{TRN};cono=C;divi=D;maxrecs=N;returncols=…``
  with the inputs as query parameters. Every transaction is a GET, writes included, so the
  caller must say which calls are writes: a write is never retried blindly.
* CONO and DIVI are always sent. Omitted, M3 silently uses the service account's default
  company: a classic way to post into the wrong books.
* Values are strings, maybe right-padded: every output is trimmed here.
* A business error is **HTTP 200** with ``errorMessage``/``errorType``/``errorCode``/
  ``errorField``; it becomes a :class:`RejectedError` naming the field. ``XAU0008`` (company
  not authorized) and ``TransactionNotFound`` are configuration errors: they stop the flow,
  and so is the bare HTTP 400 newer gateways answer for an unknown program or transaction.
* The success counter is spelled ``nrOfSuccessfullTransactions`` (double l), and
  ``wasTerminated`` has been seen as the string ``"false"``: both accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from connector.errors import ConfigurationError, RejectedError
from connector.http.client import HttpClient

SYSTEM = "infor"

#: Rows one list call asks for: some grids cap at 1000 whatever maxrecs says.
MAX_ROWS_PER_CALL = 1000

Row = dict[str, str]

#: What a business refusal's message advises; callers that know better replace it.
FIX_THE_RECORD = "Fix the value in the source record or its mapping, then replay it."


class MIResult(msgspec.Struct, frozen=True, rename="camel"):
    transaction: str | None = None
    records: list[dict[str, str]] | None = None
    error_message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    error_field: str | None = None


class MIResponse(msgspec.Struct, frozen=True):
    results: list[MIResult] = []
    wasTerminated: bool | str = False  # noqa: N815 - the wire name
    nrOfSuccessfullTransactions: int = 0  # noqa: N815 - sic, as M3 spells it
    nrOfFailedTransactions: int = 0  # noqa: N815


class MIClient:
    """Runs MI transactions in one company and division of one M3 tenant."""

    def __init__(self, http: HttpClient, gateway_base: str, *, company: str, division: str):
        self.http = http
        self.base = f"{gateway_base.rstrip('/')}/M3/m3api-rest/v2/execute"
        self.company = company
        self.division = division

    async def call(
        self,
        program: str,
        transaction: str,
        inputs: Mapping[str, str] | None = None,
        *,
        write: bool,
        record: str | None = None,
        maxrecs: int | None = None,
        returncols: Sequence[str] | None = None,
        division: str | None = None,
    ) -> list[Row]:
        """Run one transaction; its output rows, trimmed. See the module contract."""
        matrix = f";cono={self.company};divi={division or self.division}"
        if maxrecs is not None:
            matrix += f";maxrecs={maxrecs}"
        if returncols:
            matrix += ";returncols=" + ",".join(returncols)
        # Blank inputs are left out so M3 applies its defaults (sheet §2).
        params = {k: v for k, v in (inputs or {}).items() if v != ""}
        try:
            response = await self.http.request(
                "GET",
                f"{self.base}/{program}/{transaction}{matrix}",
                params=params,
                idempotent=not write,
                record=record or f"{program}/{transaction}",
                headers={"Accept": "application/json"},
            )
        except RejectedError as exc:
            if exc.code != "http_400":
                raise
            # M3 reports a bad *value* as an HTTP 200 MI error; a bare 400 means the gateway
            # knows no such program/transaction (or tenant path), which no record can fix.
            raise ConfigurationError(
                f"M3 {program}/{transaction} was refused with HTTP 400: this M3 version or "
                "tenant does not offer it (check MRS001MI/LstTransactions?MINM="
                f"{program} and the tenant in the .ionapi file)",
                system=SYSTEM,
                record=record,
            ) from exc
        body = response.json(MIResponse)
        if not body.results:
            if body.nrOfFailedTransactions:
                raise RejectedError(
                    f"M3 {program}/{transaction} failed without saying why",
                    system=SYSTEM,
                    record=record,
                )
            return []
        result = body.results[0]
        if result.error_message or result.error_code or result.error_type:
            raise classify(program, transaction, result, record, self.company)
        return [_trim(row) for row in result.records or []]


    async def bulk(
        self,
        program: str,
        transactions: Sequence[tuple[str, Mapping[str, str]]],
        *,
        write: bool,
        records: Sequence[str],
    ) -> list[list[Row]]:
        """Run many transactions of one program in one bulk POST (sheet §2); each one's rows.

        ``results[i]`` answers ``transactions[i]``. The first failed transaction raises, named
        by ``records[i]``; the ones before it ran (and so, unless M3 stopped the batch, may
        some after it: a caller resuming must ask M3 what is there, never count).
        """
        body = {
            "program": program,
            "transactions": [
                {"transaction": name, "record": {k: v for k, v in fields.items() if v != ""}}
                for name, fields in transactions
            ],
        }
        summary = f"{records[0]} .. {records[-1]}" if records else program
        try:
            response = await self.http.request(
                "POST",
                self.base,
                params={
                    "cono": self.company,
                    "divi": self.division,
                    "maxrecs": str(MAX_ROWS_PER_CALL),
                    "extendedresult": "true",
                    "righttrim": "true",
                },
                json=msgspec.json.encode(body),
                idempotent=not write,
                record=summary,
                headers={"Accept": "application/json"},
            )
        except RejectedError as exc:
            if exc.code != "http_400":
                raise
            raise ConfigurationError(
                f"M3 refused a bulk request of {program} with HTTP 400: this M3 version or "
                f"tenant does not offer the program or the bulk endpoint (check "
                f"MRS001MI/LstTransactions?MINM={program})",
                system=SYSTEM,
                record=summary,
            ) from exc
        answer = response.json(MIResponse)
        rows: list[list[Row]] = []
        for index, result in enumerate(answer.results):
            if result.error_message or result.error_code or result.error_type:
                name = transactions[index][0] if index < len(transactions) else program
                raise classify(program, name, result, records[index], self.company)
            rows.append([_trim(row) for row in result.records or []])
        if len(rows) < len(transactions):
            # Stopped early without an error, or fewer answers than asked: never assume the
            # rest ran.
            missing = records[len(rows)]
            raise RejectedError(
                f"M3 answered {len(rows)} of {len(transactions)} {program} transactions "
                f"(wasTerminated {answer.wasTerminated}); {missing} and after were not run",
                system=SYSTEM,
                record=missing,
            )
        return rows


def classify(
    program: str, transaction: str, result: MIResult, record: str | None, company: str
) -> RejectedError | ConfigurationError:
    """An M3 business error as the error tree's class, naming field, code and fix."""
    message = " ".join((result.error_message or "").split())
    code = (result.error_code or "").strip() or None
    field = (result.error_field or "").strip() or None
    where = f"M3 {program}/{transaction}"
    if code == "XAU0008" or (field == "CONO" and "author" in message.lower()):
        return ConfigurationError(
            f"{where}: company {company} is unknown or not authorized for the service account "
            f"({message or code}). Check `company` in the config and the user's companies in "
            "M3 (MNS150).",
            system=SYSTEM,
            record=record,
        )
    if result.error_type == "TransactionNotFound":
        return ConfigurationError(
            f"{where} does not exist on this M3 ({message}); the instance runs a version "
            "without it. Check MRS001MI/LstTransactions for the program.",
            system=SYSTEM,
            record=record,
        )
    detail = message or result.error_type or "refused"
    blame = (
        f" (field {field}" + (f", code {code})" if code else ")")
        if field
        else (f" (code {code})" if code else "")
    )
    return RejectedError(
        f"{where} refused {record or 'the request'}: {detail}{blame}. {FIX_THE_RECORD}",
        system=SYSTEM,
        record=record,
        field=field,
        code=code,
    )


def _trim(row: Mapping[str, str]) -> Row:
    return {k: v.strip() if isinstance(v, str) else str(v) for k, v in row.items()}
