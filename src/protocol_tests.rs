//! The protocol on a heap region: the same code that runs on the mapping.
//! Sizes are small so that these also run under Miri.

use super::*;
use crate::heap::HeapRegion;
use crate::layout::PixelFormat;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const ROUNDS: u64 = if cfg!(miri) { 30 } else { 20_000 };

fn heap(slots: usize, capacity: usize) -> HeapRegion {
    let heap = HeapRegion::new(Geometry::new(slots, capacity).unwrap());
    RingWriter::init(&heap.region(), 1, 0);
    heap
}

/// A frame of `words` 8-byte pixels (2 RGBA pixels each) whose every byte is `n`.
fn frame(n: u64, words: u32) -> (FrameMeta, Vec<u8>) {
    (
        FrameMeta::packed(2 * words, 1, PixelFormat::Rgba8),
        vec![n as u8; 8 * words as usize],
    )
}

#[test]
fn latest_is_none_before_the_first_publish() {
    let heap = heap(2, 64);
    let mut reader = RingReader::new(&heap.region());
    assert_eq!(
        reader.read_latest(&heap.region(), &mut Vec::new()).unwrap(),
        None
    );
    assert_eq!(
        reader.read_next(&heap.region(), &mut Vec::new()).unwrap(),
        None
    );
}

#[test]
fn published_frame_reads_back_exactly() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let meta = FrameMeta::packed(3, 2, PixelFormat::Rgb8);
    let pixels: Vec<u8> = (0..18).collect();
    assert_eq!(writer.publish(&region, &meta, || 77, &pixels).unwrap(), 1);
    let mut reader = RingReader::new(&region);
    let mut buf = vec![0xAA; 100];
    let info = reader.read_latest(&region, &mut buf).unwrap().unwrap();
    assert_eq!(buf, pixels);
    assert_eq!(
        (info.number, info.timestamp_ns, info.meta, info.len),
        (1, 77, meta, 18)
    );
    assert_eq!(reader.peek_latest(&region).unwrap(), Some(info));
}

#[test]
fn a_slice_read_fills_its_start_like_a_vector_read() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let meta = FrameMeta::packed(3, 2, PixelFormat::Rgb8);
    let pixels: Vec<u8> = (0..18).collect();
    writer.publish(&region, &meta, || 77, &pixels).unwrap();
    let (mut by_vec, mut latest, mut in_order) = (
        RingReader::new(&region),
        RingReader::new(&region),
        RingReader::new(&region),
    );
    let want = by_vec.read_latest(&region, &mut Vec::new()).unwrap();
    let mut out = [0xAA; 21];
    assert_eq!(latest.read_latest_into(&region, &mut out).unwrap(), want);
    assert_eq!((&out[..18], &out[18..]), (&pixels[..], &[0xAA; 3][..]));
    let mut exact = [0; 18];
    assert_eq!(in_order.read_next_into(&region, &mut exact).unwrap(), want);
    assert_eq!(exact[..], pixels[..]);
    assert_eq!(in_order.read_next_into(&region, &mut exact).unwrap(), None);
    assert_eq!(latest.last_seen(), 1);
}

#[test]
fn a_slice_too_small_is_refused_and_the_frame_stays_unread() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, pixels) = frame(5, 2);
    writer.publish(&region, &meta, || 0, &pixels).unwrap();
    let mut reader = RingReader::new(&region);
    let mut small = [0xAA; 15];
    for got in [
        reader.read_latest_into(&region, &mut small),
        reader.read_next_into(&region, &mut small),
    ] {
        assert!(
            matches!(got, Err(Error::BufferTooSmall { len: 16, got: 15 })),
            "{got:?}"
        );
    }
    assert_eq!(
        small, [0xAA; 15],
        "nothing is copied into a slice too small"
    );
    assert_eq!((reader.last_seen(), reader.next_number()), (0, 1));
    // The metadata says how much room the frame needs; then it reads in order.
    let needed = reader.peek_latest(&region).unwrap().unwrap().len;
    let mut out = vec![0; needed];
    let info = reader.read_next_into(&region, &mut out).unwrap().unwrap();
    assert_eq!((info.number, info.missed, &out), (1, 0, &pixels));
}

