"""Delivery ids are uuid5 of (request, channel, recipient): the fast path must be that exactly,
or a request replayed by a newer daemon would send under a new id and receivers could not drop
the duplicate."""

import pickle
import uuid

from hypothesis import given
from hypothesis import strategies as st

from notifierd.status import DeliveryStatus
from notifierd.store.records import DELIVERY_NAMESPACE, DeliveryRecord, delivery_id

# Text a request, channel or recipient can carry (no lone surrogates: parse rejects them).
storable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@given(storable, storable, storable)
def test_delivery_id_is_uuid5_of_request_channel_recipient(
    request_id: str, channel: str, recipient: str
) -> None:
    expected = uuid.uuid5(DELIVERY_NAMESPACE, f"{request_id}\0{channel}\0{recipient}")
    got = delivery_id(request_id, channel, recipient)
    assert got == expected
    assert (got.version, got.variant) == (5, uuid.RFC_4122)
    # Built without UUID.__init__: every way it is read (text, bytes, hash, pickling) agrees.
    assert (str(got), got.bytes, hash(got), got.is_safe) == (
        str(expected),
        expected.bytes,
        hash(expected),
        expected.is_safe,
    )
    assert pickle.loads(pickle.dumps(got)) == expected


def test_a_known_delivery_keeps_its_id() -> None:
    # Written by earlier releases: a changed derivation would show here first.
    row = DeliveryRecord("req-1", "ops-slack", "slack", "", DeliveryStatus.DELIVERED)
    assert str(row.id) == "a0d3e0f7-c8e5-5926-9bf9-03761c42e9f6"
