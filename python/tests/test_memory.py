"""Reading into out= allocates nothing per frame: RSS stays flat over 10,000 1080p reads."""

import numpy as np

import shmframe


def rss_bytes():
    """The process's resident set size, from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import resource

    return pages * resource.getpagesize()


def test_ten_thousand_1080p_reads_into_out_do_not_grow_rss(name):
    # 1080p gray8 (2 MB): a per-read allocation of a frame, or a leak of 1 KiB per
    # read, shows the same as with RGBA, at a quarter of the copying.
    frame = np.zeros((1080, 1920), np.uint8)
    out = np.empty_like(frame)
    with shmframe.Writer(name, slots=3) as writer:
        reader = shmframe.Reader(name)
        for n in range(100):  # warm up: the reader's buffer, the page tables
            frame[0, 0] = n
            writer.publish(frame)
            assert reader.wait_latest(5.0, out=out) is not None
        before = rss_bytes()
        for n in range(10_000):
            frame[0, 0] = n % 256
            writer.publish(frame)
            got = reader.wait_latest(5.0, out=out)
            assert got is not None and got.array is out
        after = rss_bytes()
        reader.close()
    assert out[0, 0] == 9_999 % 256  # the last read really copied the last frame
    # A leak of even 1 KiB per read would add 10 MB; one frame is 2 MB.
    assert after - before < 4 * 1024 * 1024, f"RSS grew by {(after - before) / 1e6:.1f} MB"
