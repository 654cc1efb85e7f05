"""A writer in another process: publishes every test case of one format, in order.

Usage: child_writer.py NAME FORMAT. Prints "ready" once the stream exists,
publishes after a line on stdin, then closes the stream and exits.
"""

import sys

import shmframe
from frames import cases, make_frame


def main():
    name, fmt = sys.argv[1], sys.argv[2]
    todo = cases(fmt)
    with shmframe.Writer(name, slots=len(todo) + 1, capacity=1 << 16) as writer:
        print("ready", flush=True)
        sys.stdin.readline()
        for seed, (width, height, padded) in enumerate(todo):
            array, kwargs, _ = make_frame(fmt, width, height, padded, seed)
            writer.publish(array, **kwargs)
    print("closed", flush=True)


if __name__ == "__main__":
    main()
