"""Which settings of each channel type hold secrets: one spec per type, read by validation (a
secret must be an environment reference) and by the channels (secrets never reach a reason).

Which settings a type has, and which it requires, is its schema (``schemas/routes.schema.json``);
a unit test keeps every setting named here in it. The specs live in config/, the lowest layer,
so that validation reads them without importing the channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class SettingsSpec:
    """The secret-holding settings of one channel type."""

    # setting -> the environment variable a config problem suggests for it
    secrets: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Settings that may embed a secret (a key in a URL's path, a token in a header): not
    # required to be references, but whatever their references expand to is redacted.
    secret_bearing: frozenset[str] = frozenset()

    def holds_secret(self, key: str) -> bool:
        """True when a value of ``key`` is, or may contain, a secret."""
        return key in self.secrets or key in self.secret_bearing


NO_SECRETS = SettingsSpec()

SETTINGS_SPECS: Mapping[str, SettingsSpec] = MappingProxyType(
    {
        "slack": SettingsSpec(
            MappingProxyType({"token": "SLACK_BOT_TOKEN"}), frozenset({"api_url"})
        ),
        "email": SettingsSpec(
            MappingProxyType({"password": "SMTP_PASSWORD", "api_key": "SENDGRID_API_KEY"}),
            frozenset({"api_url"}),
        ),
        "teams": SettingsSpec(MappingProxyType({"webhook_url": "TEAMS_WEBHOOK_URL"})),
        "pagerduty": SettingsSpec(
            MappingProxyType({"routing_key": "PAGERDUTY_ROUTING_KEY"}), frozenset({"api_url"})
        ),
        "webhook": SettingsSpec(
            MappingProxyType({"secret": "WEBHOOK_SECRET"}), frozenset({"url", "headers"})
        ),
        "sms": SettingsSpec(
            MappingProxyType(
                {"account_sid": "TWILIO_ACCOUNT_SID", "auth_token": "TWILIO_AUTH_TOKEN"}
            ),
            frozenset({"api_url"}),
        ),
    }
)


def settings_spec(channel_type: str) -> SettingsSpec:
    """The spec of ``channel_type``; an unknown type (a schema problem already) has no secrets."""
    return SETTINGS_SPECS.get(channel_type, NO_SECRETS)