#[test]
fn frames_change_size_within_capacity() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let mut reader = RingReader::new(&region);
    let mut buf = Vec::new();
    for (n, words) in [(1, 8), (2, 1), (3, 5)] {
        let (meta, pixels) = frame(n, words);
        writer.publish(&region, &meta, || 0, &pixels).unwrap();
        let info = reader.read_latest(&region, &mut buf).unwrap().unwrap();
        assert_eq!((info.number, &buf), (n, &pixels));
    }
}

#[test]
fn writer_refuses_oversized_and_mismatched_frames_and_publishes_nothing() {
    let heap = heap(2, 16);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, pixels) = frame(1, 3);
    let err = writer.publish(&region, &meta, || 0, &pixels).unwrap_err();
    assert!(
        matches!(
            err,
            Error::FrameTooLarge {
                len: 24,
                capacity: 16
            }
        ),
        "{err}"
    );
    let (meta, _) = frame(1, 2);
    let err = writer.publish(&region, &meta, || 0, &[0; 15]).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
    assert_eq!(region.latest(), 0);
}

#[test]
fn failed_fill_publishes_nothing_and_the_number_is_reused() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, pixels) = frame(1, 2);
    writer.publish(&region, &meta, || 0, &pixels).unwrap();
    let result: Result<u64> = writer.publish_with(
        &region,
        &meta,
        || 0,
        |fill| {
            fill.write(0, &[9; 8])?;
            Err(Error::BadFrame {
                reason: "camera unplugged".into(),
            })
        },
    );
    assert!(result.is_err());
    assert_eq!(region.latest(), 1);
    let mut reader = RingReader::new(&region);
    let mut buf = Vec::new();
    assert_eq!(
        reader
            .read_latest(&region, &mut buf)
            .unwrap()
            .unwrap()
            .number,
        1
    );
    assert_eq!(buf, pixels);
    let (meta, pixels) = frame(2, 2);
    assert_eq!(writer.publish(&region, &meta, || 0, &pixels).unwrap(), 2);
}

#[test]
fn fill_writes_past_the_frame_are_refused() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, _) = frame(1, 2);
    let result = writer.publish_with(&region, &meta, || 0, |fill| fill.write(10, &[0; 7]));
    assert!(matches!(result, Err(Error::BadFrame { .. })));
    assert_eq!(region.latest(), 0);
}

#[test]
fn a_slot_being_written_is_never_returned() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, first) = frame(1, 2);
    writer.publish(&region, &meta, || 0, &first).unwrap();
    let mut reader = RingReader::new(&region);
    // Frame 3 goes into frame 1's slot; read while it is half written.
    let (meta, second) = frame(2, 2);
    writer.publish(&region, &meta, || 0, &second).unwrap();
    let mut in_order = RingReader {
        next: 1,
        last_seen: 0,
        missed: 0,
    };
    writer
        .publish_with::<Error>(
            &region,
            &meta,
            || 0,
            |fill| {
                fill.write(0, &[3; 4])?;
                let mut buf = Vec::new();
                // The latest frame (2) is in the other slot: intact.
                let latest = reader.read_latest(&region, &mut buf)?.unwrap();
                assert_eq!((latest.number, &buf), (2, &second));
                let mut out = [0; 16];
                let latest = reader.read_latest_into(&region, &mut out)?.unwrap();
                assert_eq!((latest.number, &out[..]), (2, &second[..]));
                // Frame 1's slot is mid-write: the in-order reader skips it, counted.
                let mut skipping = in_order;
                let next = skipping.read_next_into(&region, &mut out)?.unwrap();
                assert_eq!((next.number, next.missed, &out[..]), (2, 1, &second[..]));
                let next = in_order.read_next(&region, &mut buf)?.unwrap();
                assert_eq!((next.number, next.missed, &buf), (2, 1, &second));
                fill.write(4, &[3; 4])
            },
        )
        .unwrap();
}

