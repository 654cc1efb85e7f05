//! Loom models of the seqlock ring, on a heap region.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p loom-tests --release`.
//! Each model is small (one-word frames, a few publishes) so that loom can
//! explore every interleaving within its preemption bound.
#![cfg(loom)]

use loom::sync::atomic::{AtomicU64, Ordering::Relaxed};
use loom::sync::Arc;
use loom::thread;
use shmframe::heap::HeapRegion;
use shmframe::layout::Geometry;
use shmframe::protocol::{FrameOrigin, RingReader, RingWriter};
use shmframe::{FrameInfo, FrameMeta, PixelFormat};
use std::time::Duration;

/// One-word frames: two RGBA pixels, every byte equal to the frame number.
fn publish(writer: &mut RingWriter, heap: &HeapRegion, number: u64) {
    let meta = FrameMeta::packed(2, 1, PixelFormat::Rgba8);
    let got = writer.publish(&heap.region(), &meta, || number, &[number as u8; 8]);
    assert_eq!(got.unwrap(), number);
}

/// A returned frame must be whole: its bytes, number and timestamp all agree.
fn check_whole(info: &FrameInfo, buf: &[u8]) {
    assert_eq!(info.len, 8);
    assert_eq!(
        info.timestamp_ns, info.number,
        "metadata of two frames mixed"
    );
    assert!(
        buf.iter().all(|&b| u64::from(b) == info.number),
        "torn frame {info:?}: {buf:?}"
    );
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

fn setup(slots: usize) -> (Arc<HeapRegion>, RingWriter) {
    let heap = Arc::new(HeapRegion::new(Geometry::new(slots, 8).unwrap()));
    let writer = RingWriter::init(&heap.region(), 1, 0);
    (heap, writer)
}

/// One writer, two readers, two slots: a reader never returns a torn or mixed
/// frame. Frame 3 overwrites frame 1's slot while an in-order reader may be
/// copying frame 1 out of it, and a latest-frame reader reads frame 2 or 3.
#[test]
fn two_readers_never_see_a_torn_frame() {
    model(|| {
        let (heap, mut writer) = setup(2);
        publish(&mut writer, &heap, 1);
        let region = heap.region();
        let mut in_order = RingReader::new(&region);
        let mut latest = RingReader::new(&region);
        publish(&mut writer, &heap, 2);
        let in_order = {
            let heap = heap.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let info = in_order
                    .read_next(&heap.region(), &mut buf)
                    .unwrap()
                    .unwrap();
                check_whole(&info, &buf);
                // Frame 1, or (if frame 3 was overwriting it) frame 2 with 1 missed.
                assert_eq!(info.number, 1 + info.missed);
            })
        };
        let latest = {
            let heap = heap.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let info = latest
                    .read_latest(&heap.region(), &mut buf)
                    .unwrap()
                    .unwrap();
                check_whole(&info, &buf);
                assert!(info.number >= 2);
            })
        };
        publish(&mut writer, &heap, 3);
        in_order.join().unwrap();
        latest.join().unwrap();
    });
}

/// Two-word frames, copied a word at a time with a look at the sequence word
/// after each (the copy's chunk is one word under loom): a reader that the
/// writer laps between the two words gives up the copy, and whatever it
/// returns is one whole frame.
#[test]
fn a_copy_abandoned_between_chunks_is_never_returned() {
    model(|| {
        let heap = Arc::new(HeapRegion::new(Geometry::new(2, 16).unwrap()));
        let mut writer = RingWriter::init(&heap.region(), 1, 0);
        let meta = FrameMeta::packed(4, 1, PixelFormat::Rgba8);
        let publish_wide = |writer: &mut RingWriter, n: u64| {
            let got = writer.publish(&heap.region(), &meta, || n, &[n as u8; 16]);
            assert_eq!(got.unwrap(), n);
        };
        publish_wide(&mut writer, 1);
        let mut in_order = RingReader::new(&heap.region());
        let reader = {
            let heap = heap.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                // A read that finds frame 1 being overwritten skips it and may
                // not see frame 2 yet: that read returns nothing, the next one
                // frame 2.
                let info = loop {
                    match in_order.read_next(&heap.region(), &mut buf).unwrap() {
                        Some(info) => break info,
                        None => thread::yield_now(),
                    }
                };
                assert_eq!(info.len, 16);
                assert!(
                    buf.iter().all(|&b| u64::from(b) == info.number),
                    "torn frame {info:?}: {buf:?}"
                );
                // Frame 1, or (if frame 3 overwrote it) frame 2 with 1 missed.
                assert_eq!(info.number, 1 + info.missed);
            })
        };
        publish_wide(&mut writer, 2);
        publish_wide(&mut writer, 3);
        reader.join().unwrap();
    });
}

