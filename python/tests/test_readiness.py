"""Reader.fileno(): readable when there is something to read, for select, poll and asyncio.

"Not readable" is checked with a short timeout: a wrong readiness shows up in it,
a slow machine cannot make it fail."""

import asyncio
import select

import numpy as np
import pytest

import shmframe
from conftest import python_child
from frames import cases

#: Seconds a test waits for readiness that must come.
MUST_COME = 10.0
#: Seconds a test watches for readiness that must not come.
MUST_NOT = 0.3


def readable(reader, timeout):
    ready, _, _ = select.select([reader], [], [], timeout)  # select calls fileno()
    return ready == [reader]


def test_readable_after_a_publish_not_before_and_not_after_clearing(writer, name):
    with shmframe.Reader(name) as reader:
        assert not readable(reader, MUST_NOT)
        writer.publish(np.full((2, 2), 1, np.uint8))
        assert readable(reader, MUST_COME)
        assert reader.latest().number == 1
        assert not readable(reader, MUST_NOT)  # the read cleared it

        writer.publish(np.full((2, 2), 2, np.uint8))
        assert readable(reader, MUST_COME)
        reader.clear_readiness()
        assert not readable(reader, MUST_NOT)

        writer.publish(np.full((2, 2), 3, np.uint8))
        assert readable(reader, MUST_COME)
        assert reader.latest().number == 3


def test_poll_serves_every_frame_of_another_process_and_its_close(name):
    child = python_child("child_writer.py", name, "gray8")
    try:
        assert child.stdout.readline().strip() == "ready"
        reader = shmframe.Reader(name)
        poller = select.poll()
        poller.register(reader.fileno(), select.POLLIN)
        child.stdin.write("go\n")
        child.stdin.flush()
        numbers = []
        while reader.writer_alive or len(numbers) < len(cases("gray8")):
            assert poller.poll(MUST_COME * 1000), "a frame or the close was not told"
            while (frame := reader.next()) is not None:
                numbers.append(frame.number)
        assert child.stdout.readline().strip() == "closed"
        assert child.wait(timeout=30) == 0
        # The close was told (once): after clearing, nothing more comes.
        reader.clear_readiness()
        assert not poller.poll(MUST_NOT * 1000)
        poller.unregister(reader.fileno())
        reader.close()
    finally:
        child.kill()
        child.wait()
    assert numbers == list(range(1, len(cases("gray8")) + 1))


def test_a_closing_writer_makes_it_readable(name):
    writer = shmframe.Writer(name, capacity=1 << 12)
    with shmframe.Reader(name) as reader:
        reader.fileno()
        writer.close()
        assert readable(reader, MUST_COME)
        assert not reader.writer_alive


def test_a_closed_reader_has_no_fd(writer, name):
    reader = shmframe.Reader(name)
    reader.close()
    with pytest.raises(ValueError):
        reader.fileno()


def test_an_awaited_wait_follows_a_restarted_writer(name):
    async def main():
        first = shmframe.Writer(name, capacity=1 << 12)
        reader = shmframe.Reader(name)

        async def restart():
            await asyncio.sleep(0.05)
            first.close()
            await asyncio.sleep(0.05)
            second = shmframe.Writer(name, capacity=1 << 12)
            second.publish(np.full((2, 2), 9, np.uint8))
            return second

        restarting = asyncio.create_task(restart())
        frame = await reader.wait_next_async(MUST_COME)
        second = await restarting
        reader.close()
        second.close()
        return frame

    frame = asyncio.run(main())
    assert frame is not None and frame.number == 1 and int(frame.array[0, 0]) == 9


def test_asyncio_waits_run_no_worker_thread(writer, name):
    async def main():
        reader = shmframe.Reader(name)
        loop = asyncio.get_running_loop()

        async def publish():
            await asyncio.sleep(0.05)
            writer.publish(np.full((2, 2), 5, np.uint8))

        publishing = asyncio.create_task(publish())
        frame = await reader.wait_latest_async(MUST_COME)
        await publishing
        reader.close()
        # run_in_executor would have created the loop's default executor.
        return frame, getattr(loop, "_default_executor", None)

    frame, executor = asyncio.run(main())
    assert frame is not None and frame.number == 1
    assert executor is None
