"""Validation inlines local ``$ref``s at load (a third of its CPU): same constraints, no lookups."""

from __future__ import annotations

import json

import pytest

from shared.schemas import load_schema
from shared.validation import inline_local_refs


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for key, value in node.items() if key != "$defs" for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


@pytest.mark.parametrize("name", ["change_request.v1", "policy.v1", "result.v1", "template.v1"])
def test_the_packaged_schemas_validate_without_a_reference_left(name):
    schema = load_schema(name)
    inlined = inline_local_refs(schema)
    assert _refs(schema)  # they do use references
    assert _refs(inlined) == []
    assert inlined["$defs"] == schema["$defs"]  # kept: nothing else changes


def test_a_recursive_definition_keeps_its_reference_and_a_ref_with_siblings_is_left_alone():
    schema = {
        "$defs": {"tree": {"type": "object", "properties": {"kids": {"items": {"$ref": "#/$defs/tree"}}}}},
        "properties": {"root": {"$ref": "#/$defs/tree"}, "other": {"$ref": "#/$defs/tree", "maxProperties": 1}},
    }
    inlined = inline_local_refs(schema)
    root = inlined["properties"]["root"]
    assert root["type"] == "object" and root["properties"]["kids"]["items"] == {"$ref": "#/$defs/tree"}
    assert inlined["properties"]["other"] == {"$ref": "#/$defs/tree", "maxProperties": 1}
    assert json.dumps(schema)  # the input is not changed in place
    assert schema["properties"]["root"] == {"$ref": "#/$defs/tree"}
