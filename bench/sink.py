"""A fast webhook sink for benchmarks: a bare asyncio HTTP/1.1 server that timestamps each delivery.

Run: python bench/sink.py --port 0 --out FILE   (prints the port; on SIGTERM writes JSON lines
{"id": request_id, "delivery": delivery_id, "channel": name (notifierd's), "at": unix_time,
"sent_at": producer_time|null} to FILE)
It reads notifierd's webhook body (request_id, delivery_id, request.metadata.sent_at) and
Alertmanager's (the first alert's `id` label and `sent_at` annotation; bench/peer.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
from typing import ClassVar

_LENGTH = re.compile(rb"content-length:\s*(\d+)")
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Sink(asyncio.Protocol):
    records: ClassVar[list[tuple[float, bytes]]] = []  # shared by every connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            match = _LENGTH.search(self.buffer[:head_end].lower())
            length = int(match.group(1)) if match else 0
            total = head_end + 4 + length
            if len(self.buffer) < total:
                return
            body = self.buffer[head_end + 4 : total]
            if self.buffer.startswith(b"GET /count"):  # progress probe for the benchmark driver
                self.buffer = self.buffer[total:]
                count = str(len(Sink.records)).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(count), count)
                )  # type: ignore[attr-defined]
                continue
            self.buffer = self.buffer[total:]
            Sink.records.append(
                (time.time(), body)
            )  # parsed after the run: keep the hot path cheap
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]


def record(at: float, body: bytes) -> dict[str, object]:
    data = json.loads(body)
    if "alerts" in data:  # Alertmanager's webhook: one alert per notification in bench/peer.py
        alert = data["alerts"][0] if data["alerts"] else {}
        sent_at = (alert.get("annotations") or {}).get("sent_at")
        return {
            "id": (alert.get("labels") or {}).get("id"),
            "delivery": data.get("groupKey"),
            "at": at,
            "sent_at": float(sent_at) if sent_at else None,
        }
    meta = (data.get("request") or {}).get("metadata") or {}
    return {
        "id": data.get("request_id"),
        "delivery": data.get("delivery_id"),
        "channel": data.get("channel"),
        "at": at,
        "sent_at": meta.get("sent_at"),
    }


def dump(path: str) -> None:
    with open(path, "w") as out:
        for at, body in Sink.records:
            out.write(json.dumps(record(at, body)) + "\n")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Sink, "127.0.0.1", args.port, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    dump(args.out)
    sys.exit(0)


if __name__ == "__main__":
    asyncio.run(main())
