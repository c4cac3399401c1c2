"""Every packaged schema is a valid Draft 2020-12 schema (checked here, not at cold start)."""

import pytest
from jsonschema import Draft202012Validator

from shared.schemas import available_schemas, load_schema


@pytest.mark.parametrize("name", available_schemas())
def test_schema_is_valid_draft_2020_12(name):
    Draft202012Validator.check_schema(load_schema(name))


def test_the_schemas_the_functions_use_are_packaged():
    assert {"change_request.v1", "result.v1", "policy.v1"} <= set(available_schemas())