#[test]
fn in_order_reader_counts_missed_frames_exactly() {
    let heap = heap(4, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let mut reader = RingReader::new(&region);
    let mut buf = Vec::new();
    for n in 1..=10 {
        let (meta, pixels) = frame(n, 1);
        writer.publish(&region, &meta, || 0, &pixels).unwrap();
    }
    // Latest is 10: the placement table still finds 7..=10 (the writer is not
    // filling 11 into frame 7's slot yet).
    let got: Vec<(u64, u64)> = std::iter::from_fn(|| reader.read_next(&region, &mut buf).unwrap())
        .map(|info| (info.number, info.missed))
        .collect();
    assert_eq!(got, [(7, 6), (8, 0), (9, 0), (10, 0)]);
    for n in 11..=12 {
        let (meta, pixels) = frame(n, 1);
        writer.publish(&region, &meta, || 0, &pixels).unwrap();
    }
    let info = reader.read_next(&region, &mut buf).unwrap().unwrap();
    assert_eq!((info.number, info.missed, buf[0]), (11, 0, 11));
}

#[test]
fn a_frame_keeps_the_number_and_timestamp_it_came_with() {
    let heap = heap(3, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let mut next = RingReader::new(&region);
    let mut latest = RingReader::new(&region);
    let mut buf = Vec::new();
    // Numbers that skip, repeat and go back: indexes stay 1, 2, 3, 4.
    for (k, number) in [(1, 500), (2, 502), (3, 502), (4, 7)] {
        let (meta, pixels) = frame(k, 1);
        let origin = FrameOrigin {
            number,
            timestamp_ns: 1000 + number,
        };
        let index = writer
            .publish_from(&region, &meta, origin, || 90 + k, &pixels)
            .unwrap();
        assert_eq!(index, k);
        let info = next.read_next(&region, &mut buf).unwrap().unwrap();
        assert_eq!(ids(&info), (k, number, 1000 + number, 90 + k));
        assert_eq!((info.missed, buf[0]), (0, k as u8));
        let info = latest.read_latest(&region, &mut buf).unwrap().unwrap();
        assert_eq!((info.index, info.number), (k, number));
    }
    // Without an origin, the number is the index and the timestamp the publish time.
    let (meta, pixels) = frame(5, 1);
    writer.publish(&region, &meta, || 95, &pixels).unwrap();
    let info = next.read_next(&region, &mut buf).unwrap().unwrap();
    assert_eq!(ids(&info), (5, 5, 95, 95));
    // Filled in place, with an origin.
    let origin = FrameOrigin {
        number: 42,
        timestamp_ns: 4242,
    };
    let index = writer
        .publish_with_from::<Error>(&region, &meta, origin, || 96, |fill| fill.write(0, &pixels))
        .unwrap();
    let info = next.read_next(&region, &mut buf).unwrap().unwrap();
    assert_eq!((index, ids(&info), &buf), (6, (6, 42, 4242, 96), &pixels));
}

/// A frame's index, number, timestamp and publish time.
fn ids(info: &FrameInfo) -> (u64, u64, u64, u64) {
    (
        info.index,
        info.number,
        info.timestamp_ns,
        info.published_ns,
    )
}

#[test]
fn a_caught_up_in_order_read_copies_nothing() {
    let heap = heap(3, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let mut reader = RingReader::new(&region);
    for n in 1..=2 {
        let (meta, pixels) = frame(n, 1);
        writer.publish(&region, &meta, || 0, &pixels).unwrap();
    }
    let mut out = [0u8; 8];
    let info = reader.read_next_into(&region, &mut out).unwrap().unwrap();
    assert_eq!((info.index, out), (1, [1; 8]));
    reader.read_next_into(&region, &mut out).unwrap().unwrap();
    // Caught up: nothing new, and nothing is copied.
    out = [0xEE; 8];
    assert_eq!(reader.read_next_into(&region, &mut out).unwrap(), None);
    assert_eq!(out, [0xEE; 8]);
    let (meta, pixels) = frame(3, 1);
    writer.publish(&region, &meta, || 0, &pixels).unwrap();
    let info = reader.read_next_into(&region, &mut out).unwrap().unwrap();
    assert_eq!((info.index, info.missed, out), (3, 0, [3; 8]));
}

#[test]
fn an_in_order_reader_takes_a_committed_frame_before_latest_names_it() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let mut reader = RingReader::new(&region);
    let mut buf = Vec::new();
    for n in 1..=2 {
        let (meta, pixels) = frame(n, 1);
        writer.publish(&region, &meta, || n, &pixels).unwrap();
    }
    // The moment between frame 2's commit and the writer's store of `latest`.
    region.header(header::LATEST).store(1, Relaxed);
    for n in 1..=2 {
        let info = reader.read_next(&region, &mut buf).unwrap().unwrap();
        assert_eq!((info.number, info.missed, buf[0]), (n, 0, n as u8));
    }
    assert_eq!(reader.read_next(&region, &mut buf).unwrap(), None);
    // A slot older than `latest` promises is corruption, whichever way it is read.
    region.header(header::LATEST).store(3, Relaxed);
    assert!(matches!(
        reader.read_next(&region, &mut buf),
        Err(Error::CorruptFrame { .. })
    ));
}

#[test]
fn corrupt_metadata_is_an_error_not_a_panic() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, pixels) = frame(1, 2);
    writer.publish(&region, &meta, || 0, &pixels).unwrap();
    let slot = region.slot(1);
    let mut reader = RingReader::new(&region);
    let mut buf = Vec::new();
    slot[slot::LEN].store(1 << 40, Relaxed);
    assert!(matches!(
        reader.read_latest(&region, &mut buf),
        Err(Error::CorruptFrame { .. })
    ));
    slot[slot::LEN].store(16, Relaxed);
    slot[slot::STRIDE_FORMAT].store(crate::layout::join(16, 99), Relaxed);
    assert!(matches!(
        reader.read_latest(&region, &mut buf),
        Err(Error::UnknownFormat { code: 99 })
    ));
    slot[slot::STRIDE_FORMAT].store(crate::layout::join(8, 1), Relaxed);
    slot[slot::INDEX].store(0, Relaxed);
    // A slot that never completes a frame: bounded retries, then an error.
    assert!(matches!(
        reader.read_latest(&region, &mut buf),
        Err(Error::Starved { .. })
    ));
    slot[slot::SEQ].store(1, Relaxed);
    assert!(matches!(
        reader.read_latest(&region, &mut buf),
        Err(Error::Starved { .. })
    ));
}

