"""One streaming-limit reader: a body read chunk by chunk, refused as soon as it passes
its limit (never buffered whole first). Used by every service that receives files."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


class BodyTooLarge(Exception):
    """The stream passed `limit` bytes; `received` is how many were read when it did."""

    def __init__(self, limit: int, received: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit
        self.received = received


async def limited(chunks: AsyncIterable[bytes], limit: int) -> AsyncIterator[bytes]:
    """The chunks as they come; `BodyTooLarge` as soon as their total passes `limit`."""
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(limit, received)
        yield chunk


async def read_limited(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """The whole stream as bytes, refused (`BodyTooLarge`) past `limit`."""
    return b"".join([chunk async for chunk in limited(chunks, limit)])
