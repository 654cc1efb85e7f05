"""A writer in another process that publishes pattern frames on request.

Usage: child_publisher.py NAME HOLDS. Prints "ready" once the stream exists;
then, for each line COUNT on stdin, publishes the next COUNT frames
(``holding.pattern(index)``) and prints the last index; closes at end of input.
"""

import sys

import shmframe
from holding import pattern


def main():
    name, holds = sys.argv[1], int(sys.argv[2])
    with shmframe.Writer(name, slots=2, capacity=1 << 16, holds=holds) as writer:
        print("ready", flush=True)
        for line in sys.stdin:
            for _ in range(int(line)):
                writer.publish(pattern(writer.frames_published + 1))
            print(writer.frames_published, flush=True)


if __name__ == "__main__":
    main()