#[test]
fn concurrent_readers_never_see_torn_or_mixed_frames() {
    let heap = Arc::new(heap(2, 64));
    let done = Arc::new(AtomicBool::new(false));
    // Latest and in-order readers, into a vector and into a slice.
    let readers: Vec<_> = (0..4)
        .map(|i| {
            let (heap, done) = (heap.clone(), done.clone());
            std::thread::spawn(move || {
                let region = heap.region();
                let mut reader = RingReader::new(&region);
                let mut buf = Vec::new();
                let mut slice = [0u8; 64];
                let mut last = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let got = match i {
                        0 => reader.read_latest(&region, &mut buf),
                        1 => reader.read_next(&region, &mut buf),
                        2 => reader.read_latest_into(&region, &mut slice),
                        _ => reader.read_next_into(&region, &mut slice),
                    };
                    if let Some(info) = got.unwrap() {
                        assert!(info.number >= last, "frames go backwards");
                        let pixels = if i < 2 {
                            assert_eq!(buf.len(), info.len);
                            &buf[..]
                        } else {
                            &slice[..info.len]
                        };
                        assert!(
                            pixels.iter().all(|&b| b == info.number as u8),
                            "torn frame {}",
                            info.number
                        );
                        last = info.number;
                    }
                }
            })
        })
        .collect();
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    for n in 1..=ROUNDS {
        // Lengths vary so that a mixed copy would also show in the length.
        let (meta, pixels) = frame(n, 1 + (n % 8) as u32);
        writer.publish(&region, &meta, || n, &pixels).unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
}

