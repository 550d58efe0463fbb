"""JSON out: orjson, with a way through for text Python holds but UTF-8 cannot carry.

A lone surrogate ("\\ud800") is valid in a Python str and in a JSON escape, not in UTF-8.
It reaches an answer only from the client's own input echoed back (graphql-core repeats
a variable's value in its coercion error), and orjson refuses it; such strings go out
with the surrogate replaced by "?" rather than failing the request.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["json_bytes", "json_text"]


def json_bytes(value: Any, *, sort_keys: bool = False) -> bytes:
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    try:
        return orjson.dumps(value, option=option)
    except TypeError:
        return orjson.dumps(_encodable(value), option=option)


def json_text(value: Any, *, sort_keys: bool = False) -> str:
    return json_bytes(value, sort_keys=sort_keys).decode()


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(key): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    return value
