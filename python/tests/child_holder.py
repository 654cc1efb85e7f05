"""A reader in another process that holds frames in place and keeps them.

Usage: child_holder.py NAME COUNT. Reads the latest frame with copy=False
until it holds COUNT frames in place (the writer grants holds as it
publishes), prints "held", then keeps them until it is killed.
"""

import sys
import time

import shmframe


def main():
    name, count = sys.argv[1], int(sys.argv[2])
    reader = shmframe.Reader(name, holds=count)
    kept = []
    while len(kept) < count:
        frame = reader.latest(copy=False)
        if frame is not None and frame.zero_copy:
            kept.append(frame)
        time.sleep(0.001)
    print("held", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
