"""Channel settings: ``${NAME}`` references expanded from the environment, secrets collected;
each channel type's settings spec in step with its schema."""

from __future__ import annotations

import importlib
from types import MappingProxyType

import pytest

from notifierd.channels.base import REDACTED, ChannelConfigError, resolve_settings, secret_source
from notifierd.channels.registry import SENDER_MODULES
from notifierd.config.channel_settings import SETTINGS_SPECS, settings_spec
from notifierd.config.model import CHANNEL_TYPES, Channel
from notifierd.config.schemas import schema
from notifierd.config.values import expand_env
from tests.fakes import make_channel

WEBHOOK = settings_spec("webhook")
ENV = {"SLACK_BOT_TOKEN": "xoxb-secret-token", "HOST": "smtp.example.com", "KEY": "k3y-value"}


def channel(**settings: object) -> Channel:
    return Channel("ops", "webhook", MappingProxyType(settings))


def test_references_expand_in_text_lists_and_mappings() -> None:
    resolved = resolve_settings(
        channel(
            url="https://${HOST}/hook",
            to=["${HOST}", "fixed"],
            headers={"Authorization": "Bearer ${KEY}"},
            timeout=5,
        ),
        ENV,
        WEBHOOK,
    )
    assert resolved.values["url"] == "https://smtp.example.com/hook"
    assert resolved.values["to"] == ["smtp.example.com", "fixed"]
    assert resolved.values["headers"] == {"Authorization": "Bearer k3y-value"}
    assert resolved.values["timeout"] == 5


def test_secrets_are_the_values_behind_secret_settings_and_are_redacted() -> None:
    resolved = resolve_settings(
        channel(secret="${SLACK_BOT_TOKEN}", headers={"X-Key": "${KEY}"}, note="${HOST}"),
        ENV,
        WEBHOOK,
    )
    assert set(resolved.secrets) == {"xoxb-secret-token", "k3y-value"}
    assert resolved.redact("failed with xoxb-secret-token at smtp.example.com") == (
        "failed with *** at smtp.example.com"
    )


def test_a_missing_variable_names_the_variable_and_setting_never_a_value() -> None:
    with pytest.raises(ChannelConfigError) as caught:
        resolve_settings(
            channel(secret="${SLACK_BOT_TOKEN}", headers={"X": "${NOPE}"}), ENV, WEBHOOK
        )
    assert str(caught.value) == (
        "environment variable NOPE is not set (setting 'headers.X' of channel 'ops')"
    )


def test_secret_source_names_the_variable() -> None:
    assert secret_source(channel(token="${SLACK_BOT_TOKEN}"), "token") == "${SLACK_BOT_TOKEN}"
    assert secret_source(channel(token="literal"), "token") == "setting 'token'"


def test_expand_env_reports_the_first_missing_name() -> None:
    assert expand_env("${HOST}:${KEY}", ENV) == "smtp.example.com:k3y-value"
    with pytest.raises(KeyError, match="MISSING"):
        expand_env("${HOST}${MISSING}", ENV)


def _schema_properties(channel_type: str) -> dict[str, dict[str, object]]:
    properties: dict[str, dict[str, object]] = schema("routes")["$defs"][channel_type]["properties"]
    return properties


def test_every_channel_type_has_a_spec() -> None:
    assert set(SETTINGS_SPECS) == set(CHANNEL_TYPES)


@pytest.mark.parametrize("channel_type", CHANNEL_TYPES)
def test_secrets_are_exactly_the_settings_the_schema_wants_as_references(
    channel_type: str,
) -> None:
    properties = _schema_properties(channel_type)
    env_refs = {k for k, v in properties.items() if v.get("$ref") == "#/$defs/env_ref"}
    spec = settings_spec(channel_type)

    assert set(spec.secrets) == env_refs
    assert spec.secret_bearing <= set(properties)


@pytest.mark.parametrize("channel_type", CHANNEL_TYPES)
def test_each_channel_module_redacts_with_the_spec_validation_reads(channel_type: str) -> None:
    module = importlib.import_module(SENDER_MODULES[channel_type])
    spec = settings_spec(channel_type)
    assert module.SETTINGS is spec
    environ = {f"VAR_{key.upper()}": f"value-of-{key}-1234" for key in spec.secrets}
    channel = make_channel("c", channel_type, **{k: f"${{VAR_{k.upper()}}}" for k in spec.secrets})

    resolved = resolve_settings(channel, environ, module.SETTINGS)

    reason = "refused: " + " ".join(environ.values())
    assert resolved.redact(reason) == "refused: " + " ".join(REDACTED for _ in environ)


def test_a_secret_bearing_setting_is_redacted_but_an_ordinary_one_is_not() -> None:
    channel = make_channel(
        "audit", "webhook", url="https://hooks.example.com/${HOOK_KEY}", description="${TEAM}"
    )
    environ = {"HOOK_KEY": "k3y-in-the-path", "TEAM": "platform"}

    resolved = resolve_settings(channel, environ, settings_spec("webhook"))

    assert resolved.values["url"] == "https://hooks.example.com/k3y-in-the-path"
    assert resolved.redact("POST k3y-in-the-path for platform") == "POST *** for platform"
