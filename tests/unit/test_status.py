"""The status families and the words SQL spells for them: a query naming a status that no family
has (a typo, or a status added on one side only) fails here."""

from __future__ import annotations

import re

import pytest

from notifierd.status import (
    COMPLETE_AT_FIRST_WRITE,
    FINAL_DELIVERY_STATUSES,
    AlertStatus,
    DeliveryStatus,
    StepStatus,
)
from notifierd.store.queries import queries
from notifierd.store.records import StepRef

# status = 'x', status <> 'x', status IN ('x', 'y'), SET status = 'x' (any table alias).
_COMPARED = re.compile(r"\bstatus\s*(?:=|<>|!=)\s*'(\w+)'")
_LISTED = re.compile(r"\bstatus\s+(?:NOT\s+)?IN\s*\(([^)]*)\)", re.IGNORECASE)


def spelled_statuses(sql: str) -> set[str]:
    words = set(_COMPARED.findall(sql))
    for listed in _LISTED.findall(sql):
        words |= set(re.findall(r"'(\w+)'", listed))
    return words


def test_the_final_statuses_are_the_ones_never_sent_again() -> None:
    assert {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.DRY_RUN,
        DeliveryStatus.DEAD,
        DeliveryStatus.SUPPRESSED,
        DeliveryStatus.DEDUPLICATED,
        DeliveryStatus.DIGESTED,
    } == FINAL_DELIVERY_STATUSES
    assert COMPLETE_AT_FIRST_WRITE < FINAL_DELIVERY_STATUSES
    # A retry in any of these is still owed to someone.
    assert (
        not {
            DeliveryStatus.QUEUED,
            DeliveryStatus.SENDING,
            DeliveryStatus.RETRYING,
            DeliveryStatus.HELD,  # owed to someone in a digest
        }
        & FINAL_DELIVERY_STATUSES
    )


@pytest.mark.parametrize("name", sorted(queries()))
def test_queries_spell_only_statuses_of_a_family(name: str) -> None:
    known = {*DeliveryStatus, *AlertStatus, *StepStatus}
    assert spelled_statuses(queries()[name]) <= known


def test_the_status_check_sees_every_way_sql_spells_a_status() -> None:
    sql = "WHERE d.status = 'sent' AND status <> 'gone' AND e.status NOT IN ('a', 'b')"
    assert spelled_statuses(sql) == {"sent", "gone", "a", "b"}


def test_the_final_set_reaches_sql_only_as_a_parameter() -> None:
    """record_outcomes takes the final set from Python ($3) instead of spelling it."""
    sql = queries()["record_outcomes"]
    assert "<> ALL($3::text[])" in sql and "= ANY($4::text[])" in sql
    assert not spelled_statuses(sql) & {"delivered", "dry_run"}


def test_a_steps_notification_keeps_the_id_messages_already_carry() -> None:
    """Delivery ids derive from it and Slack buttons sent carry it: the format cannot change."""
    assert StepRef("db-1", 0, 2).request_id == "db-1:r1l2"
    assert StepRef("host:7", 2, 1).request_id == "host:7:r3l1"
