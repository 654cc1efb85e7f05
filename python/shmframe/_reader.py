"""shmframe.Reader: frames as numpy arrays, in order or latest, blocking or with asyncio."""

import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, NamedTuple, Optional, Tuple

import numpy as np

from . import _native
from ._errors import InvalidArgumentError
from ._frame import Frame, check_out, fit_out, view_of
from ._readiness import readable

#: How long one wait of the iterators lasts before they look whether the writer is still there.
_POLL = 0.1

#: Longest single native wait (waits are made of slices this long).
_SLICE = 0.1


class Status(NamedTuple):
    """What the segment says about a stream (see :meth:`Reader.status`)."""

    writer_pid: int
    alive: bool
    slots: int
    slot_capacity: int
    frames_published: int
    created_ns: int


class Reader:
    """A read-only view of one stream; any number may be open, none can disturb the writer.

    ``Reader(name, trusted_uids=(), holds=2)`` opens stream ``name``
    (NoStreamError, also a FileNotFoundError, if there is none). A segment
    owned by another user is refused unless its uid is in ``trusted_uids``.
    ``holds`` is how many frames it may hold in place at once (``copy=False``;
    at most 16, and only what the writer grants of its own ``holds``).

    Reading (each returns a :class:`Frame`, or None):

    * ``latest()`` / ``wait_latest(timeout)``: the newest frame (a wait returns
      only a frame newer than the last one this reader returned);
    * ``next()`` / ``wait_next(timeout)``: every frame in order; ``Frame.missed``
      counts the frames the writer lapped past if this reader fell behind.
    * ``for frame in reader``: every frame in order until the writer closes
      the stream; ``async for frame in reader.frames()`` likewise, without
      blocking the event loop (it waits on :meth:`fileno` with
      ``loop.add_reader``, no worker thread).

    ``timeout`` is in seconds (None: wait for ever); waits release the GIL and
    wake on the writer's futex, not by polling. ``out=`` copies the frame into
    a preallocated C-contiguous array of the frame's exact shape and dtype
    (see :func:`shmframe.out_shape`), so a loop allocates nothing per frame
    and a packed frame is copied once, straight from shared memory; if the
    frame does not fit, FrameValueError or FrameTypeError is raised and that
    frame is skipped (``out`` may then hold part of it). Without ``out=``, each frame's array is new and the
    caller owns it.

    ``copy=False`` (on every read, and on :meth:`iter` and :meth:`frames`)
    holds the frame in place instead of copying it: ``Frame.array`` is then a
    read-only view into the shared segment, which the writer leaves alone
    until the frame is released (``frame.release()``, the end of a ``with
    frame:`` block, or garbage collection of the frame and of every array
    made from it). The call costs the same at any frame size. When no hold is
    free (the reader holds ``holds`` frames already, the writer's holds are
    all taken or turned off, or this reader's were not granted yet: they are
    at the writer's next publish) the frame is copied instead, at once, and
    ``Frame.zero_copy`` is False. Views stay valid after :meth:`close`.

    A Reader serves one thread at a time (calls from several threads are
    serialized). Use it as a context manager, or call close().
    """

    def __init__(self, name: str, trusted_uids: Iterable[int] = (), holds: int = 2) -> None:
        self._native = _native.Reader(name, list(trusted_uids), holds)
        self._name = name
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------

    def _read(
        self, next: bool, timeout: Optional[float], out: Optional[np.ndarray], copy: bool = True
    ) -> Optional[Frame]:
        if not copy:
            if out is not None:
                raise InvalidArgumentError("copy=False holds the frame in place: it cannot go into out= too")
            read_once = self._hold_once
        else:
            out_bytes = None if out is None else check_out(out).reshape(-1).view(np.uint8)

            def read_once(next: bool, timeout: Optional[float]) -> Optional[Frame]:
                return self._read_once(next, timeout, out, out_bytes)

        if timeout is None:  # only look
            with self._lock:
                return read_once(next, None)
        if not timeout >= 0:  # negative or NaN
            raise InvalidArgumentError(f"timeout must be a number of seconds >= 0 (or None), got {timeout}")
        deadline = time.monotonic() + timeout
        while True:
            # Native waits of at most _SLICE each: between them, signals are
            # handled and other threads may use the reader.
            remaining = max(0.0, deadline - time.monotonic())
            with self._lock:
                frame = read_once(next, min(remaining, _SLICE))
            if frame is not None or remaining <= _SLICE:
                return frame

    def _read_once(
        self, next: bool, timeout: Optional[float], out: Optional[np.ndarray], out_bytes: Optional[np.ndarray]
    ) -> Optional[Frame]:
        """One native read (the lock is held): into ``out`` straight from the segment when
        the frame fits its bytes, else into the native buffer, shaped or copied into ``out``."""
        if out is None or out_bytes is None:
            info = self._native.read(next, timeout)
            return None if info is None else Frame(info, view_of(info, self._native.take()))
        got = self._native.read_into(next, timeout, out_bytes)
        if got is None:
            return None
        info, copied = got
        # Raises if the frame's shape, dtype or size is not out's.
        flat, rows, row_bytes, stride = fit_out(info, out)
        if not copied:  # too large for out as it lies, or rows with padding
            self._native.copy_to(flat, rows, row_bytes, stride)
        return Frame(info, out)

    def _hold_once(self, next: bool, timeout: Optional[float]) -> Optional[Frame]:
        """One native hold (the lock is held): a view of the frame in place, or a copy
        of it into the native buffer when no hold is free."""
        got = self._native.hold(next, timeout)
        if got is None:
            return None
        info, held = got
        if held is None:
            return Frame(info, view_of(info, self._native.take()))
        return Frame(info, view_of(info, held), zero_copy=True)

    def latest(self, *, out: Optional[np.ndarray] = None, copy: bool = True) -> Optional[Frame]:
        """The latest frame, or None if nothing has been published yet. Never waits."""
        return self._read(False, None, out, copy)

    def next(self, *, out: Optional[np.ndarray] = None, copy: bool = True) -> Optional[Frame]:
        """The next frame in order, or None if this reader has seen every frame. Never waits."""
        return self._read(True, None, out, copy)

    def wait_latest(
        self, timeout: Optional[float] = None, *, out: Optional[np.ndarray] = None, copy: bool = True
    ) -> Optional[Frame]:
        """Waits up to ``timeout`` seconds for a frame newer than the last one returned; the latest, or None."""
        return self._read(False, _timeout(timeout), out, copy)

    def wait_next(
        self, timeout: Optional[float] = None, *, out: Optional[np.ndarray] = None, copy: bool = True
    ) -> Optional[Frame]:
        """Waits up to ``timeout`` seconds for the next frame in order; None on timeout."""
        return self._read(True, _timeout(timeout), out, copy)

    def __iter__(self) -> Iterator[Frame]:
        """Every frame in order, until the writer closes the stream (or dies): ``iter()``."""
        return self.iter()

    def iter(self, *, latest: bool = False, out: Optional[np.ndarray] = None, copy: bool = True) -> Iterator[Frame]:
        """``for frame in reader.iter(copy=False):`` every frame in order (``latest=True``:
        only the newest each time) until the writer closes the stream (or dies).

        With ``copy=False``, the loop variable holds its frame until the next one is
        read, so each step needs two holds (the default); release it (``with frame:``)
        for the next read to get it back sooner."""
        while True:
            frame = self._read(not latest, _POLL, out, copy)
            if frame is not None:
                yield frame
            elif not self.writer_alive:
                # Frames published just before the writer closed are still there.
                while (frame := self._read(True, None, out, copy)) is not None:
                    yield frame
                if not self.writer_alive:
                    return

    # -- asyncio ---------------------------------------------------------------

    def fileno(self) -> int:
        """A file descriptor that is readable while a frame newer than the last one this
        reader returned is published, and once when the writer closes, dies or is replaced
        (then once more when a successor appears), for ``select``, ``poll``, ``selectors``
        and ``loop.add_reader``.

        A read (returning a frame or finding nothing new) clears it unless a frame newer
        than every one returned is there; :meth:`clear_readiness` clears it until the next
        frame. Read until a read finds nothing, then ask :attr:`writer_alive`: an end of
        the writer that came while the fd was readable anyway is told by that readiness. The reader owns the fd: never read, write or close it, and stop watching
        it before :meth:`close`. The first call starts a helper thread that sleeps on the
        stream as the waits do; readers that never call it run none."""
        with self._lock:
            return self._native.fileno()

    def clear_readiness(self) -> None:
        """Makes :meth:`fileno` unreadable until a frame newer than every frame published
        so far (or an end of the writer not yet told)."""
        with self._lock:
            self._native.clear_readiness()

    async def wait_latest_async(
        self, timeout: Optional[float] = None, *, out: Optional[np.ndarray] = None, copy: bool = True
    ) -> Optional[Frame]:
        """:meth:`wait_latest` for asyncio: the event loop watches :meth:`fileno` meanwhile."""
        return await self._wait_async(False, _timeout(timeout), out, copy)

    async def wait_next_async(
        self, timeout: Optional[float] = None, *, out: Optional[np.ndarray] = None, copy: bool = True
    ) -> Optional[Frame]:
        """:meth:`wait_next` for asyncio: the event loop watches :meth:`fileno` meanwhile."""
        return await self._wait_async(True, _timeout(timeout), out, copy)

    async def _wait_async(
        self, next: bool, timeout: float, out: Optional[np.ndarray], copy: bool = True
    ) -> Optional[Frame]:
        if not timeout >= 0:  # negative or NaN
            raise InvalidArgumentError(f"timeout must be a number of seconds >= 0 (or None), got {timeout}")
        fd = self.fileno()
        deadline = time.monotonic() + timeout
        while True:
            # A look that finds nothing new clears the fd; a frame published
            # after it makes the fd readable again, so none is slept through.
            frame = self._read(next, None, out, copy)
            if frame is not None:
                return frame
            if not self.writer_alive and self.follow():
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await readable(fd, remaining)

    async def frames(
        self, *, latest: bool = False, out: Optional[np.ndarray] = None, copy: bool = True
    ) -> AsyncIterator[Frame]:
        """``async for frame in reader.frames():`` every frame in order (``latest=True``:
        only the newest each time) until the writer closes the stream, never blocking
        the event loop. With ``out=``, every frame is copied into that one array; with
        ``copy=False``, each is held in place (as with :meth:`iter`)."""
        while True:
            frame = await self._wait_async(not latest, _POLL, out, copy)
            if frame is not None:
                yield frame
                continue
            if not self.writer_alive:
                while (frame := self._read(True, None, out, copy)) is not None:
                    yield frame
                if not self.writer_alive:
                    return

    # -- the stream ------------------------------------------------------------

    @property
    def writer_alive(self) -> bool:
        """Whether the writer is still running and publishing into this segment."""
        with self._lock:
            return self._native.writer_alive

    def status(self) -> Status:
        """The writer's pid and liveness, the ring's geometry and the frames published so far."""
        with self._lock:
            return Status(*self._native.status())

    def follow(self) -> bool:
        """If the writer restarted (or moved to bigger slots), attaches to its new segment
        and returns True. Waits and iteration do this on their own."""
        with self._lock:
            return self._native.follow()

    @property
    def holding(self) -> int:
        """Frames this reader holds in place now (``copy=False`` frames whose arrays live)."""
        with self._lock:
            return self._native.holding

    @property
    def holds_granted(self) -> int:
        """Holds the writer has granted this reader so far (0 before its first ``copy=False`` read)."""
        with self._lock:
            return self._native.holds_granted

    @property
    def name(self) -> str:
        """The stream name."""
        return self._name

    @property
    def path(self) -> Optional[Path]:
        """The segment file's path (None once closed)."""
        with self._lock:
            return self._native.path

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        with self._lock:
            return self._native.closed

    def close(self) -> None:
        """Unmaps the stream; later reads raise."""
        with self._lock:
            self._native.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("writer alive" if self.writer_alive else "writer gone")
        return f"<shmframe.Reader {self.name!r}, {state}>"


def _timeout(timeout: Optional[float]) -> float:
    """None (wait for ever) as infinity; the native side rejects negatives and NaN."""
    return float("inf") if timeout is None else float(timeout)
