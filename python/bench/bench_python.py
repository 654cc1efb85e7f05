"""Python reading 1080p RGBA frames: shmframe against the floor and the usual alternatives.

    target/pyenv/bin/python python/bench/bench_python.py [--rounds 5] [--frames 200] [--cli target/release/shmframe]
        [--only read,stream,latency,zero-copy]

Every system moves the same 1920x1080 RGBA frames (8,294,400 bytes) into a
preallocated array of the consumer, in rounds that interleave the systems, so
each ratio compares figures taken side by side under the same load:

* read: the frame is already there; the consumer copies it into its array
  (numpy.copyto of the bytes is the floor; shmframe `latest(out=)` from a
  Python writer and from the Rust `shmframe publish`; multiprocessing
  shared_memory read under a multiprocessing.Lock).
* stream: a producer process sends frames as fast as it can; the consumer
  takes each newest one (shmframe `wait_latest(out=)`, shared_memory + Lock
  with a counter) or every one (multiprocessing.Queue / Pipe, which pickle).
* latency: a producer publishes one frame every 10 ms, stamped with
  CLOCK_MONOTONIC in its first 8 bytes just before publishing; the consumer
  wakes, copies it into its array and subtracts (publish to array in hand).
  The Rust reader's figure is `shmframe bench --quick`'s 1080p latency, run
  right after in the same invocation.
* zero-copy: the cost of one call, `latest(copy=False)` (a hold: a read-only
  view into the segment) against `latest(out=)` (a copy), at 4K, 1080p and
  64x48 RGBA: copy=False calls in a run of their own (warm caches), then the
  two calls alternating frame by frame (each copy=False call after a copy
  that evicted the caches); median per call.

Nothing here asserts a speed; it prints medians and ratios (and --json).
"""

import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import shmframe

WIDTH, HEIGHT = 1920, 1080
SHAPE = (HEIGHT, WIDTH, 4)
SIZE = WIDTH * HEIGHT * 4
CTX = mp.get_context("fork")


