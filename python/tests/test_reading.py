"""Reading: latest and in order, exact missed counts, timeouts, iteration, status."""

import os
import threading
import time

import numpy as np
import pytest

import shmframe


def numbered(n):
    """A 2x3 gray frame whose pixels say which frame it is."""
    return np.full((2, 3), n % 256, np.uint8)


def test_next_reports_exactly_how_many_frames_a_slow_reader_missed(writer, name):
    reader = shmframe.Reader(name)  # opened before any frame: starts at frame 1
    for n in range(1, 11):
        writer.publish(numbered(n))
    # 4 slots: the placement table still finds frames 7..10 (the writer is not
    # filling 11 into frame 7's slot yet), so frames 1..6 are gone.
    first = reader.next()
    assert (first.number, first.missed) == (7, 6)
    assert first.array[0, 0] == 7
    frames = (reader.next(), reader.next(), reader.next())
    assert [(f.number, f.missed) for f in frames] == [(8, 0), (9, 0), (10, 0)]
    assert reader.next() is None
    writer.publish(numbered(11))
    assert (reader.next().number, reader.latest().number) == (11, 11)
    reader.close()


def test_in_order_reading_misses_nothing_when_it_keeps_up(writer, name):
    reader = shmframe.Reader(name)
    seen = []
    for n in range(1, 30):
        writer.publish(numbered(n))
        if n % 2 == 0:  # two frames per read: within the ring
            seen += [reader.next(), reader.next()]
    seen.append(reader.next())
    assert [f.number for f in seen] == list(range(1, 30))
    assert all(f.missed == 0 and f.array[0, 0] == f.number for f in seen)
    reader.close()


def test_latest_skips_to_the_newest_frame(writer, name):
    reader = shmframe.Reader(name)
    assert reader.latest() is None
    for n in range(1, 6):
        writer.publish(numbered(n))
    frame = reader.latest()
    assert (frame.number, frame.missed, frame.array[0, 0]) == (5, 0, 5)
    assert reader.wait_latest(0) is None  # nothing newer than 5
    reader.close()


@pytest.mark.parametrize("method", ["wait_latest", "wait_next"])
def test_a_wait_with_no_frame_returns_none_after_its_timeout(writer, name, method):
    reader = shmframe.Reader(name)
    wait = getattr(reader, method)
    started = time.monotonic()
    assert wait(0.3) is None
    elapsed = time.monotonic() - started
    # Generous bounds: the machine may be loaded; this checks "returns, in time", not speed.
    assert 0.3 <= elapsed < 10.0
    started = time.monotonic()
    assert wait(timeout=0) is None
    assert time.monotonic() - started < 10.0
    reader.close()


def test_a_wait_wakes_for_a_frame_published_meanwhile(writer, name):
    reader = shmframe.Reader(name)
    publisher = threading.Timer(0.2, lambda: writer.publish(numbered(1)))
    publisher.start()
    frame = reader.wait_next(30.0)
    publisher.join()
    assert frame is not None and frame.number == 1
    reader.close()


def test_iteration_ends_when_the_writer_closes(name):
    writer = shmframe.Writer(name, slots=8, capacity=1 << 12)
    reader = shmframe.Reader(name)

    def publish_then_close():
        for n in range(1, 6):
            writer.publish(numbered(n))
            time.sleep(0.01)
        writer.close()

    thread = threading.Thread(target=publish_then_close)
    thread.start()
    frames = list(reader)
    thread.join()
    assert [f.number for f in frames] == [1, 2, 3, 4, 5]
    assert not reader.writer_alive
    reader.close()


def test_status_and_list_streams_describe_the_stream(writer, name):
    writer.publish(numbered(1))
    with shmframe.Reader(name) as reader:
        status = reader.status()
        assert status.writer_pid == os.getpid()
        assert status.alive and reader.writer_alive
        assert (status.slots, status.slot_capacity, status.frames_published) == (4, 1 << 16, 1)
        assert 0 < status.created_ns <= shmframe.monotonic_ns()
        assert reader.name == name and reader.path.name == "shmframe." + name
    assert name in shmframe.list_streams()
    writer.close()
    assert name not in shmframe.list_streams()


def test_timestamps_are_monotonic_clock_nanoseconds(writer, name):
    before = time.monotonic_ns()
    writer.publish(numbered(1))
    with shmframe.Reader(name) as reader:
        frame = reader.latest()
    assert before <= frame.timestamp_ns <= time.monotonic_ns()
    assert before <= shmframe.monotonic_ns()
    # A local writer's frames: the number is the index, the timestamp the publish time.
    assert (frame.number, frame.index) == (1, 1)
    assert frame.published_ns == frame.timestamp_ns


def test_a_frame_keeps_the_number_and_timestamp_its_writer_gave(writer, name):
    with shmframe.Reader(name) as reader:
        before = time.monotonic_ns()
        assert writer.publish(numbered(1), number=9001, timestamp_ns=123) == 1
        assert writer.publish(numbered(2)) == 2
        assert writer.publish(numbered(3), number=7, timestamp_ns=2**64 - 1) == 3
        got = [reader.next() for _ in range(3)]
    assert [(f.index, f.number, f.timestamp_ns) for f in got] == [
        (1, 9001, 123),
        (2, 2, got[1].published_ns),
        (3, 7, 2**64 - 1),
    ]
    assert all(before <= f.published_ns <= time.monotonic_ns() for f in got)
    assert [f.array[0, 0] for f in got] == [1, 2, 3]


@pytest.mark.parametrize("given", [{"number": 5}, {"timestamp_ns": 5}])
def test_a_number_without_a_timestamp_is_refused(writer, given):
    with pytest.raises(shmframe.Error, match="give both or neither"):
        writer.publish(numbered(1), **given)
    assert writer.frames_published == 0


def test_a_frame_array_is_owned_by_the_caller(writer, name):
    writer.publish(numbered(1))
    with shmframe.Reader(name) as reader:
        first = reader.latest()
        writer.publish(numbered(2))
        second = reader.latest()
    assert first.array[0, 0] == 1 and second.array[0, 0] == 2  # not overwritten by the next read
    first.array[0, 0] = 99  # writeable, and only the caller's
    assert second.array[0, 0] == 2


def test_writer_properties_and_context_manager(name):
    with shmframe.Writer(name, slots=3, capacity=4096, mode=0o640) as writer:
        assert (writer.name, writer.capacity, writer.frames_published) == (name, 4096, 0)
        assert writer.publish(numbered(1)) == 1 and writer.frames_published == 1
        assert oct(os.stat(writer.path).st_mode & 0o777) == oct(0o640)
        assert not writer.closed
    assert writer.closed
    with pytest.raises(shmframe.NoStreamError):
        shmframe.Reader(name)


def test_ctrl_c_interrupts_a_wait_for_ever(writer, name):
    import signal
    import subprocess
    import sys

    code = (
        "import shmframe, sys\n"
        f"r = shmframe.Reader({name!r})\n"
        "print('waiting', flush=True)\n"
        "try:\n"
        "    r.wait_next(None)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        assert child.stdout.readline().strip() == "interrupted"
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()
