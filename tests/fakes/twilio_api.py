"""A local Twilio Messages API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json.

It speaks Twilio's REST conventions: HTTP basic auth (account SID : auth token), a
form-encoded body (To, From or MessagingServiceSid, Body), 201 with the message resource
(``sid`` ``SM…``, status ``queued``), and errors as ``{"code", "message", "more_info",
"status"}``: 401/20003 for bad credentials, 400/21211 for an invalid To, 21617 for a body over
1600 characters, 21606 for a From the account does not own, 21610 for an unsubscribed
recipient, 429/20429 via ``rate_limit_next``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections.abc import Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.http import FakeHTTPServer

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token-0123456789"
DEFAULT_NUMBERS = ("+15550100000",)
DEFAULT_SERVICES = ("MG" + "fedcba9876543210" * 2,)
MESSAGES = "/2010-04-01/Accounts/{sid}/Messages.json"
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
BODY_MAX = 1600


def error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)


class FakeTwilio(FakeHTTPServer):
    """``url`` is the API base (``http://127.0.0.1:<port>``) for the channel's ``api_url``."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        numbers: Iterable[str] = DEFAULT_NUMBERS,  # the account's SMS-capable From numbers
        messaging_services: Iterable[str] = DEFAULT_SERVICES,
        unsubscribed: Iterable[str] = (),  # recipients who replied STOP
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = set(numbers)
        self.messaging_services = set(messaging_services)
        self.unsubscribed = set(unsubscribed)
        self.messages: list[dict[str, Any]] = []  # every created message resource
        self._sids = itertools.count(1)

    def setup(self, app: web.Application) -> None:
        app.router.add_post(MESSAGES.format(sid="{sid}"), self._create)

    # -- helpers for tests -------------------------------------------------------

    def rate_limit_next(self, times: int = 1, retry_after: str | float = 1, **kwargs: Any) -> None:
        kwargs.setdefault(
            "json",
            {
                "code": 20429,
                "message": "Too Many Requests",
                "more_info": "https://www.twilio.com/docs/errors/20429",
                "status": 429,
            },
        )
        super().rate_limit_next(times, retry_after, **kwargs)

    # -- the API -----------------------------------------------------------------

    def _authenticated(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authenticated(request):
            return error(401, 20003, "Authenticate")
        sid = request.match_info["sid"]
        path = MESSAGES.format(sid=sid)
        if sid != self.account_sid:
            return error(404, 20404, f"The requested resource {path} was not found")
        form = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
        to = form.get("To", "")
        from_ = form.get("From", "")
        service = form.get("MessagingServiceSid", "")
        body = form.get("Body", "")
        if not to:
            return error(400, 21604, "A 'To' phone number is required.")
        if not E164.fullmatch(to):
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_ and not service:
            return error(400, 21603, "A 'From' phone number is required.")
        if service and service not in self.messaging_services:
            return error(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        if from_ and from_ not in self.numbers:
            return error(
                400,
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone "
                "number or short code for your account.",
            )
        if not body:
            return error(400, 21602, "Message body is required.")
        if len(body) > BODY_MAX:
            return error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in self.unsubscribed:
            return error(400, 21610, "Attempt to send to unsubscribed recipient")
        message_sid = f"SM{next(self._sids):032x}"
        now = formatdate(usegmt=True)
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_ or None,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": message_sid,
            "status": "accepted" if service and not from_ else "queued",
            "subresource_uris": {"media": f"{path[:-5]}/{message_sid}/Media.json"},
            "to": to,
            "uri": f"{path[:-5]}/{message_sid}.json",
        }
        self.messages.append(message)
        return web.json_response(message, status=201)
