"""The webhook's HTTP/1.1 client against raw local servers that answer in every legal (and some
illegal) way: keep-alive reuse, stale connections, chunked and close-delimited bodies, timeouts."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Callable

import pytest

from notifierd.channels.http11 import Http11Client, HttpError, HttpTimeout, Target, encode_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Answer = Callable[[bytes, int], bytes | None]  # (request head + body, n-th request) -> reply


class RawServer:
    """Reads whole requests (Content-Length bodies) and writes what ``answer`` returns; None
    closes the connection without a word."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for w in self.writers:
            w.close()
        self.server.close()
        await self.server.wait_closed()

    def target(self, path: str = "/hook") -> Target:
        return Target.parse(f"http://127.0.0.1:{self.port}{path}")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                reply = self.answer(head + body, len(self.requests))
                if reply is None:
                    writer.close()
                    return
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def client() -> AsyncIterator[Http11Client]:
    http = Http11Client()
    yield http
    await http.close()


async def test_a_post_carries_host_length_headers_and_body(client: Http11Client) -> None:
    async with RawServer(lambda req, n: OK) as server:
        response = await client.post(
            server.target("/hook?x=1"), b'{"a":1}', {"Content-Type": "application/json"}, 2
        )

    assert (response.status, response.body) == (200, b"ok")
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /hook?x=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}" in lines
    assert "Content-Length: 7" in lines
    assert "Content-Type: application/json" in lines
    assert body == b'{"a":1}'


async def test_connections_are_kept_alive_and_reused(client: Http11Client) -> None:
    async with RawServer(lambda req, n: OK) as server:
        for _ in range(5):
            assert (await client.post(server.target(), b"x", {}, 2)).status == 200
    assert server.connections == 1
    assert len(server.requests) == 5


async def test_concurrent_posts_open_connections_up_to_the_limit() -> None:
    http = Http11Client(max_connections=3)
    try:
        async with RawServer(lambda req, n: OK) as server:
            # Started together, 20 posts would each open a connection without the limit.
            results = await asyncio.gather(
                *(http.post(server.target(), b"x", {}, 2) for _ in range(20))
            )
    finally:
        await http.close()
    assert [r.status for r in results] == [200] * 20
    assert server.connections <= 3


async def test_connection_close_is_not_reused(client: Http11Client) -> None:
    reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with RawServer(lambda req, n: reply) as server:
        for _ in range(3):
            assert (await client.post(server.target(), b"x", {}, 2)).status == 200
    assert server.connections == 3


async def test_a_stale_kept_alive_connection_is_retried_once_on_a_fresh_one(
    client: Http11Client,
) -> None:
    # The server answers the first request, then drops that connection when the second comes
    # (as a server whose keep-alive timeout passed): the second request goes out again, fresh.
    async with RawServer(lambda req, n: OK if n != 2 else None) as server:
        assert (await client.post(server.target(), b"one", {}, 2)).status == 200
        assert (await client.post(server.target(), b"two", {}, 2)).status == 200
    assert server.connections == 2
    assert [r.rpartition(b"\r\n\r\n")[2] for r in server.requests] == [b"one", b"two", b"two"]


async def test_a_fresh_connection_closed_without_answer_is_an_error(client: Http11Client) -> None:
    async with RawServer(lambda req, n: None) as server:
        with pytest.raises(HttpError, match="connection lost before a complete answer"):
            await client.post(server.target(), b"x", {}, 2)
    assert len(server.requests) == 1  # no silent second try on a new connection