/// Frame `n` of `len` bytes whose byte `i` depends on both, so a chunk read
/// from the wrong frame or the wrong place shows.
fn patterned(n: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (n as u8) ^ ((i / 4096) as u8) ^ (i as u8))
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "copies megabytes")]
fn large_frames_read_back_exactly_across_copy_chunks_while_the_writer_laps() {
    // Three whole chunks and a tail of 3357 bytes (not whole words): the
    // chunked copy's seams and its early exit.
    let meta = FrameMeta::packed(1001, 263, PixelFormat::Rgb8);
    let len = meta.checked_len().unwrap();
    assert_eq!(len, 3 * super::COPY_CHUNK + 3357);
    let heap = Arc::new(heap(2, len));
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|i| {
            let (heap, done) = (heap.clone(), done.clone());
            std::thread::spawn(move || {
                let region = heap.region();
                let mut reader = RingReader::new(&region);
                let mut buf = Vec::new();
                let mut read = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let got = if i == 0 {
                        reader.read_latest(&region, &mut buf)
                    } else {
                        reader.read_next(&region, &mut buf)
                    };
                    if let Some(info) = got.unwrap() {
                        assert!(
                            buf == patterned(info.number, len),
                            "torn frame {}",
                            info.number
                        );
                        read += 1;
                    }
                }
                read
            })
        })
        .collect();
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    for n in 1..=300 {
        writer
            .publish(&region, &meta, || n, &patterned(n, len))
            .unwrap();
    }
    // A last frame nobody laps: every reader gets at least that one whole.
    std::thread::sleep(std::time::Duration::from_millis(50));
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0, "a reader read nothing");
    }
}

#[test]
fn waiting_reader_wakes_on_publish() {
    let heap = Arc::new(heap(2, 64));
    let waiter = {
        let heap = heap.clone();
        std::thread::spawn(move || {
            let region = heap.region();
            while !region.wait_for_frame_after(0, Duration::from_secs(10)) {}
            region.latest()
        })
    };
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, pixels) = frame(1, 1);
    writer.publish(&region, &meta, || 0, &pixels).unwrap();
    assert_eq!(waiter.join().unwrap(), 1);
}

#[test]
fn a_publish_wakes_only_while_a_registered_sleeper_may_be_asleep() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, pixels) = frame(1, 1);
    writer.publish(&region, &meta, || 1, &pixels).unwrap();
    assert_eq!(writer.wakes(), 0, "nobody registered: no wake");
    // A sleeper after frame 1 (its deadline, 200 ns after boot, is long past:
    // it returns at once): the publish of frame 2 may find it asleep.
    assert!(!region.wait_for_frame_until(1, 200));
    writer.publish(&region, &meta, || 2, &pixels).unwrap();
    assert_eq!(
        writer.wakes(),
        1,
        "frame 2 wakes a sleeper that saw frame 1"
    );
    writer.publish(&region, &meta, || 3, &pixels).unwrap();
    assert_eq!(writer.wakes(), 1, "nobody slept since: no wake for frame 3");
    // One that saw frame 3 registers; one that saw only frame 1 (late, or
    // dead) never lowers that.
    region.register_sleeper(3);
    region.register_sleeper(1);
    writer.publish(&region, &meta, || 4, &pixels).unwrap();
    assert_eq!(writer.wakes(), 2);
    writer.publish(&region, &meta, || 5, &pixels).unwrap();
    assert_eq!(writer.wakes(), 2, "a dead sleeper costs one wake, no more");
    // Closing wakes whatever the registrations say.
    writer.close(&region, crate::layout::STATE_CLOSED);
    assert_eq!(writer.wakes(), 3);
}

#[test]
fn a_fill_that_panics_leaves_every_slot_readable() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let (meta, pixels) = frame(1, 2);
    writer.publish(&region, &meta, || 1, &pixels).unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        writer.publish_with::<Error>(
            &region,
            &meta,
            || 0,
            |fill| {
                fill.write(0, &[0xEE; 8])?;
                panic!("a fill closure that panics");
            },
        )
    }));
    assert!(panicked.is_err());
    assert_eq!(
        region.latest(),
        1,
        "nothing published by the panicking fill"
    );
    let mut latest = RingReader::new(&region);
    let mut in_order = RingReader::new(&region);
    let mut buf = Vec::new();
    let first = in_order.read_next(&region, &mut buf).unwrap().unwrap();
    assert_eq!((first.number, first.missed), (1, 0));
    // Frames 2..=10 land in both slots, including the one the panic left.
    for n in 2..=10 {
        let (meta, pixels) = frame(n, 2);
        assert_eq!(writer.publish(&region, &meta, || n, &pixels).unwrap(), n);
        let info = latest.read_latest(&region, &mut buf).unwrap().unwrap();
        assert_eq!((info.number, &buf), (n, &pixels));
        let info = in_order.read_next(&region, &mut buf).unwrap().unwrap();
        assert_eq!((info.number, info.missed, &buf), (n, 0, &pixels));
        let at = region.slot_of(n).expect("frame n is placed");
        let seq = region.slot(at)[slot::SEQ].load(Relaxed);
        assert_eq!(seq % 2, 0, "slot of frame {n} is odd at rest");
    }
}

