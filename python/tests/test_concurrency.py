"""Waits release the GIL; asyncio readers never block the event loop."""

import asyncio
import threading
import time

import numpy as np
import pytest

import shmframe


class Counter(threading.Thread):
    """A pure-Python thread that counts while it can run (needs the GIL)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.count = 0
        self.stop = False

    def run(self):
        while not self.stop:
            self.count += 1


@pytest.mark.parametrize("copy", [True, False])
def test_another_thread_runs_while_a_reader_waits(writer, name, copy):
    reader = shmframe.Reader(name)
    counter = Counter()
    counter.start()
    time.sleep(0.05)
    before = counter.count
    assert reader.wait_latest(0.5, copy=copy) is None  # half a second inside the native wait
    after = counter.count
    counter.stop = True
    counter.join()
    # Holding the GIL for the whole wait would let the counter advance only at
    # the edges; released, it counts for half a second (millions, even loaded).
    assert after - before > 10_000
    reader.close()


class WaitRecorder:
    """Stands in for a Reader's native half and records the timeouts of its reads
    (None: only a look, which never blocks)."""

    def __init__(self, native):
        self.native, self.timeouts = native, set()

    def read(self, next, timeout=None):
        self.timeouts.add(timeout)
        return self.native.read(next, timeout)

    def hold(self, next, timeout=None):
        self.timeouts.add(timeout)
        return self.native.hold(next, timeout)

    def __getattr__(self, attribute):
        return getattr(self.native, attribute)


@pytest.mark.parametrize("copy", [True, False])
def test_asyncio_frames_do_not_block_the_event_loop(name, copy):
    async def main():
        writer = shmframe.Writer(name, slots=8, capacity=1 << 12)
        reader = shmframe.Reader(name)
        reader._native = recorder = WaitRecorder(reader._native)
        ticks = 0
        stop = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        async def publisher():
            for n in range(1, 6):
                await asyncio.sleep(0.1)
                writer.publish(np.full((2, 2), n, np.uint8))
            writer.close()

        tick_task = asyncio.create_task(ticker())
        publish_task = asyncio.create_task(publisher())
        # If the reads blocked the loop, the publisher could never run: end the
        # stream from a thread after a while, so that the test fails, not hangs.
        watchdog = threading.Timer(30.0, writer.close)
        watchdog.start()
        frames = [f async for f in reader.frames(copy=copy)]
        watchdog.cancel()
        await publish_task
        stop.set()
        await tick_task
        reader.close()
        assert recorder.timeouts == {None}  # the loop only looks, it never waits in a read
        return frames, ticks

    frames, ticks = asyncio.run(main())
    # copy=False: held in place once the writer granted holds (at its first publish),
    # two at most since the list keeps them; the others are copies.
    assert sum(f.zero_copy for f in frames) == (0 if copy else 2)
    assert [f.number for f in frames] == [1, 2, 3, 4, 5]
    assert [int(f.array[0, 0]) for f in frames] == [1, 2, 3, 4, 5]
    # The loop ran throughout half a second of waiting (about 50 ticks unloaded).
    assert ticks >= 10


def test_an_awaited_wait_times_out_while_the_loop_runs(writer, name):
    async def main():
        reader = shmframe.Reader(name)
        reader._native = recorder = WaitRecorder(reader._native)
        ticks = 0

        async def ticker():
            nonlocal ticks
            for _ in range(20):
                ticks += 1
                await asyncio.sleep(0.01)

        tick_task = asyncio.create_task(ticker())
        got = await reader.wait_latest_async(0.5)
        await tick_task
        reader.close()
        assert recorder.timeouts == {None}
        return got, ticks

    got, ticks = asyncio.run(main())
    assert got is None
    assert ticks == 20  # every tick ran while the wait was pending


def test_other_threads_use_the_reader_while_one_waits_for_ever(writer, name):
    reader = shmframe.Reader(name)
    got = []
    waiter = threading.Thread(target=lambda: got.append(reader.wait_latest(None)))
    waiter.start()
    time.sleep(0.3)
    # Between the waiter's native slices, other threads get the reader.
    for _ in range(5):
        assert reader.writer_alive and reader.status().frames_published == 0
    assert waiter.is_alive() and not got
    writer.publish(np.zeros((2, 2), np.uint8))
    waiter.join(30)
    assert not waiter.is_alive() and got[0].number == 1
    reader.close()


def test_threads_hold_and_release_frames_of_one_reader_concurrently(name):
    from holding import granted_reader, pattern

    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=4) as writer:
        reader = granted_reader(writer, name, holds=4)
        n = writer.publish(pattern(writer.frames_published + 1))
        errors = []

        def hold_and_release():
            try:
                for _ in range(2000):
                    with reader.latest(copy=False) as frame:
                        np.testing.assert_array_equal(frame.array, pattern(n))
            except Exception as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=hold_and_release) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors and not any(t.is_alive() for t in threads)
        assert reader.holding == 0
        # Every hold came back: all four are taken in place again.
        frames = [reader.latest(copy=False) for _ in range(4)]
        assert all(f.zero_copy for f in frames)
        del frames
        reader.close()
