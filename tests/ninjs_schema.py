"""IPTC's ninjs 2.2 JSON Schema (tests/reference/ninjs-schema_2.2.json) as a validator
that checks formats too, shared by the tests that validate ninjs documents."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

__all__ = ["SCHEMA_FILE", "valid", "validator"]

SCHEMA_FILE = Path(__file__).resolve().parent / "reference/ninjs-schema_2.2.json"


@functools.cache
def validator() -> Validator:
    """IPTC's schema, with the `uri` and `date-time` formats checked too (format is only
    an annotation in JSON Schema unless a checker asserts it)."""
    assert SCHEMA_FILE.is_file(), f"IPTC's ninjs 2.2 schema is expected at {SCHEMA_FILE}"
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    checker = FormatChecker()
    assert {"uri", "date-time"} <= set(checker.checkers), "install rfc3339/rfc3986 validators"
    checked: Validator = cls(schema, format_checker=checker)
    return checked


def valid(validator: Validator, document: dict[str, Any]) -> dict[str, Any]:
    """`document`, once `validator` finds nothing wrong with it (else the test fails,
    naming the worst error and where it is)."""
    error = best_match(validator.iter_errors(document))
    assert error is None, f"{error.message} at {list(error.absolute_path)}\n{document}"
    return document
