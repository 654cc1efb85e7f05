"""Waiting for a reader's readiness fd inside an asyncio event loop (no worker thread)."""

import asyncio
import math


async def readable(fd: int, timeout: float) -> bool:
    """Waits up to ``timeout`` seconds (``inf``: for ever) until ``fd`` is readable,
    watched by the running loop's selector; returns whether it became readable."""
    loop = asyncio.get_running_loop()
    woken: "asyncio.Future[bool]" = loop.create_future()

    def wake(ready: bool) -> None:
        # The selector calls back on every pass while the fd stays readable.
        if not woken.done():
            woken.set_result(ready)

    loop.add_reader(fd, wake, True)
    timer = None if math.isinf(timeout) else loop.call_later(max(0.0, timeout), wake, False)
    try:
        return await woken
    finally:
        loop.remove_reader(fd)
        if timer is not None:
            timer.cancel()
