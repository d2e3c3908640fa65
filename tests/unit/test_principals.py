"""Principals and roles: producers and people in routes.yaml, their tokens, who may act on what."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notifierd.config.model import Snapshot
from notifierd.principals import (
    API_TOKEN,
    CredentialError,
    Ownership,
    Principals,
    Role,
    anonymous_producer,
    refusal,
    slack_actor,
)
from notifierd.secrets import Secrets, SecretsError, read_secrets_file
from tests.unit.config_repo import findings, validate

ROUTES = """\
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", default_recipients: ["#ops"]}
routes:
  - name: db
    matchers: ['team="db"']
    channels: [chat]
  - name: default
    channels: [chat]
producers:
  ci:
    token: "${CI_TOKEN}"
  db-monitor:
    token: "${DB_MONITOR_TOKEN}"
    roles: [produce, view]
    may_act_on: {routes: [db], producers: [ci]}
people:
  alice:
    roles: [operate]
    token: "${ALICE_TOKEN}"
    contacts: [{slack: "@U0ALICE"}]
  bob:
    roles: [admin]
    contacts: [{email: bob@company.com}]
  carol:
    contacts: [{slack: "@U0CAROL"}]
"""


def snapshot(tmp_path: Path, routes: str = ROUTES) -> Snapshot:
    result = validate(tmp_path, {"routes.yaml": routes})
    assert result.snapshot is not None, [str(p) for p in result.problems]
    return result.snapshot


def bearer(token: str) -> str:
    return f"Bearer {token}"


def test_producers_and_people_become_principals_with_their_roles(tmp_path: Path) -> None:
    secrets = Secrets({"CI_TOKEN": "ci-secret", "ALICE_TOKEN": "alice-secret"}, {})
    principals = Principals.of(snapshot(tmp_path), secrets)
    ci = principals.authenticate(bearer("ci-secret"))
    alice = principals.authenticate(bearer("alice-secret"))
    assert ci is not None and ci.id == "producer:ci" and ci.roles == {Role.PRODUCE}
    assert alice is not None and alice.id == "person:alice" and alice.roles == {Role.OPERATE}
    assert principals.authenticate(bearer("guess")) is None
    assert principals.authenticate("Basic ci-secret") is None
    # db-monitor's token is not set anywhere: it cannot log in, and is no error.
    assert principals.configured


def test_admin_implies_operate_and_view_and_the_break_glass_token_has_every_role(
    tmp_path: Path,
) -> None:
    snap = snapshot(tmp_path)
    principals = Principals.of(snap, Secrets({"NOTIFIERD_API_TOKEN": "glass"}, {}))
    assert principals.authenticate(bearer("glass")) == API_TOKEN
    assert API_TOKEN.roles == set(Role)
    bob = slack_actor(snap, None)  # anyone in Slack may operate by default
    assert bob.may(Role.OPERATE)
    from notifierd.principals import person_principal

    assert person_principal(snap.people["bob"]).roles == {Role.ADMIN, Role.OPERATE, Role.VIEW}


def test_no_credential_anywhere_means_not_configured(tmp_path: Path) -> None:
    assert not Principals.of(snapshot(tmp_path), Secrets({}, {})).configured


def test_one_token_for_two_principals_is_refused(tmp_path: Path) -> None:
    secrets = Secrets({"CI_TOKEN": "same", "ALICE_TOKEN": "same"}, {})
    with pytest.raises(CredentialError, match="producer:ci and person:alice"):
        Principals.of(snapshot(tmp_path), secrets)


def test_tokens_come_from_the_secrets_file_when_the_environment_lacks_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("# principals\nCI_TOKEN=from-file\n\nALICE_TOKEN = spaced \n")
    os.chmod(path, 0o600)
    secrets = Secrets.load({"NOTIFIERD_SECRETS_FILE": str(path), "ALICE_TOKEN": "from-env"})
    principals = Principals.of(snapshot(tmp_path), secrets)
    ci = principals.authenticate(bearer("from-file"))
    assert ci is not None and ci.id == "producer:ci"
    alice = principals.authenticate(bearer("from-env"))  # the environment wins
    assert alice is not None and alice.id == "person:alice"


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("CI_TOKEN=x\n")
    os.chmod(path, 0o640)
    with pytest.raises(SecretsError, match="chmod 600"):
        read_secrets_file(path)
    os.chmod(path, 0o600)
    path.write_text("CI_TOKEN\n")
    with pytest.raises(SecretsError, match=":1: expected KEY=VALUE"):
        read_secrets_file(path)
    with pytest.raises(SecretsError, match="cannot read"):
        read_secrets_file(tmp_path / "missing")


def test_a_producer_acts_on_its_own_alerts_and_on_what_may_act_on_grants(
    tmp_path: Path,
) -> None:
    snap = snapshot(tmp_path)
    secrets = Secrets({"CI_TOKEN": "c", "DB_MONITOR_TOKEN": "d", "ALICE_TOKEN": "a"}, {})
    principals = Principals.of(snap, secrets)
    ci, monitor, alice = (principals.authenticate(bearer(t)) for t in "cda")
    assert ci is not None and monitor is not None and alice is not None
    own = Ownership("producer:ci", ("default",))
    others = Ownership("producer:db-monitor", ("default",))
    on_db_route = Ownership("anonymous", ("db",))
    assert refusal(ci, own) is None
    assert refusal(ci, others) == (
        "producer:ci may act only on alerts it opened or that its may_act_on grants; "
        "this one was opened by producer:db-monitor"
    )
    assert refusal(ci, on_db_route) is not None
    assert refusal(monitor, on_db_route) is None  # by route
    assert refusal(monitor, own) is None  # by producer
    assert refusal(monitor, Ownership("anonymous", ("default",))) is not None
    assert refusal(alice, others) is None  # operate: any alert


def test_the_anonymous_producer_acts_on_nothing_unless_granted(tmp_path: Path) -> None:
    anonymous = anonymous_producer(snapshot(tmp_path))
    reason = refusal(anonymous, Ownership("anonymous", ("default",)))
    assert reason is not None and "anonymous producer" in reason
    granted = snapshot(
        tmp_path / "granted",
        ROUTES.replace(
            "producers:\n", "producers:\n  anonymous:\n    may_act_on: {producers: [anonymous]}\n"
        ),
    )
    assert refusal(anonymous_producer(granted), Ownership("anonymous", ())) is None


def test_slack_users_are_mapped_to_people_and_people_only_requires_operate(
    tmp_path: Path,
) -> None:
    snap = snapshot(tmp_path)
    assert slack_actor(snap, "U0ALICE").id == "person:alice"
    assert slack_actor(snap, "U0NOBODY").id == "slack:U0NOBODY"
    assert slack_actor(snap, "U0NOBODY").may(Role.OPERATE)
    strict = snapshot(tmp_path / "strict", "settings: {slack_actions: people_only}\n" + ROUTES)
    assert slack_actor(strict, "U0ALICE").may(Role.OPERATE)
    assert not slack_actor(strict, "U0CAROL").may(Role.OPERATE)  # a person without operate
    assert not slack_actor(strict, "U0NOBODY").may(Role.OPERATE)


def test_validate_locates_every_principal_problem(tmp_path: Path) -> None:
    routes = ROUTES.replace(
        "may_act_on: {routes: [db], producers: [ci]}",
        "may_act_on: {routes: [dbb], producers: [cii]}",
    )
    routes = routes.replace('token: "${ALICE_TOKEN}"', 'token: "${CI_TOKEN}"')
    routes += "  ci:\n    contacts: [{email: ci@company.com}]\n"
    routes = routes.replace("producers:\n", 'producers:\n  anonymous: {token: "${ANON}"}\n')
    routes = routes.replace(
        '  ci:\n    token: "${CI_TOKEN}"',
        '  ci:\n    token: "literal-token"\n  ci2:\n    token: "${CI_TOKEN}"',
    )
    found = findings(tmp_path, {"routes.yaml": routes})
    text = "\n".join(found)
    assert "routes.yaml:10:" in text and "${CI_TOKEN}" in text  # a literal token is refused
    assert "unknown route 'dbb' (did you mean 'db'?) in may_act_on of producer 'db-monitor'" in text
    assert "unknown producer 'cii'" in text
    assert "token ${CI_TOKEN} is already the token at line" in text
    assert "'ci' is both a producer and a person" in text
    assert "'anonymous' is the default queue, which has no credential" in text


def test_producers_may_hold_only_produce_and_view(tmp_path: Path) -> None:
    routes = ROUTES.replace("roles: [produce, view]", "roles: [produce, operate]")
    found = findings(tmp_path, {"routes.yaml": routes})
    assert found == [
        "routes.yaml:14:22: 'roles' must be one of: produce, view; got string 'operate'"
    ]