async def test_chunked_answer_is_read_whole(client: Http11Client) -> None:
    reply = (
        b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n"
        b"Retry-After: 7\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    async with RawServer(lambda req, n: reply) as server:
        response = await client.post(server.target(), b"x", {}, 2)
        again = await client.post(server.target(), b"x", {}, 2)
    assert (response.status, response.body) == (503, b"hello world")
    assert response.headers["retry-after"] == "7"
    assert again.status == 503 and server.connections == 1


async def test_an_answer_delimited_by_close_is_read_to_the_end(client: Http11Client) -> None:
    async with RawServer(lambda req, n: b"HTTP/1.1 200 OK\r\n\r\nall of it") as server:
        task = asyncio.create_task(client.post(server.target(), b"x", {}, 2))
        await asyncio.sleep(0.1)
        for w in server.writers:
            w.close()
        response = await task
    assert (response.status, response.body) == (200, b"all of it")


async def test_body_is_cut_at_max_body_and_the_connection_still_reused() -> None:
    http = Http11Client(max_body=10)
    big = b"y" * 100_000
    reply = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n%s" % (len(big), big)
    try:
        async with RawServer(lambda req, n: reply) as server:
            first = await http.post(server.target(), b"x", {}, 2)
            second = await http.post(server.target(), b"x", {}, 2)
    finally:
        await http.close()
    assert (first.status, first.body) == (500, b"y" * 10)
    assert second.status == 500 and server.connections == 1


async def test_interim_1xx_answer_is_skipped(client: Http11Client) -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    async with RawServer(lambda req, n: reply) as server:
        response = await client.post(server.target(), b"x", {}, 2)
    assert (response.status, response.body) == (200, b"ok")


async def test_a_malformed_answer_is_an_error(client: Http11Client) -> None:
    async with RawServer(lambda req, n: b"SMTP ready\r\n\r\n") as server:
        with pytest.raises(HttpError, match="malformed HTTP answer"):
            await client.post(server.target(), b"x", {}, 2)


async def test_no_answer_times_out_and_the_connection_is_dropped(client: Http11Client) -> None:
    replies = iter([b"", OK])  # the first request is never answered
    async with RawServer(lambda req, n: next(replies)) as server:
        with pytest.raises(HttpTimeout, match=r"no answer within 0\.3s"):
            await client.post(server.target(), b"x", {}, 0.3)
        assert (await client.post(server.target(), b"x", {}, 2)).status == 200
    assert server.connections == 2


async def test_a_later_request_on_a_kept_connection_times_out_at_its_own_deadline(
    client: Http11Client,
) -> None:
    # One timer per connection: armed for the first request's deadline (0.3 s after it), it
    # must not cut off the second (sent 0.2 s later, 0.5 s of its own), nor let it wait longer.
    replies = iter([OK, b""])
    loop = asyncio.get_running_loop()
    async with RawServer(lambda req, n: next(replies)) as server:
        assert (await client.post(server.target(), b"x", {}, 0.3)).status == 200
        await asyncio.sleep(0.2)
        started = loop.time()
        with pytest.raises(HttpTimeout, match=r"no answer within 0\.5s"):
            await client.post(server.target(), b"x", {}, 0.5)
        waited = loop.time() - started
    assert server.connections == 1  # the second request went out on the kept connection
    assert 0.45 <= waited < 1.0


async def test_a_shorter_timeout_than_the_previous_request_s_is_kept(
    client: Http11Client,
) -> None:
    replies = iter([OK, b""])
    loop = asyncio.get_running_loop()
    async with RawServer(lambda req, n: next(replies)) as server:
        assert (await client.post(server.target(), b"x", {}, 30)).status == 200
        started = loop.time()
        with pytest.raises(HttpTimeout, match=r"no answer within 0\.3s"):
            await client.post(server.target(), b"x", {}, 0.3)
        waited = loop.time() - started
    assert server.connections == 1
    assert 0.25 <= waited < 1.0  # not the 30 s the connection's timer was armed for


async def test_a_deadline_passing_while_the_connection_is_idle_leaves_it_usable(
    client: Http11Client,
) -> None:
    async with RawServer(lambda req, n: OK) as server:
        assert (await client.post(server.target(), b"x", {}, 0.1)).status == 200
        await asyncio.sleep(0.3)  # the connection's timer fires with nothing in flight
        assert (await client.post(server.target(), b"x", {}, 0.1)).status == 200
        assert (await client.post(server.target(), b"x", {}, 2)).status == 200
    assert server.connections == 1


def test_a_timeout_on_uvloop_fires_once_without_spinning(monkeypatch: pytest.MonkeyPatch) -> None:
    # uvloop rounds a timer to the millisecond and may run it before its deadline by the
    # clock: the check must not re-arm itself over and over until the clock catches up.
    import uvloop

    from notifierd.channels import http11

    checks = 0
    check = http11._Connection._check_deadline

    def counted(self: http11._Connection) -> None:
        nonlocal checks
        checks += 1
        check(self)

    monkeypatch.setattr(http11._Connection, "_check_deadline", counted)

    async def main() -> None:
        http = Http11Client()
        try:
            async with RawServer(lambda req, n: b"") as server:
                for n in range(25):  # deadlines that fall anywhere inside a millisecond
                    with pytest.raises(HttpTimeout):
                        await http.post(server.target(), b"x", {}, 0.0103 + n * 0.00137)
        finally:
            await http.close()

    uvloop.run(main())
    assert checks == 25  # one per request timed out


async def test_answers_of_every_framing_in_turn_on_one_connection(client: Http11Client) -> None:
    # The connection's one parser reads each answer after the last, whatever framed it.
    replies = {
        1: b"HTTP/1.1 503 Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n",
        2: b"HTTP/1.1 204 No Content\r\n\r\n",
        3: b"HTTP/1.1 100 Continue\r\n\r\n" + OK,
        4: b"HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\nslow",
        5: OK,
    }
    async with RawServer(lambda req, n: replies[n]) as server:
        answers = [await client.post(server.target(), b"x", {}, 2) for _ in range(5)]
    assert [(a.status, a.body) for a in answers] == [
        (503, b"bad"),
        (204, b""),
        (200, b"ok"),
        (429, b"slow"),
        (200, b"ok"),
    ]
    assert answers[3].headers == {"retry-after": "3", "content-length": "4"}
    assert server.connections == 1


async def test_an_unasked_answer_behind_the_one_asked_for_is_not_read_as_the_next_one(
    client: Http11Client,
) -> None:
    # The first answer comes with the start of a second nobody asked for (in one write, so in
    # one read): on a reused connection its body would swallow the next request's real answer
    # (a 503), which would then fail as malformed or be misread.
    unasked = b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n"
    failure = b"HTTP/1.1 503 Unavailable\r\nContent-Length: 48\r\n\r\n" + b"x" * 48
    replies = {1: OK + unasked, 2: failure}
    async with RawServer(lambda req, n: replies[n]) as server:
        first = await client.post(server.target(), b"one", {}, 2)
        second = await client.post(server.target(), b"two", {}, 2)
    assert (first.status, first.body) == (200, b"ok")
    assert (second.status, second.body) == (503, b"x" * 48)
    assert server.connections == 2


async def test_an_unasked_complete_answer_does_not_change_the_one_returned(
    client: Http11Client,
) -> None:
    unasked = b"HTTP/1.1 429 Too Many\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n"
    async with RawServer(lambda req, n: OK + unasked if n == 1 else OK) as server:
        first = await client.post(server.target(), b"one", {}, 2)
        second = await client.post(server.target(), b"two", {}, 2)
    assert (first.status, first.headers) == (200, {"content-length": "2"})
    assert second.status == 200
    assert server.connections == 2


async def test_connection_refused_is_an_error(client: Http11Client) -> None:
    async with RawServer(lambda req, n: OK) as server:
        target = server.target()
    with pytest.raises(HttpError, match="cannot connect"):
        await client.post(target, b"x", {}, 2)


async def test_credentials_in_the_url_become_basic_auth(client: Http11Client) -> None:
    async with RawServer(lambda req, n: OK) as server:
        target = Target.parse(f"http://alice:s%40cret@127.0.0.1:{server.port}/hook")
        await client.post(target, b"x", {}, 2)
    expected = base64.b64encode(b"alice:s@cret").decode()
    assert f"Authorization: Basic {expected}".encode() in server.requests[0]
    assert b"alice" not in server.requests[0].split(b"\r\n")[0]


def test_header_with_a_line_break_is_refused() -> None:
    target = Target.parse("http://example.com/")
    with pytest.raises(ValueError, match="line break"):
        encode_request(target, b"", {"X-Evil": "a\r\nInjected: yes"})


@pytest.mark.parametrize(
    ("url", "host_header", "path"),
    [
        ("http://example.com", "example.com", "/"),
        ("https://example.com:443/a/b?c=d", "example.com", "/a/b?c=d"),
        ("http://example.com:8080/x", "example.com:8080", "/x"),
        ("http://[::1]:9000/x", "[::1]:9000", "/x"),
    ],
)
def test_targets(url: str, host_header: str, path: str) -> None:
    target = Target.parse(url)
    assert (target.host_header, target.path) == (host_header, path)


@pytest.mark.parametrize("url", ["ftp://example.com/", "http:///nohost", "example.com"])
def test_bad_targets(url: str) -> None:
    with pytest.raises(ValueError):
        Target.parse(url)


async def test_a_closed_client_refuses(client: Http11Client) -> None:
    await client.close()
    with pytest.raises(HttpError, match="closed"):
        await client.post(Target.parse("http://127.0.0.1:1/"), b"", {}, 1)


def test_paths_and_hosts_are_encoded_for_the_request_line() -> None:
    target = Target.parse("http://bücher.example/a path/ü?q=a b&x=%2F")
    assert target.host_header == "xn--bcher-kva.example"
    assert target.path == "/a%20path/%C3%BC?q=a%20b&x=%2F"


async def test_an_answer_cut_off_before_its_length_is_an_error(client: Http11Client) -> None:
    cut = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 100\r\n\r\nonly part"
    async with RawServer(lambda req, n: cut) as server:
        task = asyncio.create_task(client.post(server.target(), b"x", {}, 2))
        await asyncio.sleep(0.1)
        for w in server.writers:
            w.close()
        with pytest.raises(HttpError, match="connection lost before a complete answer"):
            await task