/// An in-order reader that the writer laps is told exactly how many frames it
/// missed: every frame number is either returned or counted, never both.
#[test]
fn in_order_reader_counts_missed_frames_exactly() {
    model(|| {
        let (heap, mut writer) = setup(2);
        let reader = {
            let heap = heap.clone();
            // Joined before the first publish: its first frame is frame 1.
            let mut reader = RingReader::new(&heap.region());
            thread::spawn(move || {
                let mut buf = Vec::new();
                let mut accounted = 0;
                while accounted < 3 {
                    match reader.read_next(&heap.region(), &mut buf).unwrap() {
                        Some(info) => {
                            check_whole(&info, &buf);
                            assert_eq!(info.number, accounted + info.missed + 1);
                            accounted = info.number;
                        }
                        None => thread::yield_now(),
                    }
                }
            })
        };
        for n in 1..=3 {
            publish(&mut writer, &heap, n);
        }
        reader.join().unwrap();
    });
}

/// A reader that goes to sleep on the futex is always woken by a publish that
/// it did not see before sleeping (a lost wake-up deadlocks the model).
#[test]
fn waiting_reader_is_never_left_asleep() {
    model(|| {
        let (heap, mut writer) = setup(2);
        let reader = {
            let heap = heap.clone();
            thread::spawn(move || {
                let region = heap.region();
                while !region.wait_for_frame_after(0, Duration::from_secs(1)) {}
                let mut buf = Vec::new();
                let info = RingReader::new(&region)
                    .read_latest(&region, &mut buf)
                    .unwrap();
                check_whole(&info.expect("a frame after the wake"), &buf);
            })
        };
        publish(&mut writer, &heap, 1);
        reader.join().unwrap();
    });
}

/// A sleeper that died registered after frame 0 (it saw no frame) hides no
/// live sleeper after frame 1 from the publish of frame 2: the live one is
/// woken, whichever registration comes last. A lost wake-up deadlocks the model.
#[test]
fn a_sleeper_that_died_registered_hides_no_live_sleeper() {
    model(|| {
        let (heap, mut writer) = setup(2);
        publish(&mut writer, &heap, 1);
        let dead = {
            let heap = heap.clone();
            thread::spawn(move || heap.region().register_sleeper(0))
        };
        let live = {
            let heap = heap.clone();
            thread::spawn(move || {
                let region = heap.region();
                while !region.wait_for_frame_after(1, Duration::from_secs(1)) {}
                assert_eq!(region.latest(), 2);
            })
        };
        publish(&mut writer, &heap, 2);
        dead.join().unwrap();
        live.join().unwrap();
    });
}

/// A sleeper that registers while the writer publishes twice, with nobody
/// registered before it, either is woken or sees the frame before it sleeps.
#[test]
fn a_sleeper_racing_two_publishes_is_never_left_asleep() {
    model(|| {
        let (heap, mut writer) = setup(2);
        let sleeper = {
            let heap = heap.clone();
            thread::spawn(move || {
                let region = heap.region();
                while !region.wait_for_frame_after(1, Duration::from_secs(1)) {}
            })
        };
        publish(&mut writer, &heap, 1);
        publish(&mut writer, &heap, 2);
        sleeper.join().unwrap();
    });
}