def frame_source(seed=1):
    """Two different frames, so consecutive frames differ."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, SHAPE, dtype=np.uint8) for _ in range(2)]


# --- producers (child processes) ----------------------------------------------


def shmframe_producer(name, ready, stop, period):
    """Publishes one frame (period None), or continuously (0), or every `period`
    seconds with a CLOCK_MONOTONIC stamp in its first 8 bytes."""
    frames = frame_source()
    with shmframe.Writer(name, slots=3, capacity=SIZE) as writer:
        writer.publish(frames[0])
        ready.set()
        if period is None:
            stop.wait()
        i = 0
        while not stop.is_set():
            frame = frames[i % 2]
            if period:
                time.sleep(period)
                frame.reshape(-1)[:8].view(np.uint64)[0] = time.monotonic_ns()
            writer.publish(frame)
            i += 1


def shm_producer(shm_name, lock, counter, ready, stop, stream):
    """Writes frames into a SharedMemory block under a Lock, bumping a counter each time."""
    from multiprocessing import shared_memory

    block = shared_memory.SharedMemory(name=shm_name)
    view = np.ndarray(SHAPE, np.uint8, buffer=block.buf)
    frames = frame_source()
    with lock:
        np.copyto(view, frames[0])
        counter.value += 1
    ready.set()
    i = 0
    while stream and not stop.is_set():
        with lock:
            np.copyto(view, frames[i % 2])
            counter.value += 1
        i += 1
    del view
    block.close()


def queue_producer(queue, stop):
    frames = frame_source()
    i = 0
    while not stop.is_set():
        try:
            queue.put(frames[i % 2], timeout=0.1)
        except Exception:  # queue.Full while the consumer is between rounds
            continue
        i += 1


def pipe_producer(conn, stop):
    frames = frame_source()
    i = 0
    while not stop.is_set():
        conn.send(frames[i % 2])
        i += 1
    conn.close()


# --- the systems, as (setup, measure n frames, teardown) ---------------------------


class Floor:
    label = "numpy.copyto (floor)"

    def start(self):
        self.src, self.out = frame_source()[0], np.empty(SHAPE, np.uint8)

    def run(self, n):
        for _ in range(n):
            np.copyto(self.out, self.src)

    def stop(self):
        pass


class ShmframeRead:
    """latest(out=) of a frame a writer (Python child, or the Rust CLI) has published."""

    def __init__(self, rust_cli=None, stream=False, period=0.0, use_out=True, copy=True):
        self.rust_cli, self.stream, self.period = rust_cli, stream, period
        self.use_out, self.copy = use_out and copy, copy
        who = "Rust `shmframe publish`" if rust_cli else "Python writer"
        how = "out=" if self.use_out else ("a new array per frame" if copy else "copy=False (held in place, no copy)")
        self.label = f"shmframe from a {who}, {how}"

    def start(self):
        self.name = f"pybench-{os.getpid()}-{id(self)}"
        self.out = np.empty(SHAPE, np.uint8)
        if self.rust_cli:
            self.tmp = tempfile.TemporaryDirectory()
            png = Path(self.tmp.name) / "frame.png"
            from PIL import Image

            Image.fromarray(frame_source()[0], "RGBA").save(png, compress_level=1)
            self.child = subprocess.Popen([self.rust_cli, "publish", "--quiet", "--name", self.name, str(png)])
            deadline = time.monotonic() + 60
            while True:
                try:
                    self.reader = shmframe.Reader(self.name)
                    if self.reader.wait_latest(1.0, out=self.out):
                        break
                except shmframe.NoStreamError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        else:
            self.ready, self.halt = CTX.Event(), CTX.Event()
            period = self.period if self.stream else None
            self.child = CTX.Process(target=shmframe_producer, args=(self.name, self.ready, self.halt, period))
            self.child.start()
            self.ready.wait(60)
            self.reader = shmframe.Reader(self.name)

    def run(self, n):
        out = self.out if self.use_out else None
        if self.stream:
            for _ in range(n):
                self.reader.wait_latest(10.0, out=out, copy=self.copy)
        else:
            for _ in range(n):
                self.reader.latest(out=out, copy=self.copy)

    def latencies(self, n):
        samples = []
        stamps = self.out.reshape(-1)[:8].view(np.uint64)
        for _ in range(n):
            if self.reader.wait_next(10.0, out=self.out) is not None:
                samples.append(time.monotonic_ns() - int(stamps[0]))
        return samples

    def stop(self):
        self.reader.close()
        if self.rust_cli:
            self.child.terminate()
            self.child.wait()
            self.tmp.cleanup()
        else:
            self.halt.set()
            self.child.join(5)
            if self.child.is_alive():
                self.child.terminate()
                self.child.join()


class EngineCopy(ShmframeRead):
    """The engine's copy into the reader's own reused buffer, not into an out=
    array (out= now costs this one copy, into the caller's array instead)."""

    def __init__(self):
        super().__init__()
        self.label = "shmframe engine copy alone (into the reader's buffer)"

    def run(self, n):
        native = self.reader._native
        for _ in range(n):
            native.read(False, None)


class TwoCopyOut(ShmframeRead):
    """out= as it was before the engine could read into a slice: into the
    reader's own buffer, then copied into the out= array (two copies)."""

    def __init__(self):
        super().__init__()
        self.label = "shmframe, out= through the reader's buffer (two copies, as before)"

    def run(self, n):
        native, flat = self.reader._native, self.out.reshape(-1)
        for _ in range(n):
            native.read(False, None)
            native.copy_to(flat, 1, flat.size, flat.size)


class SharedMemoryLock:
    """multiprocessing.shared_memory, with a multiprocessing.Lock around every copy."""

    def __init__(self, stream=False):
        self.stream = stream
        self.label = "shared_memory + Lock"

    def start(self):
        from multiprocessing import shared_memory

        self.block = shared_memory.SharedMemory(create=True, size=SIZE)
        self.view = np.ndarray(SHAPE, np.uint8, buffer=self.block.buf)
        self.lock, self.counter = CTX.Lock(), CTX.Value("q", 0, lock=False)
        self.ready, self.halt = CTX.Event(), CTX.Event()
        self.child = CTX.Process(
            target=shm_producer, args=(self.block.name, self.lock, self.counter, self.ready, self.halt, self.stream)
        )
        self.child.start()
        self.ready.wait(60)
        self.out = np.empty(SHAPE, np.uint8)
        self.seen = 0

    def run(self, n):
        for _ in range(n):
            if self.stream:  # wait for a frame newer than the last one taken
                while self.counter.value == self.seen:
                    pass
            with self.lock:
                np.copyto(self.out, self.view)
                self.seen = self.counter.value

    def stop(self):
        self.halt.set()
        self.child.join(10)
        del self.view
        self.block.close()
        self.block.unlink()


class QueueSystem:
    label = "multiprocessing.Queue"

    def start(self):
        self.queue, self.halt = CTX.Queue(maxsize=2), CTX.Event()
        self.child = CTX.Process(target=queue_producer, args=(self.queue, self.halt))
        self.child.start()
        self.out = np.empty(SHAPE, np.uint8)

    def run(self, n):
        for _ in range(n):
            np.copyto(self.out, self.queue.get(timeout=30))

    def stop(self):
        self.halt.set()
        while self.child.is_alive():
            try:
                self.queue.get(timeout=0.1)
            except Exception:
                pass
        self.child.join()


class PipeSystem:
    label = "multiprocessing.Pipe"

    def start(self):
        self.conn, child_conn = CTX.Pipe(duplex=False)
        self.halt = CTX.Event()
        self.child = CTX.Process(target=pipe_producer, args=(child_conn, self.halt))
        self.child.start()
        child_conn.close()
        self.out = np.empty(SHAPE, np.uint8)

    def run(self, n):
        for _ in range(n):
            np.copyto(self.out, self.conn.recv())

    def stop(self):
        self.halt.set()
        try:
            while True:
                self.conn.recv()
        except EOFError:
            pass
        self.child.join()


def one_frame_producer(name, shape, again, stop):
    """Publishes one frame, and again each time `again` is set, until `stop`."""
    frame = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    with shmframe.Writer(name, slots=2, capacity=frame.nbytes) as writer:
        writer.publish(frame)
        while not stop.is_set():
            if again.wait(0.05):
                again.clear()
                writer.publish(frame)


class HeldVersusOut:
    """latest(copy=False) against latest(out=) of one published frame, one call each in turn."""

    def __init__(self, width, height):
        self.shape = (height, width, 4)
        size = height * width * 4
        self.label = f"{width}x{height} RGBA ({size / 1e6:.1f} MB)" if size >= 1e6 else f"{width}x{height} RGBA ({size / 1e3:.0f} kB)"

    def start(self):
        self.name = f"pybench-held-{os.getpid()}-{id(self)}"
        self.again, self.halt = CTX.Event(), CTX.Event()
        self.child = CTX.Process(target=one_frame_producer, args=(self.name, self.shape, self.again, self.halt))
        self.child.start()
        deadline = time.monotonic() + 60
        while True:
            try:
                self.reader = shmframe.Reader(self.name)
                break
            except shmframe.NoStreamError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.out = np.empty(self.shape, np.uint8)
        self.reader.wait_latest(10.0, out=self.out)
        # The first hold asks the writer, which grants it at a later publish.
        self.reader.latest(copy=False)
        while self.reader.holds_granted == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the writer granted no hold in 60 s")
            self.again.set()
            time.sleep(0.005)

    def measure(self, n):
        """Medians in ns of: copy=False calls in a run of their own, its release(), and,
        alternating with each other, copy=False and out= calls; and the share held in place.

        Alternating, each copy=False call comes right after a copy that evicted the
        caches (33 MB at 4K); in a run of their own, the caches are warm."""
        clock, reader, out = time.perf_counter_ns, self.reader, self.out
        alone, release, alternating, copied, in_place = [], [], [], [], 0
        for _ in range(n):
            t0 = clock()
            frame = reader.latest(copy=False)
            t1 = clock()
            frame.release()  # the hold ends here
            t2 = clock()
            alone.append(t1 - t0)
            release.append(t2 - t1)
            in_place += frame.zero_copy
        for _ in range(n):
            t0 = clock()
            frame = reader.latest(copy=False)
            t1 = clock()
            in_place += frame.zero_copy
            frame.release()  # outside the timed call
            t2 = clock()
            reader.latest(out=out)
            t3 = clock()
            alternating.append(t1 - t0)
            copied.append(t3 - t2)
        medians = [statistics.median(x) for x in (alone, release, alternating, copied)]
        return medians + [in_place / (2 * n)]

    def stop(self):
        self.reader.close()
        self.halt.set()
        self.child.join(10)


def measure_held(sizes, rounds, frames):
    """{label: {figure: value}} (HELD_FIGURES: median ns of copy=False in a run of its own,
    of its release(), of copy=False alternating with out=, of out=; the share of calls held
    in place), each the median over `rounds` rounds."""
    results = {}
    for width, height in sizes:
        system = HeldVersusOut(width, height)
        per_round = []
        for _ in range(rounds):
            system.start()
            try:
                system.measure(3)  # warm up
                per_round.append(system.measure(frames))
            finally:
                system.stop()
        medians = [statistics.median(figures) for figures in zip(*per_round)]
        results[system.label] = dict(zip(HELD_FIGURES, medians))
    return results


#: What measure_held reports for each frame size.
HELD_FIGURES = ("copy_false_ns", "release_ns", "copy_false_after_copy_ns", "out_ns", "held_share")


def measure(systems, rounds, frames):
    """Frames/s of each system per round, the systems interleaved round by round.

    Each system's producer runs only while that system is measured (started and
    warmed up before the clock starts), so no other system's producer loads the
    machine meanwhile.
    """
    rates = {s.label: [] for s in systems}
    for _ in range(rounds):
        for s in systems:
            s.start()
            try:
                s.run(3)  # warm up
                started = time.perf_counter()
                s.run(frames)
                rates[s.label].append(frames / (time.perf_counter() - started))
            finally:
                s.stop()
    return {label: statistics.median(r) for label, r in rates.items()}


def rust_latency(cli):
    """`shmframe bench --quick`'s 1080p one-way latency of the Rust reader (median, p99 ns)."""
    run = subprocess.run([cli, "bench", "--quick", "--json"], capture_output=True, text=True, timeout=900)
    for m in json.loads(run.stdout):
        if m["case"] == "latency_1080p_poll" and m["system"] == "shmframe":
            return m["median_ns"], m["p99_ns"]
    raise RuntimeError("no latency_1080p_poll figure in `shmframe bench --json`")


def table(title, rates, floor_label, versus_label):
    """A markdown table of frames/s, GB/s and ratios to the floor (and to `versus_label`, if measured)."""
    versus = versus_label in rates
    head = "| system | frames/s | GB/s | x floor |" + (" x Queue |" if versus else "")
    rows = [f"\n{title}\n", head, "|---|---:|---:|---:|" + ("---:|" if versus else "")]
    for label, rate in rates.items():
        row = f"| {label} | {rate:,.0f} | {rate * SIZE / 1e9:.2f} | {rate / rates[floor_label]:.2f} |"
        rows.append(row + (f" {rate / rates[versus_label]:.1f} |" if versus else ""))
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=200, help="frames per system per round")
    parser.add_argument("--latency-samples", type=int, default=300)
    parser.add_argument("--cli", default=str(Path(__file__).resolve().parents[2] / "target/release/shmframe"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--only", default="read,stream,latency,zero-copy", help="comma-separated parts to run (default: all)"
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    os.environ.setdefault("SHMFRAME_DIR", tempfile.mkdtemp(prefix="shmframe-bench-"))
    have_cli = os.access(args.cli, os.X_OK)
    if not have_cli:
        print(f"no {args.cli}: the Rust writer and reader are left out", file=sys.stderr)

    results = {}
    if "read" in parts:
        read = [Floor(), ShmframeRead(), TwoCopyOut(), ShmframeRead(use_out=False), EngineCopy()]
        read += [ShmframeRead(rust_cli=args.cli)] if have_cli else []
        read += [SharedMemoryLock()]
        results["read"] = measure(read, args.rounds, args.frames)

    if "stream" in parts:
        stream = [Floor(), ShmframeRead(stream=True), ShmframeRead(stream=True, copy=False)]
        stream += [SharedMemoryLock(stream=True), QueueSystem(), PipeSystem()]
        results["stream"] = measure(stream, args.rounds, args.frames // 2)

    if "latency" in parts:
        latency_system = ShmframeRead(stream=True, period=0.01)
        latency_system.start()
        try:
            samples = sorted(latency_system.latencies(args.latency_samples))
        finally:
            latency_system.stop()
        results["latency_ns"] = {"python": [statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]]}
        if have_cli:
            results["latency_ns"]["rust"] = list(rust_latency(args.cli))

    if "zero-copy" in parts:
        sizes = [(3840, 2160), (1920, 1080), (64, 48)]
        results["zero_copy_ns"] = measure_held(sizes, args.rounds, args.frames)

    if args.json:
        print(json.dumps(results, indent=1))
        return
    if "read" in results:
        title = "read: the frame is there, copy it into the consumer's array"
        print(table(title, results["read"], "numpy.copyto (floor)", "-"))
    if "stream" in results:
        title = "stream: a producer process sends frames as fast as it can"
        print(table(title, results["stream"], "numpy.copyto (floor)", "multiprocessing.Queue"))
    if "latency_ns" in results:
        py_median, py_p99 = results["latency_ns"]["python"]
        print("\nlatency, publish to array in hand, 1080p RGBA (median / p99)")
        print(f"| Python reader, wait_next(out=) (futex wake) | {py_median / 1e3:,.0f} µs | {py_p99 / 1e3:,.0f} µs |")
        rust = results["latency_ns"].get("rust")
        if rust:
            print(f"| Rust reader, `shmframe bench` latency_1080p_poll | {rust[0] / 1e3:,.0f} µs | {rust[1] / 1e3:,.0f} µs |")
            print(f"| Python / Rust (medians) | {py_median / rust[0]:.2f}x | |")
    if "zero_copy_ns" in results:
        print("\nzero-copy: one latest() call on a published frame (median per call)")
        print("| frame | copy=False, in a run | its release() | copy=False, alternating with out= | out= | copy=False / out= (alternating) | held in place |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for label, figures in results["zero_copy_ns"].items():
            alone, release, held, copied, in_place = (figures[f] for f in HELD_FIGURES)
            print(
                f"| {label} | {alone / 1e3:,.1f} µs | {release / 1e3:,.2f} µs | {held / 1e3:,.1f} µs"
                f" | {copied / 1e3:,.0f} µs | {held / copied:.4f}x | {in_place:.0%} |"
            )


if __name__ == "__main__":
    main()
