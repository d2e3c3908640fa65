"""A local Slack Web API: chat.postMessage/update, auth.test and the files upload v2 flow.

It answers as Slack does: HTTP 200 with ``{"ok": false, "error": ...}`` for API errors
(invalid_auth, channel_not_found, ...), HTTP 429 + Retry-After + ``{"ok": false, "error":
"ratelimited"}`` when rate limited (via ``rate_limit_next``), and it takes its arguments from
the query string, a form-encoded body or a JSON body (the token then only in the
``Authorization: Bearer`` header, as Slack requires for JSON).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.http import FakeHTTPServer

API = "/api/"
DEFAULT_TOKEN = "xoxb-test-token"
DEFAULT_CHANNELS = {"C0OPS": "ops", "C0INCIDENTS": "incidents", "C0GENERAL": "general"}
DEFAULT_USERS = {"U0ALICE": "alice", "U0BOB": "bob"}
TOKEN_ERRORS = ("not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired")


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class FakeSlackAPI(FakeHTTPServer):
    """``url`` is the Web API base (``http://127.0.0.1:<port>/api/``) for ``api_url``.

    Channels are known by ID and by name (``ops`` or ``#ops``); posting to a user ID opens a
    direct message (channel ``D…``). ``@name`` is channel_not_found, as on Slack today.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        bad_tokens: Mapping[str, str] | None = None,  # token -> error, e.g. token_revoked
        channels: Mapping[str, str] | None = None,  # id -> name
        users: Mapping[str, str] | None = None,  # id -> name
        not_member: Iterable[str] = (),  # channel ids the bot is not in
        archived: Iterable[str] = (),
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.tokens = set(tokens)
        self.bad_tokens = dict(bad_tokens or {})
        self.channels = dict(DEFAULT_CHANNELS if channels is None else channels)
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.not_member = set(not_member)
        self.archived = set(archived)
        self.messages: list[dict[str, Any]] = []  # every posted message, updated in place
        self.uploads: dict[str, bytes] = {}  # file id -> bytes received at its upload URL
        self.files: list[dict[str, Any]] = []  # completed uploads, with channel and thread
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (method, arguments) as parsed
        self._pending: dict[str, dict[str, Any]] = {}  # file id -> filename, length
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return self.origin + API

    def setup(self, app: web.Application) -> None:
        app.router.add_post(API + "{method}", self._api)
        app.router.add_get(API + "{method}", self._api)
        app.router.add_post("/upload/v1/{file_id}", self._upload)

    # -- helpers for tests -------------------------------------------------------

    def fail_next_with(
        self, error: str, times: int = 1, *, path: str | None = None, **extra: Any
    ) -> None:
        """The next ``times`` API calls (to ``path``, or any) answer HTTP 200 with ``error``."""
        self.fail_next(times, 200, json={"ok": False, "error": error, **extra}, path=path)

    def rate_limit_next(self, times: int = 1, retry_after: str | float = 1, **kwargs: Any) -> None:
        kwargs.setdefault("json", {"ok": False, "error": "ratelimited"})
        super().rate_limit_next(times, retry_after, **kwargs)

    def posted(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        """The arguments of every call to ``method``."""
        return [args for name, args in self.calls if name == method]

    # -- the API -----------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            args, token = await self._arguments(request)
            self.calls.append((method, args))
            handler = {
                "auth.test": self._auth_test,
                "chat.postMessage": self._post_message,
                "chat.update": self._update,
                "files.getUploadURLExternal": self._upload_url,
                "files.completeUploadExternal": self._complete_upload,
            }.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            self._authenticate(token)
            body = handler(args)
        except SlackError as exc:
            body = {"ok": False, "error": exc.error, **exc.extra}
        return web.json_response(body)  # Slack answers API errors with HTTP 200

    async def _arguments(self, request: web.Request) -> tuple[dict[str, Any], str | None]:
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        token = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        if request.content_type == "application/json":
            try:
                data = json.loads(raw or b"{}")
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(data, dict):
                raise SlackError("invalid_json")
            args.update(data)  # a token inside a JSON body is ignored, as on Slack
        elif request.content_type == "application/x-www-form-urlencoded":
            args.update(parse_qsl(raw.decode(), keep_blank_values=True))
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
        if token is None and isinstance(args.get("token"), str):
            token = args["token"]
        args.pop("token", None)
        return args, token

    def _authenticate(self, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if token in self.bad_tokens:
            raise SlackError(self.bad_tokens[token])
        if token not in self.tokens:
            raise SlackError("invalid_auth")

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": "notifierd",
            "team_id": "T0FAKE",
            "user_id": "U0BOT",
            "bot_id": "B0BOT",
        }

    def _resolve_channel(self, value: Any) -> str:
        """The channel id for a name, #name, channel id or user id (a DM)."""
        if not isinstance(value, str) or not value:
            raise SlackError("channel_not_found")
        if value in self.channels:
            channel = value
        elif value in self.users:
            return "D" + value[1:]  # the bot's direct message with that user
        elif value.startswith("D") and "U" + value[1:] in self.users:
            return value
        else:
            name = value[1:] if value.startswith("#") else value
            found = [cid for cid, cname in self.channels.items() if cname == name]
            if not found or value.startswith("@"):
                raise SlackError("channel_not_found")
            channel = found[0]
        if channel in self.archived:
            raise SlackError("is_archived")
        if channel in self.not_member:
            raise SlackError("not_in_channel")
        return channel

    @staticmethod
    def _json_arg(args: dict[str, Any], key: str, error: str) -> Any:
        value = args.get(key)
        if isinstance(value, str):  # form-encoded: a JSON string
            try:
                value = json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value

    def _blocks(self, args: dict[str, Any]) -> list[dict[str, Any]] | None:
        if args.get("blocks") in (None, ""):
            return None
        blocks = self._json_arg(args, "blocks", "invalid_blocks_format")
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        for i, block in enumerate(blocks):
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                raise SlackError(
                    "invalid_blocks",
                    response_metadata={
                        "messages": [f"[ERROR] invalid block [json-pointer:/blocks/{i}]"]
                    },
                )
        if len(blocks) > 50:
            raise SlackError(
                "invalid_blocks",
                response_metadata={
                    "messages": ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
                },
            )
        return blocks

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        blocks = self._blocks(args)
        text = args.get("text")
        if not text and not blocks:
            raise SlackError("no_text")
        if isinstance(text, str) and len(text) > 40000:
            raise SlackError("msg_too_long")
        metadata = None
        if args.get("metadata") not in (None, ""):
            metadata = self._json_arg(args, "metadata", "invalid_metadata_format")
            if not isinstance(metadata, dict) or "event_type" not in metadata:
                raise SlackError("invalid_metadata_format")
        message: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "ts": self._next_ts(),
            "text": text or "",
            "bot_id": "B0BOT",
        }
        for key in ("thread_ts", "username", "icon_emoji", "icon_url"):
            if args.get(key):
                message[key] = args[key]
        if blocks is not None:
            message["blocks"] = blocks
        if metadata is not None:
            message["metadata"] = metadata
        self.messages.append(message)
        public = {k: v for k, v in message.items() if k != "channel"}
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": public}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args.get("channel"))
        ts = args.get("ts")
        found = next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)
        if found is None:
            raise SlackError("message_not_found")
        blocks = self._blocks(args)
        if not args.get("text") and blocks is None:
            raise SlackError("no_text")
        if args.get("text") is not None:
            found["text"] = args["text"]
        if blocks is not None:
            found["blocks"] = blocks
        found["edited"] = True
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": found["text"],
            "message": {k: v for k, v in found.items() if k != "channel"},
        }

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = args.get("filename")
        try:
            length = int(args.get("length", ""))
        except ValueError:
            raise SlackError("invalid_arguments") from None
        if not filename or length < 0:
            raise SlackError("invalid_arguments")
        file_id = f"F0FILE{next(self._ids):04d}"
        self.uploads[file_id] = b""
        self._pending[file_id] = {"filename": filename, "length": length}
        return {"ok": True, "upload_url": f"{self.origin}/upload/v1/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="Not Found")
        data = await request.read()
        self.uploads[file_id] = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = self._json_arg(args, "files", "invalid_arguments")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        channel = self._resolve_channel(args["channel_id"]) if args.get("channel_id") else None
        done = []
        pending = self._pending
        for item in files:
            file_id = item.get("id") if isinstance(item, dict) else None
            if file_id not in pending:
                raise SlackError("file_not_found")
            if len(self.uploads[file_id]) != pending[file_id]["length"]:  # never uploaded
                raise SlackError("file_not_found")
            info = pending.pop(file_id)
            done.append(
                {
                    "id": file_id,
                    "name": info["filename"],
                    "title": item.get("title") or info["filename"],
                    "size": len(self.uploads[file_id]),
                }
            )
        for file in done:
            self.files.append(
                {
                    **file,
                    "channel": channel,
                    "thread_ts": args.get("thread_ts"),
                    "content": self.uploads[file["id"]],
                }
            )
        return {"ok": True, "files": done}
