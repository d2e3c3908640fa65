"""Channel settings: ``${NAME}`` references expanded from the environment, secrets collected."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from notifierd.channels.base import ChannelConfigError, resolve_settings, secret_source
from notifierd.config.model import Channel
from notifierd.config.values import expand_env

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
    )
    assert resolved.values["url"] == "https://smtp.example.com/hook"
    assert resolved.values["to"] == ["smtp.example.com", "fixed"]
    assert resolved.values["headers"] == {"Authorization": "Bearer k3y-value"}
    assert resolved.values["timeout"] == 5


def test_secrets_are_the_values_behind_secret_settings_and_are_redacted() -> None:
    resolved = resolve_settings(
        channel(token="${SLACK_BOT_TOKEN}", headers={"X-Key": "${KEY}"}, note="${HOST}"), ENV
    )
    assert set(resolved.secrets) == {"xoxb-secret-token", "k3y-value"}
    assert resolved.redact("failed with xoxb-secret-token at smtp.example.com") == (
        "failed with *** at smtp.example.com"
    )


def test_a_missing_variable_names_the_variable_and_setting_never_a_value() -> None:
    with pytest.raises(ChannelConfigError) as caught:
        resolve_settings(channel(token="${SLACK_BOT_TOKEN}", headers={"X": "${NOPE}"}), ENV)
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
