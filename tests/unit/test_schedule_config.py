"""Schedules as config: loaded into the snapshot, every mistake located at path:line:col."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from tests.unit.config_repo import findings, validate

ROUTES = """\
channels:
  ops-slack: {type: slack, token: "${SLACK_BOT_TOKEN}", default_recipients: ["#ops"]}
  pager: {type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}"}
people:
  alice: {contacts: [{slack: "@U0ALICE"}]}
  bob: {contacts: [{slack: "@U0BOB"}]}
  carol: {contacts: [{slack: "@U0CAROL"}]}
  dave: {contacts: [{slack: "@U0DAVE"}]}
  erin: {contacts: [{slack: "@U0ERIN"}]}
  mallory: {contacts: [{email: mallory@company.com}]}
routes:
  - name: default
    channels: [ops-slack]
"""

PRIMARY = """\
# yaml-language-server: $schema=../../schemas/schedule.schema.json
name: Primary on-call
handle: on-call-primary
timezone: Europe/Berlin
layers:
  - name: weekly
    members: [alice, bob, carol]
    rotation: 1w
    start: 2026-01-05T09:00
  - name: office-hours
    members: [erin]
    rotation: 1w
    start: 2026-01-05T09:00
    restrict: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]
overrides:
  - {person: dave, from: 2026-12-24T00:00, until: 2026-12-27T00:00, reason: holiday swap}
  - {person: bob, from: 2026-12-31T18:00-05:00, until: 2027-01-01T09:00Z}
