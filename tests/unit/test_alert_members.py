"""What changed in an alert's roster, in people's words (notifierd.alerts.members)."""

from __future__ import annotations

from notifierd.alerts.members import change, roster_from_json, roster_json
from notifierd.request import Member

DISK_1 = Member("a", "DiskFull on db-1", True)
DISK_2 = Member("b", "DiskFull on db-2", True)
LATENCY = Member("c", "HighLatency on api-1", True)


def resolved(member: Member) -> Member:
    return Member(member.key, member.title, False)


def test_a_member_joining_and_one_resolving_is_one_change_in_one_line() -> None:
    news = change([DISK_1, LATENCY], [DISK_1, DISK_2, resolved(LATENCY)])
    assert news is not None
    assert news.words() == "2 of 3 alerts firing: +DiskFull on db-2; resolved: HighLatency on api-1"


def test_the_same_roster_again_is_no_change() -> None:
    assert change([DISK_1, DISK_2], [DISK_1, DISK_2]) is None
    assert change([DISK_1, resolved(DISK_2)], [DISK_1, resolved(DISK_2)]) is None


def test_a_resolved_member_dropped_from_the_list_is_no_news() -> None:
    assert change([DISK_1, resolved(DISK_2)], [DISK_1]) is None


def test_a_firing_member_gone_from_the_list_has_resolved() -> None:
    news = change([DISK_1, DISK_2], [DISK_1])
    assert news is not None and news.words() == "1 of 2 alerts firing: resolved: DiskFull on db-2"


def test_the_first_roster_heard_is_what_the_first_message_said() -> None:
    assert change(None, [DISK_1, DISK_2]) is None


def test_the_roster_keeps_its_members_in_the_table() -> None:
    roster = (DISK_1, resolved(DISK_2))
    assert roster_from_json(roster_json(roster)) == roster
    assert roster_from_json(None) is None
