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

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

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

    def __init__(
        self,
        http: HttpClient,
        gateway_base: str,
        *,
        company: str,
        division: str,
        linger_s: float = 0.0,
    ):
        self.http = http
        self.base = f"{gateway_base.rstrip('/')}/M3/m3api-rest/v2/execute"
        self.company = company
        self.division = division
        self.coalescer: Coalescer | None = Coalescer(self, linger_s) if linger_s > 0 else None

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
        """Run one transaction; its output rows, trimmed. See the module contract.

        With a coalescer (``linger_s`` > 0), a call without options of its own (``maxrecs``
        None or 1000) waits that long for others of the same program and kind (read or
        write), and they go as one bulk request; alone, it goes as a single GET. Either way
        it asks for up to 1000 rows.
        """
        if (
            self.coalescer is not None
            and maxrecs in (None, MAX_ROWS_PER_CALL)
            and not returncols
            and division is None
        ):
            return await self.coalescer.call(
                program, transaction, inputs or {}, write=write, record=record
            )
        return await self.send(
            program,
            transaction,
            inputs,
            write=write,
            record=record,
            maxrecs=maxrecs,
            returncols=returncols,
            division=division,
        )

    async def send(
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
        """One transaction as one GET, now (what ``call`` does without a coalescer)."""
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

        The first failed transaction raises, named by ``records[i]``; the ones before it ran
        (and so, unless M3 stopped the batch, may some after it: a caller resuming must ask
        M3 what is there, never count).
        """
        answers = await self.bulk_answers(program, transactions, write=write, records=records)
        rows: list[list[Row]] = []
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
            rows.append(answer)
        return rows

    async def bulk_answers(
        self,
        program: str,
        transactions: Sequence[tuple[str, Mapping[str, str]]],
        *,
        write: bool,
        records: Sequence[str],
    ) -> list[list[Row] | Exception]:
        """One bulk POST; per transaction its rows, or the error it met (not raised).

        ``results[i]`` answers ``transactions[i]``. A transaction M3 did not run (it stopped
        the batch at a failure: ``wasTerminated``) gets a :class:`NotRunError`, so a caller
        knows it is safe to send again. Errors of the request itself (HTTP, timeout) raise.
        """
        body = {
            "program": program,
            "transactions": [
                {"transaction": name, "record": {k: v for k, v in fields.items() if v != ""}}
                for name, fields in transactions
            ],
        }
        summary = f"{records[0]} .. {records[-1]}" if len(records) > 1 else records[0]
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
        out: list[list[Row] | Exception] = []
        for index, (name, _) in enumerate(transactions):
            if index >= len(answer.results):
                out.append(
                    NotRunError(
                        f"M3 did not run {program}/{name} for {records[index]}: it stopped the "
                        f"bulk request at an earlier failure (wasTerminated "
                        f"{answer.wasTerminated}); send it again",
                        system=SYSTEM,
                        record=records[index],
                    )
                )
                continue
            result = answer.results[index]
            if result.error_message or result.error_code or result.error_type:
                out.append(classify(program, name, result, records[index], self.company))
            else:
                out.append([_trim(row) for row in result.records or []])
        return out


#: Rounds a document's call may wait for documents a step behind it (see ``Coalescer``).
MAX_HOLDS = 3


@dataclass
class _Document:
    """A participant's progress: the calls it has made so far in its current document."""

    steps: int = 0


_document: ContextVar[_Document | None] = ContextVar("m3_document", default=None)


class NotRunError(RejectedError):
    """A transaction of a bulk request M3 did not run: nothing happened, send it again."""


@dataclass
class _Waiting:
    transaction: str
    inputs: Mapping[str, str]
    record: str
    answer: asyncio.Future[list[Row]]
    #: Which ``call_many`` queued it (one caller may queue many transactions).
    caller: int
    #: Its document's step (calls made before it in the document); None outside one.
    step: int | None = None
    #: Rounds it has waited for documents behind it.
    held: int = 0


class Coalescer:
    """Single MI calls made at about the same time, sent together as one bulk request.

    Loader workers run the same steps on different documents (look up, AddHead, lines,
    validate, GetHead); a call waits for others of the same program and kind, then one
    request carries them all and each caller gets its own transaction's answer or error, as
    if it had called alone. Waiting is only worth it while other callers' requests are in
    the air (they come back to their next step together): with none in flight, whatever is
    queued goes at once; otherwise a call waits for them at most ``linger_s``, or until
    ``max_size`` transactions are queued.

    Callers that say they are working on a document (:meth:`participant`) make that rule a
    barrier: while any are, queued calls go once **every** such document has a call queued
    (or ``linger_s`` passed with no request in the air: a document waiting for M3's answer
    is not one that stopped calling), whatever is in flight. "Nothing in the air" is a
    poor signal when M3 answers in a millisecond: a document between two calls (reading our
    own ledger) is not in the air, and its next call would miss the request the others
    share. Documents then move through their steps together, and each request carries one
    step of every document, whether M3 answers in 1 ms or 300. A document that fell a step
    behind (it started late, its step took longer) is let catch up: the calls of documents
    further on wait for it, up to :data:`MAX_HOLDS` rounds, so that the next request carries
    the step of all of them again instead of two requests carrying half each forever.

    Reads and writes never share a request: a read may be retried, a write never. A request
    that fails as a whole fails every caller in it the same way (a write's timeout leaves
    each of its documents in doubt, settled by each one's lookup). A transaction M3 did not
    run (a stopped bulk) is sent again alone.
    """

    def __init__(self, mi: MIClient, linger_s: float, max_size: int = 500) -> None:
        self.mi = mi
        self.linger_s = linger_s
        self.max_size = max_size
        self._waiting: dict[tuple[str, bool], list[_Waiting]] = {}
        self._timers: dict[tuple[str, bool], asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Requests sent and not yet answered.
        self._in_flight = 0
        self._check_scheduled = False
        #: Documents being worked on (see :meth:`participant`), and the callers with
        #: transactions queued and not yet sent.
        self._participants = 0
        self._queued_callers = 0
        self._callers = 0

    @contextmanager
    def participant(self) -> Iterator[None]:
        """While open, the caller counts as a document whose next call the others wait for
        (see the class docstring). Open it around one document's look-up or write only: a
        participant that stops calling holds every round up to ``linger_s``."""
        self._participants += 1
        token = _document.set(_Document())
        try:
            yield
        finally:
            _document.reset(token)
            self._participants -= 1
            # The others may have been waiting only for this one.
            self._schedule_check(asyncio.get_running_loop())

    async def call(
        self,
        program: str,
        transaction: str,
        inputs: Mapping[str, str],
        *,
        write: bool,
        record: str | None,
    ) -> list[Row]:
        [rows] = await self.call_many(
            program, [(transaction, inputs, record or f"{program}/{transaction}")], write=write
        )
        if isinstance(rows, Exception):
            raise rows
        return rows

    async def call_many(
        self,
        program: str,
        transactions: Sequence[tuple[str, Mapping[str, str], str]],
        *,
        write: bool,
    ) -> list[list[Row] | Exception]:
        """Several transactions of one caller (a document's lines); each one's answer."""
        loop = asyncio.get_running_loop()
        key = (program, write)
        self._callers += 1
        document = _document.get()
        step = None
        if document is not None:
            step = document.steps
            document.steps += 1
        entries = [
            _Waiting(name, dict(inputs), record, loop.create_future(), self._callers, step)
            for name, inputs, record in transactions
        ]
        waiting = self._waiting.setdefault(key, [])
        waiting.extend(entries)
        self._queued_callers += 1
        if len(waiting) >= self.max_size:
            self._start(key)
        else:
            if key not in self._timers:
                self._timers[key] = loop.call_later(self.linger_s, self._expire, key)
            self._schedule_check(loop)
        answers: list[list[Row] | Exception] = []
        for entry in entries:
            try:
                answers.append(await entry.answer)
            except Exception as exc:  # noqa: BLE001 - each transaction's own error, returned
                answers.append(exc)
        return answers

    def _schedule_check(self, loop: asyncio.AbstractEventLoop) -> None:
        # On the next loop turn: callers woken by the same answer run to their next call
        # first, so they join the queue before it is sent.
        if not self._check_scheduled:
            self._check_scheduled = True
            loop.call_soon(self._check)

    def _check(self) -> None:
        self._check_scheduled = False
        if self._participants:
            # The barrier: send once every document has its next call queued.
            ready = self._queued_callers >= self._participants
        else:
            ready = self._in_flight == 0
        if not ready:
            return
        if not self._participants:
            for key in list(self._waiting):
                self._start(key)
            return
        steps = [w.step for batch in self._waiting.values() for w in batch if w.step is not None]
        behind = min(steps, default=0)
        for key, batch in list(self._waiting.items()):
            ahead = all(w.step is not None and w.step > behind for w in batch)
            if ahead and all(w.held < MAX_HOLDS for w in batch):
                for waiting in batch:
                    waiting.held += 1
            else:
                self._start(key)

    def _start(self, key: tuple[str, bool]) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        batch = self._waiting.pop(key, None)
        if batch:
            self._queued_callers -= len({waiting.caller for waiting in batch})
            self._in_flight += 1
            task = asyncio.create_task(self._send(key, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, key: tuple[str, bool], batch: list[_Waiting]) -> None:
        try:
            await self._answer(key, batch)
        finally:
            self._in_flight -= 1
            loop = asyncio.get_running_loop()
            if self._participants:
                # Under the barrier ``linger_s`` bounds the wait for a document that makes no
                # call, not for M3's answers: every answer restarts it.
                for waiting_key in list(self._timers):
                    self._timers.pop(waiting_key).cancel()
                    self._timers[waiting_key] = loop.call_later(
                        self.linger_s, self._expire, waiting_key
                    )
            self._schedule_check(loop)

    def _expire(self, key: tuple[str, bool]) -> None:
        """``linger_s`` passed for ``key``'s calls: send them, unless documents are waiting
        for M3 (an answer is coming, and it restarts the wait): a round trip longer than
        ``linger_s`` must not split the step the documents share."""
        self._timers.pop(key, None)
        if self._participants and self._in_flight:
            loop = asyncio.get_running_loop()
            self._timers[key] = loop.call_later(self.linger_s, self._expire, key)
            return
        self._start(key)

    async def _answer(self, key: tuple[str, bool], batch: list[_Waiting]) -> None:
        program, write = key
        # A caller cancelled while queued (shutdown) must not have its write sent unseen.
        batch = [waiting for waiting in batch if not waiting.answer.done()]
        if not batch:
            return
        try:
            if len(batch) == 1:
                [one] = batch
                answers: list[list[Row] | Exception] = [await self._alone(program, one, write)]
            else:
                answers = await self.mi.bulk_answers(
                    program,
                    [(w.transaction, w.inputs) for w in batch],
                    write=write,
                    records=[w.record for w in batch],
                )
                for index, answer in enumerate(answers):
                    if isinstance(answer, NotRunError):
                        answers[index] = await self._alone(program, batch[index], write)
        except BaseException as exc:  # noqa: BLE001 - handed to every caller, as its own
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for waiting, answer in zip(batch, answers, strict=True):
            if waiting.answer.done():
                continue  # its caller was cancelled
            if isinstance(answer, Exception):
                waiting.answer.set_exception(answer)
            else:
                waiting.answer.set_result(answer)

    async def _alone(self, program: str, one: _Waiting, write: bool) -> list[Row] | Exception:
        try:
            # The same row cap as the bulk request: coalesced calls ask for up to 1000 rows.
            return await self.mi.send(
                program,
                one.transaction,
                one.inputs,
                write=write,
                record=one.record,
                maxrecs=MAX_ROWS_PER_CALL,
            )
        except Exception as exc:  # noqa: BLE001 - handed to the caller, as its own
            return exc


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
