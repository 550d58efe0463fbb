"""Compiled reads: a plan per validated query that answers without graphql-core's
field-by-field execution, proven byte for byte against it (tests/api/test_plans.py)."""

from schema.plans import compiler, extension, plan

__all__ = ["compiler", "extension", "plan"]