fallback: ["#incidents"]
"""


def repo(schedule: str = PRIMARY, routes: str = ROUTES, **more: str) -> dict[str, str]:
    files = {"routes.yaml": routes, "schedules/primary.yaml": schedule}
    files.update({f"schedules/{sid}.yaml": text for sid, text in more.items()})
    return files


def test_a_schedule_becomes_frozen_values_in_the_snapshot(tmp_path: Path) -> None:
    result = validate(tmp_path, repo())
    assert result.problems == []
    assert result.snapshot is not None
    schedule = result.snapshot.schedules["primary"]
    assert (schedule.id, schedule.name, schedule.handle) == (
        "primary",
        "Primary on-call",
        "on-call-primary",
    )
    weekly, office = schedule.layers
    assert weekly.members == ("alice", "bob", "carol")
    assert weekly.rotation == 7 * 86400
    assert weekly.start == datetime(2026, 1, 5, 9, 0)  # the schedule's wall clock
    assert office.restrict[0].days == frozenset(range(5))
    assert (office.restrict[0].start, office.restrict[0].end) == (time(9), time(17))
    holiday, new_year = schedule.overrides
    # Local time in Europe/Berlin (UTC+1 in December) unless an offset is given.
    assert holiday.start == datetime(2026, 12, 23, 23, 0, tzinfo=UTC)
    assert holiday.reason == "holiday swap"
    assert new_year.start == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert new_year.end == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    assert schedule.fallback == ("#incidents",)
    assert schedule.path == "schedules/primary.yaml"


def test_a_layer_start_with_an_offset_is_read_on_the_schedules_clock(tmp_path: Path) -> None:
    text = PRIMARY.replace("start: 2026-01-05T09:00\n", "start: 2026-01-05T08:00Z\n", 1)
    result = validate(tmp_path, repo(text))
    assert result.snapshot is not None
    assert result.snapshot.schedules["primary"].layers[0].start == datetime(2026, 1, 5, 9, 0)


def test_mistakes_in_a_schedule_are_located(tmp_path: Path) -> None:
    text = (
        PRIMARY.replace("Europe/Berlin", "Europe/Berlln")
        .replace("[alice, bob, carol]", "[alice, bob, carl, mallory]")
        .replace(
            "rotation: 1w\n    start: 2026-01-05T09:00\n  -",
            "rotation: 30s\n    start: 2026-13-05T09:00\n  -",
        )
        .replace("until: 2027-01-01T09:00Z", "until: 2026-12-31T22:00Z")
        .replace('["#incidents"]', '["#incidents", "nobody"]')
    )
    assert findings(tmp_path, repo(text)) == [
        "schedules/primary.yaml:4:11: unknown time zone 'Europe/Berlln': use an IANA name such "
        "as Europe/Berlin or UTC",
        "schedules/primary.yaml:7:27: unknown person 'carl' (did you mean 'carol'?); people are "
        "defined under 'people:' in routes.yaml",
        "schedules/primary.yaml:7:33: person 'mallory' has no contact that any channel can reach "
        "(contacts: email; channels: slack): add a contact of a channel's type",
        "schedules/primary.yaml:8:15: rotation '30s' is shorter than 1m: each member's turn lasts "
        "this long, e.g. 12h, 1d or 1w",
        "schedules/primary.yaml:9:12: 'start': invalid date-time '2026-13-05T09:00': use e.g. "
        "2026-01-05T09:00 (the schedule's time zone) or 2026-01-05T09:00+01:00",
        "schedules/primary.yaml:17:56: override ends before it starts (until 2026-12-31T22:00Z "
        "is not after from 2026-12-31T18:00-05:00): swap them or fix the date",
        "schedules/primary.yaml:18:26: fallback recipient 'nobody' fits none of the config's "
        "channels (pagerduty, slack): use a person, #channel/@user for Slack, an e-mail address, "
        "+E.164 for SMS, or a channel name prefix such as ops-email:ops@company.com",
    ]


def test_schema_problems_name_the_fix(tmp_path: Path) -> None:
    text = PRIMARY.replace(
        "rotation: 1w\n    start: 2026-01-05T09:00\n  -",
        "rotation: 1 week\n    start: 2026-01-05T09:00\n  -",
    ).replace('from: "09:00"', 'from: "9:00"')
    assert findings(tmp_path, repo(text)) == [
        "schedules/primary.yaml:8:15: 'rotation': invalid value string '1 week': use a number "
        "and a unit, e.g. 12h, 1d, 1w or 2w",
        "schedules/primary.yaml:14:56: 'from': invalid value string '9:00': use a 24-hour "
        "wall-clock time such as 09:00 or 17:30",
    ]


def test_a_handle_names_one_thing(tmp_path: Path) -> None:
    second = PRIMARY.replace("Primary on-call", "Second")
    clash = PRIMARY.replace("handle: on-call-primary", "handle: alice")
    found = findings(tmp_path, repo(backup=second, other=clash))
    assert found == [
        "schedules/other.yaml:3:9: handle 'alice' of schedule 'other' is also a person's name "
        "in routes.yaml: a recipient written that way would be ambiguous; rename one",
        "schedules/primary.yaml:3:9: handle 'on-call-primary' is already the handle of "
        "schedules/backup.yaml (line 3): each handle names one schedule",
    ]


def test_a_handle_may_not_be_a_channel_name(tmp_path: Path) -> None:
    text = PRIMARY.replace("handle: on-call-primary", "handle: ops-slack")
    assert findings(tmp_path, repo(text)) == [
        "schedules/primary.yaml:3:9: handle 'ops-slack' of schedule 'primary' is also a "
        "channel's name in routes.yaml: a recipient written that way would be ambiguous; "
        "rename one"
    ]


def test_schedule_files_are_named_like_policies(tmp_path: Path) -> None:
    files = {"routes.yaml": ROUTES, "schedules/primary.yml": PRIMARY}
    assert findings(tmp_path, files) == [
        "schedules/primary.yml:1:1: schedule files end in .yaml; rename it"
    ]


def test_a_broken_routes_file_does_not_make_every_member_unknown(tmp_path: Path) -> None:
    found = findings(tmp_path, repo(routes=ROUTES.replace("routes:\n", "routes: [\n")))
    assert found and all(f.startswith("routes.yaml:") for f in found), found


def test_the_schema_is_valid_and_its_example_passes_it() -> None:
    from jsonschema import Draft202012Validator

    from notifierd.config.schemas import schema, validator

    Draft202012Validator.check_schema(schema("schedule"))
    for example in schema("schedule")["examples"]:
        assert list(validator("schedule").iter_errors(example)) == []
