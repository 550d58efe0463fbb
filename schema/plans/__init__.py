"""Compiled reads: a plan per validated query that answers without graphql-core's
field-by-field execution, proven byte for byte against it (tests/api/test_plans.py)."""

from schema.plans import codegen, compiler, extension, plan

__all__ = ["codegen", "compiler", "extension", "plan"]
