"""Where a function's project id comes from: user data PROJECT_ID, else the preset environment
variable RUNTIME_PROJECT_ID, else ``context.getProjectID()`` where a runtime has it (the documented
context table does not list it: docs/fidelity.md)."""

from __future__ import annotations

import pytest

from localcloud.runtime import FunctionContext
from shared.cloud.clients import credentials_from_context
from shared.config import ConfigError, load_settings

PROJECT = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
OTHER = "ffffffffffffffffffffffffffffffff"
DOCUMENTED_CONTEXT_METHODS = {
    "getRequestID",
    "getRemainingTimeInMilliSeconds",
    "getAccessKey",
    "getSecretKey",
    "getSecurityAccessKey",
    "getSecuritySecretKey",
    "getSecurityToken",
    "getUserData",
    "getFunctionName",
    "getRunningTimeInSeconds",
    "getVersion",
    "getMemorySize",
    "getCPUNumber",
    "getPackage",
    "getToken",
    "getLogger",
    "getAlias",
}


class DocumentedContext:
    """Only what the documentation promises (no getProjectID)."""

    def __init__(self, user_data=None):
        self._user_data = user_data or {}

    def getUserData(self, key, default=None):
        return self._user_data.get(key, default)

    def getSecurityAccessKey(self):
        return "AK"

    def getSecuritySecretKey(self):
        return "SK"

    def getSecurityToken(self):
        return "token"


class LegacyContext(DocumentedContext):
    def getProjectID(self):
        return OTHER


def test_the_preset_environment_variable_is_used_when_the_context_has_no_method():
    settings = load_settings(DocumentedContext(), {"RUNTIME_PROJECT_ID": PROJECT})
    assert settings.project_id == PROJECT
    assert credentials_from_context(DocumentedContext(), settings).project_id == PROJECT


def test_user_data_wins_over_the_preset_variable_and_the_context():
    settings = load_settings(LegacyContext({"PROJECT_ID": PROJECT}), {"RUNTIME_PROJECT_ID": OTHER})
    assert settings.project_id == PROJECT


def test_the_preset_variable_wins_over_the_context_method():
    assert load_settings(LegacyContext(), {"RUNTIME_PROJECT_ID": PROJECT}).project_id == PROJECT


def test_the_context_method_is_the_last_resort():
    assert load_settings(LegacyContext(), {}).project_id == OTHER


def test_no_source_is_a_configuration_error_naming_the_setting():
    settings = load_settings(DocumentedContext(), {})
    with pytest.raises(ConfigError) as raised:
        credentials_from_context(DocumentedContext(), settings)
    assert raised.value.name == "PROJECT_ID"


def test_localclouds_context_offers_exactly_the_documented_methods():
    context = FunctionContext(user_data={}, ak="a", sk="s")
    offered = {name for name in dir(context) if name.startswith("get") and callable(getattr(context, name))}
    assert offered == DOCUMENTED_CONTEXT_METHODS
    assert not hasattr(context, "getProjectID")
