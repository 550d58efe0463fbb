"""One request and its verdict. A fault is: an exception out of the app (Starlette's 500),
any other 5xx, no answer within HANG_SECONDS, an error the server logged (Strawberry logs
each unexpected resolver error with its traceback), or an "Unexpected error." in the body
(production's mask over a server fault).

A fault raises the server's own exception when there is one, with the request as a note:
hypothesis tells bugs apart by where they were raised, shrinks each and prints it. With
NEWSDESK_FUZZ_REPORT=path the run goes on instead, and each distinct fault (by exception
type and place, or by status) is appended to that file once, as a JSON line with its
request and traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import traceback
from collections.abc import Iterator
from typing import Any

import httpx

__all__ = ["HANG_SECONDS", "Fault", "Faults", "send", "watching"]

HANG_SECONDS = 120  # a guard against hangs, not a timing assertion
MASKED = "Unexpected error."
REPORT = os.environ.get("NEWSDESK_FUZZ_REPORT")
_reported: set[str] = set()


class Fault(AssertionError):
    """A 5xx, a hang or a masked error with no exception to show for it."""


class Faults(logging.Handler):
    """Log records at ERROR and above written while a request was served."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def watching() -> Iterator[Faults]:
    handler = Faults()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _masked(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    return any(isinstance(e, dict) and e.get("message") == MASKED for e in errors or ())


def _signature(error: BaseException) -> str:
    """Type, message (values left out) and place: the database drivers raise every error
    from one line, so the message tells a 40-digit ID from a lone surrogate."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "-"
    message = str(error).splitlines()[0] if str(error) else ""
    # the value at fault, whichever it was: a lone surrogate (raw or escaped), a number, a quote
    message = re.sub(r"\\[uUx][0-9a-fA-F]+|[^ -~]", "?", message)
    message = re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", message)
    return f"{type(error).__name__}: {message[:100]} at {place}"


def _fail(error: BaseException, what: str) -> None:
    error.add_note(what)
    if REPORT is None:
        raise error
    signature = _signature(error) if error.__traceback__ else str(error).splitlines()[0]
    if signature in _reported:
        return
    _reported.add(signature)
    trace = "".join(traceback.format_exception(error))
    with open(REPORT, "a", encoding="utf-8") as report:
        line = {"signature": signature, "request": what, "traceback": trace}
        report.write(json.dumps(line, ensure_ascii=True) + "\n")


async def send(
    client: httpx.AsyncClient, faults: Faults, what: str, **request: Any
) -> httpx.Response | None:
    """Send one request; a fault fails the test (or, reporting, is written down).
    `what` describes the request for the report. None when the app raised."""
    faults.records.clear()
    try:
        async with asyncio.timeout(HANG_SECONDS):
            response = await client.request(**request)
    except TimeoutError:
        _fail(Fault(f"no answer within {HANG_SECONDS} s"), what)
        return None
    except Exception as error:  # out of the app: Starlette answered 500
        _fail(error, f"the app raised (a 500)\n{what}")
        return None
    answer = f"{what}\nanswer: {response.status_code} {response.text[:1500]}"
    for record in faults.records:
        logged = record.exc_info[1] if record.exc_info else None
        if logged is not None:
            _fail(logged, f"logged by {record.name}: {record.getMessage()[:300]}\n{answer}")
        else:
            _fail(Fault(f"logged by {record.name}: {record.getMessage()[:300]}"), answer)
    if response.status_code >= 500:
        _fail(Fault(f"HTTP {response.status_code}"), answer)
    elif _masked(response) and not faults.records:  # a logged fault is reported above
        _fail(Fault(f"{MASKED!r} in the answer (a server fault)"), answer)
    return response