/// A fill that panics (and whose panic the caller catches) leaves its slot
/// empty and consistent: a concurrent reader never sees a torn frame, and the
/// frame published next into that slot reads back.
#[test]
fn a_panicking_fill_leaves_its_slot_consistent() {
    const DELIBERATE: &str = "a fill that panics";
    // The deliberate panic would print once per explored interleaving; other
    // panics (failures of this or another model) still print.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&DELIBERATE) {
            report(info);
        }
    }));
    model(|| {
        let (heap, mut writer) = setup(2);
        publish(&mut writer, &heap, 1);
        let reader = {
            let heap = heap.clone();
            let mut reader = RingReader::new(&heap.region());
            thread::spawn(move || {
                let mut buf = Vec::new();
                let info = reader.read_latest(&heap.region(), &mut buf).unwrap();
                check_whole(&info.expect("frame 1 or 2"), &buf);
            })
        };
        let meta = FrameMeta::packed(2, 1, PixelFormat::Rgba8);
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            writer.publish_with::<shmframe::Error>(
                &heap.region(),
                &meta,
                || 2,
                |fill| {
                    fill.write(0, &[0xEE; 8])?;
                    std::panic::panic_any(DELIBERATE);
                },
            )
        }));
        assert!(unwound.is_err());
        // Frame 2 again (the panicking one published nothing), into the same slot.
        publish(&mut writer, &heap, 2);
        reader.join().unwrap();
        let mut buf = Vec::new();
        let info = RingReader::new(&heap.region())
            .read_latest(&heap.region(), &mut buf)
            .unwrap()
            .expect("frame 2");
        check_whole(&info, &buf);
        assert_eq!(info.number, 2);
    });
}

/// Frames published with their own number and timestamp (an importer's): a
/// reader, in order and then latest, only ever returns a frame whose index,
/// number, both timestamps and pixels belong together, while the writer
/// overwrites the slot of frame 1 with frame 3.
#[test]
fn frames_with_an_origin_are_never_mixed() {
    fn publish_from(writer: &mut RingWriter, heap: &HeapRegion, index: u64) {
        let meta = FrameMeta::packed(2, 1, PixelFormat::Rgba8);
        let origin = FrameOrigin {
            number: 100 + index,
            timestamp_ns: 200 + index,
        };
        let got = writer.publish_from(&heap.region(), &meta, origin, || index, &[index as u8; 8]);
        assert_eq!(got.unwrap(), index);
    }
    fn check(info: &FrameInfo, buf: &[u8]) {
        let i = info.index;
        assert_eq!(
            (info.number, info.timestamp_ns, info.published_ns),
            (100 + i, 200 + i, i),
            "metadata of two frames mixed"
        );
        assert!(
            buf.iter().all(|&b| u64::from(b) == i),
            "torn frame {info:?}: {buf:?}"
        );
    }
    model(|| {
        let (heap, mut writer) = setup(2);
        publish_from(&mut writer, &heap, 1);
        let mut reader = RingReader::new(&heap.region());
        publish_from(&mut writer, &heap, 2);
        let reader = {
            let heap = heap.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let region = heap.region();
                let info = reader.read_next(&region, &mut buf).unwrap().unwrap();
                check(&info, &buf);
                // Frame 1, or (if frame 3 was overwriting it) frame 2 with 1 missed.
                assert_eq!(info.index, 1 + info.missed);
                let info = reader.read_latest(&region, &mut buf).unwrap().unwrap();
                check(&info, &buf);
            })
        };
        publish_from(&mut writer, &heap, 3);
        reader.join().unwrap();
    });
}

// ---- Holds: a reader uses a frame in place; the writer never writes it ----

/// A region of `slots` one-word slots honouring the `K` entries of `entries`.
fn hold_setup<const K: usize>(slots: usize) -> (Arc<HeapRegion>, Arc<[AtomicU64; K]>, RingWriter) {
    let heap = Arc::new(HeapRegion::new(Geometry::with_holds(slots, 8, K).unwrap()));
    let entries = Arc::new(std::array::from_fn(|_| AtomicU64::new(0)));
    let writer = RingWriter::init(&heap.region(), 1, 0);
    (heap, entries, writer)
}

/// Publishes frame `number` (every byte equal to it) honouring `entries`.
fn publish_held<const K: usize>(
    writer: &mut RingWriter,
    heap: &HeapRegion,
    entries: &[AtomicU64; K],
    number: u64,
) {
    let meta = FrameMeta::packed(2, 1, PixelFormat::Rgba8);
    let region = heap.region().with_holds(entries);
    let got = writer.publish(&region, &meta, || number, &[number as u8; 8]);
    assert_eq!(
        got.unwrap(),
        number,
        "the writer never fails with holds taken"
    );
}