#[test]
fn a_frame_filled_through_the_begun_pointer_reads_back_and_an_abort_publishes_nothing() {
    let heap = heap(2, 64);
    let region = heap.region();
    let mut writer = RingWriter::init(&region, 1, 0);
    let mut reader = RingReader::new(&region);
    let meta = FrameMeta::packed(3, 2, PixelFormat::Rgb8);
    let aborted = writer.begin(&region, &meta, 18, None).unwrap();
    writer.abort(&region, aborted);
    assert_eq!(reader.read_next(&region, &mut Vec::new()).unwrap(), None);

    let begun = writer.begin(&region, &meta, 18, None).unwrap();
    assert!(writer.is_begun(&region, &begun));
    let pixels: Vec<u8> = (0..18).collect();
    // SAFETY: the payload holds at least `len` = 18 bytes (capacity 64) and
    // nothing else accesses the slot while the frame is begun.
    unsafe {
        std::ptr::copy_nonoverlapping(
            pixels.as_ptr(),
            RingWriter::payload_ptr(&region, &begun),
            18,
        )
    };
    assert_eq!(writer.commit(&region, begun, 5), 1);
    let mut buf = Vec::new();
    let info = reader.read_next(&region, &mut buf).unwrap().unwrap();
    assert_eq!(
        (info.number, info.missed, info.timestamp_ns, buf),
        (1, 0, 5, pixels)
    );
}

/// A frame held in place is read as a plain `&[u8]` while another thread
/// publishes: under Miri, a store of the writer into the held slot would be
/// a data race with those reads, and the bytes would change.
#[test]
fn a_held_frame_is_never_written_while_the_writer_publishes() {
    let heap = HeapRegion::new(Geometry::with_holds(4, 64, 2).unwrap());
    let entries: [AtomicU64; 2] = std::array::from_fn(|_| AtomicU64::new(0));
    let mut writer = RingWriter::init(&heap.region(), 1, 0);
    let region = heap.region().with_holds(&entries);
    for n in 1..=2 {
        let (meta, pixels) = frame(n, 2);
        writer.publish(&region, &meta, || n, &pixels).unwrap();
    }
    let mut ring = RingReader::new(&heap.region());
    let mut info = FrameInfo::NONE;
    let granted = ring
        .hold_latest(&heap.region(), &entries[0], &mut info)
        .unwrap()
        .unwrap();
    // SAFETY: the hold through `entries[0]` is granted and stays until the
    // end of this test, and the writer honours both entries.
    let held = unsafe { heap.region().held_pixels(granted.slot, info.len) };
    assert_eq!((info.index, held), (2, &[2u8; 16][..]));
    let published = std::thread::scope(|scope| {
        let publisher = scope.spawn(|| {
            for n in 3..ROUNDS.min(200) {
                let (meta, pixels) = frame(n, 2);
                writer.publish(&region, &meta, || n, &pixels).unwrap();
            }
            writer.published()
        });
        // Reads race the publishes in the other slots, never in this one.
        let mut sum = 0u64;
        while !publisher.is_finished() {
            sum += held.iter().map(|&b| u64::from(b)).sum::<u64>();
            std::thread::yield_now();
        }
        assert!(sum % 32 == 0);
        publisher.join().unwrap()
    });
    assert_eq!(held, &[2u8; 16][..]);
    assert_eq!(published, ROUNDS.min(200) - 1);
    entries[0].store(0, Release);
    // Let go: the writer uses that slot again.
    for n in published + 1..=published + 4 {
        let (meta, pixels) = frame(n, 2);
        writer.publish(&region, &meta, || n, &pixels).unwrap();
    }
    let mut copy = [0u8; 16];
    heap.region().copy_pixels(granted.slot, &mut copy);
    assert_ne!(copy, [2u8; 16], "a released slot is written again");
}
