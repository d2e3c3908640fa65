"""A local SendGrid v3 Mail Send API (POST /v3/mail/send) with SendGrid's answers.

202 Accepted with an ``X-Message-Id`` header and an empty body; errors as SendGrid sends them,
``{"errors": [{"message": ..., "field": ..., "help": ...}]}``: 401 for a missing or unknown
key, 403 for a key without the Mail Send permission, 400 with one entry per invalid field,
413 for a body over the size limit, and 429 with ``X-RateLimit-*`` headers (``rate_limit_next``).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from tests.fakes.http import FakeHTTPServer

SEND_PATH = "/v3/mail/send"
DEFAULT_KEY = "SG.test-key"
MAX_BYTES = 30 * 1024 * 1024  # SendGrid's limit for a whole message
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def errors(*items: tuple[str | None, str]) -> dict[str, Any]:
    return {"errors": [{"message": m, "field": f, "help": None} for f, m in items]}


class FakeSendGrid(FakeHTTPServer):
    """``url`` is the API base for ``api_url``; accepted messages are in ``mails``."""

    def __init__(
        self,
        *,
        keys: Iterable[str] = (DEFAULT_KEY,),
        forbidden_keys: Iterable[str] = (),  # valid keys without the Mail Send permission
        max_bytes: int = MAX_BYTES,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.keys = set(keys)
        self.forbidden_keys = set(forbidden_keys)
        self.max_bytes = max_bytes
        self.mails: list[dict[str, Any]] = []  # accepted request bodies, with "_message_id"
        self._ids = itertools.count(1)

    def setup(self, app: web.Application) -> None:
        app.router.add_post(SEND_PATH, self._send)

    def rate_limit_next(  # type: ignore[override]
        self,
        times: int = 1,
        reset_at: float | None = None,
        retry_after: str | float | None = None,
    ) -> None:
        """429 with SendGrid's rate-limit headers; ``reset_at`` is the epoch second of reset."""
        reset = int(time.time() + 1 if reset_at is None else reset_at)
        headers = {
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        self.fail_next(times, 429, json=errors((None, "too many requests")), headers=headers)

    async def _send(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return web.json_response(errors((None, "authorization required")), status=401)
        key = auth[7:].strip()
        if key in self.forbidden_keys:
            return web.json_response(errors((None, "access forbidden")), status=403)
        if key not in self.keys:
            return web.json_response(
                errors((None, "The provided authorization grant is invalid, expired, or revoked")),
                status=401,
            )
        raw = await request.read()
        if len(raw) > self.max_bytes:
            return web.json_response(
                errors((None, "The size of your email is over the limit.")), status=413
            )
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response(errors((None, "Bad Request")), status=400)
        problems = validate(body) if isinstance(body, dict) else [(None, "Bad Request")]
        if problems:
            return web.json_response(errors(*problems), status=400)
        message_id = f"fake-sg-{next(self._ids):06d}"
        self.mails.append({**body, "_message_id": message_id})
        return web.Response(status=202, headers={"X-Message-Id": message_id})


def _check_email(obj: Any, field: str, found: list[tuple[str | None, str]]) -> str | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("email"), str):
        found.append((field, "The email parameter is required."))
        return None
    if not ADDRESS.match(obj["email"]):
        found.append((f"{field}.email", "Does not contain a valid address."))
        return None
    return obj["email"].lower()


def validate(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(field, message) for everything SendGrid would refuse with 400."""
    found: list[tuple[str | None, str]] = []
    has_template = bool(body.get("template_id"))
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        found.append(
            (
                "personalizations",
                "The personalizations field is required and must "
                "have at least one personalization.",
            )
        )
        personalizations = []
    for i, p in enumerate(personalizations):
        where = f"personalizations.{i}"
        if not isinstance(p, dict) or not isinstance(p.get("to"), list) or not p["to"]:
            found.append(
                (
                    f"{where}.to",
                    "The to array is required for all personalization "
                    "objects, and must have at least one email object with a valid email "
                    "address.",
                )
            )
            continue
        seen: set[str] = set()
        for kind in ("to", "cc", "bcc"):
            for j, address in enumerate(p.get(kind) or []):
                email = _check_email(address, f"{where}.{kind}.{j}", found)
                if email is None:
                    continue
                if email in seen:
                    found.append(
                        (
                            where,
                            "Each email address in the personalization block "
                            "should be unique between to, cc, and bcc. We found the first "
                            f"duplicate instance of [{email}] in the {where}.{kind} field.",
                        )
                    )
                seen.add(email)
    if "from" not in body:
        found.append(
            (
                "from",
                "The from object must be provided for every email send. It is an "
                "object that requires the email parameter, but may also contain a name "
                "parameter.",
            )
        )
    else:
        _check_email(body["from"], "from", found)
    if "reply_to" in body:
        _check_email(body["reply_to"], "reply_to", found)
    subject_everywhere = personalizations and all(
        isinstance(p, dict) and p.get("subject") for p in personalizations
    )
    if not body.get("subject") and not subject_everywhere and not has_template:
        found.append(
            (
                "subject",
                "The subject is required. You can get around this requirement "
                "if you use a template with a subject defined or if every personalization "
                "has a subject defined.",
            )
        )
    content = body.get("content")
    if not has_template and (not isinstance(content, list) or not content):
        found.append(
            (
                "content",
                "Unless a valid template_id is provided, the content parameter "
                "is required. There must be at least one defined content block.",
            )
        )
    for i, block in enumerate(content or []):
        if not isinstance(block, dict) or not block.get("type"):
            found.append((f"content.{i}.type", "The content type is required."))
        elif not isinstance(block.get("value"), str) or not block["value"]:
            found.append(
                (
                    f"content.{i}.value",
                    "The content value must be a string at least one character in length.",
                )
            )
    types = [b.get("type") for b in content or [] if isinstance(b, dict)]
    if "text/plain" in types and types.index("text/plain") != 0:
        found.append(
            (
                "content",
                "If present, text/plain and text/html may only be provided in "
                "the following order: text/plain, text/html.",
            )
        )
    for i, attachment in enumerate(body.get("attachments") or []):
        if not isinstance(attachment, dict) or not attachment.get("content"):
            found.append((f"attachments.{i}.content", "The attachment content is required."))
            continue
        try:
            base64.b64decode(attachment["content"], validate=True)
        except (binascii.Error, ValueError):
            found.append(
                (f"attachments.{i}.content", "The attachment content must be base64 encoded.")
            )
        if not attachment.get("filename"):
            found.append(
                (f"attachments.{i}.filename", "The attachment filename parameter is required.")
            )
    return found