/// Holds the latest frame through `entry`, with nothing racing: its slot.
fn hold_latest_now(heap: &HeapRegion, entry: &AtomicU64) -> usize {
    let region = heap.region();
    let mut info = FrameInfo::NONE;
    let held = RingReader::new(&region).hold_latest(&region, entry, &mut info);
    held.unwrap().expect("a frame to hold").slot
}

/// Whether slot `at` still holds frame `number` whole.
fn still_holds(heap: &HeapRegion, at: usize, number: u64) -> bool {
    let mut bytes = [0u8; 8];
    heap.region().copy_pixels(at, &mut bytes);
    bytes.iter().all(|&b| u64::from(b) == number)
}

/// A hold claimed while the writer picks its slot: either the writer sees the
/// entry and leaves the slot alone, or the reader sees the slot taken and is
/// not granted. A granted frame's bytes are the same after every publish.
#[test]
fn a_hold_claimed_while_the_writer_picks_its_slot_is_never_written() {
    model(|| {
        // Three slots, one hold: frames 1 and 2 in slots 1 and 2; frame 3
        // goes to slot 0, frame 4 to slot 1 unless frame 1 is held there.
        // The holder wants frame 1 first: its claim races the writer's pick.
        let (heap, entries, mut writer) = hold_setup::<1>(3);
        publish_held(&mut writer, &heap, &entries, 1);
        let mut ring = RingReader::new(&heap.region());
        publish_held(&mut writer, &heap, &entries, 2);
        let holder = {
            let (heap, entries) = (heap.clone(), entries.clone());
            thread::spawn(move || {
                let mut info = FrameInfo::NONE;
                let granted = ring
                    .hold_next(&heap.region(), &entries[0], &mut info)
                    .unwrap();
                granted.map(|g| {
                    // In order: frame 1, or a later one with the rest counted.
                    assert_eq!(info.index, 1 + info.missed, "granted another frame");
                    assert!(
                        still_holds(&heap, g.slot, info.index),
                        "granted a torn frame"
                    );
                    (g.slot, info.index)
                })
            })
        };
        publish_held(&mut writer, &heap, &entries, 3);
        publish_held(&mut writer, &heap, &entries, 4);
        if let Some((at, index)) = holder.join().unwrap() {
            assert!(
                still_holds(&heap, at, index),
                "the writer wrote a held slot"
            );
        }
    });
}

/// A reader that dies holding never clears its entry: the writer keeps
/// publishing into the other slots, and a copying reader still gets whole frames.
#[test]
fn a_reader_dying_while_holding_stalls_nothing() {
    model(|| {
        let (heap, entries, mut writer) = hold_setup::<1>(3);
        publish_held(&mut writer, &heap, &entries, 1);
        let held = hold_latest_now(&heap, &entries[0]);
        // The holder is gone; its entry stays.
        let mut copier = RingReader::new(&heap.region());
        let reader = {
            let heap = heap.clone();
            thread::spawn(move || {
                let mut buf = Vec::new();
                let info = copier
                    .read_latest(&heap.region(), &mut buf)
                    .unwrap()
                    .unwrap();
                check_whole(&info, &buf);
            })
        };
        for n in 2..=4 {
            publish_held(&mut writer, &heap, &entries, n);
        }
        reader.join().unwrap();
        assert!(still_holds(&heap, held, 1), "the writer wrote a held slot");
    });
}

/// A forged entry (another reader's garbage, naming frames and slots it never
/// claimed) racing an honest hold: the writer neither fails nor writes the
/// honestly held slot.
#[test]
fn a_forged_hold_entry_never_breaks_an_honest_hold() {
    model(|| {
        let (heap, entries, mut writer) = hold_setup::<2>(4);
        publish_held(&mut writer, &heap, &entries, 1);
        publish_held(&mut writer, &heap, &entries, 2);
        let held = hold_latest_now(&heap, &entries[0]);
        let forger = {
            let entries = entries.clone();
            thread::spawn(move || {
                // Frame 1 in its slot, then frame 3 where it will likely go.
                entries[1].store(1 << 16 | 1, Relaxed);
                entries[1].store(3 << 16 | 3, Relaxed);
            })
        };
        publish_held(&mut writer, &heap, &entries, 3);
        publish_held(&mut writer, &heap, &entries, 4);
        forger.join().unwrap();
        assert!(still_holds(&heap, held, 2), "the writer wrote a held slot");
    });
}
