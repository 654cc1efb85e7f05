//! Reading into a caller's slice through a real segment: the same frames as
//! the vector reads, waits included, and a slice too small is refused at once.

mod common;

use shmframe::{Error, FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use std::time::Duration;

/// Long enough that a wait that should return at once would show as a hang.
const LONG: Duration = Duration::from_secs(30);

/// The cases share one private segment directory, named by a process-wide
/// environment variable, so they run one after another in one test.
#[test]
fn read_into() {
    let _dir = common::use_private_dir("shmframe-read-into-test-");
    slice_reads_return_what_vector_reads_return();
    a_slice_too_small_fails_every_read_without_losing_the_frame();
}

fn frame(n: u8) -> (FrameMeta, Vec<u8>) {
    let meta = FrameMeta::packed(4, 3, PixelFormat::Rgb8);
    let pixels = (0..36).map(|i| i ^ n).collect();
    (meta, pixels)
}

fn writer(name: &str) -> Writer {
    let options = WriterOptions {
        slots: 4,
        slot_capacity: 64,
        ..Default::default()
    };
    Writer::create(name, &options).unwrap()
}

fn slice_reads_return_what_vector_reads_return() {
    let mut writer = writer("into-same");
    let mut by_vec = Reader::open("into-same").unwrap();
    let mut by_slice = Reader::open("into-same").unwrap();
    let (mut buf, mut out) = (Vec::new(), [0xEE; 40]);
    assert_eq!(by_slice.latest_into(&mut out).unwrap(), None);
    assert_eq!(by_slice.next_into(&mut out).unwrap(), None);
    for n in 1..=3 {
        let (meta, pixels) = frame(n);
        writer.publish(&meta, &pixels).unwrap();
        let want = by_vec.wait_next(&mut buf, LONG).unwrap().unwrap();
        let got = by_slice.wait_next_into(&mut out, LONG).unwrap().unwrap();
        assert_eq!((got, &out[..36]), (want, &buf[..]));
        assert_eq!(out[36..], [0xEE; 4], "bytes past the frame are left alone");
        let want = by_vec.latest(&mut buf).unwrap().unwrap();
        assert_eq!(by_slice.latest_into(&mut out).unwrap(), Some(want));
        assert_eq!(by_slice.next_into(&mut out).unwrap(), None);
    }
    let (meta, pixels) = frame(4);
    writer.publish(&meta, &pixels).unwrap();
    let got = by_slice.wait_latest_into(&mut out, LONG).unwrap().unwrap();
    assert_eq!((got.number, &out[..36]), (4, &pixels[..]));
    // Nothing newer than frame 4: the wait times out.
    let waited = by_slice.wait_latest_into(&mut out, Duration::from_millis(1));
    assert_eq!(waited.unwrap(), None);
}

fn a_slice_too_small_fails_every_read_without_losing_the_frame() {
    let mut writer = writer("into-small");
    let mut reader = Reader::open("into-small").unwrap();
    let (meta, pixels) = frame(9);
    writer.publish(&meta, &pixels).unwrap();
    let mut small = [0u8; 35];
    let results = [
        reader.latest_into(&mut small),
        reader.next_into(&mut small),
        reader.wait_latest_into(&mut small, LONG),
        reader.wait_next_into(&mut small, LONG),
    ];
    for got in results {
        match got {
            Err(e @ Error::BufferTooSmall { len: 36, got: 35 }) => {
                assert!(e.to_string().contains("36 bytes"), "{e}")
            }
            other => panic!("expected BufferTooSmall, got {other:?}"),
        }
    }
    let needed = reader.latest_info().unwrap().unwrap().len;
    let mut out = vec![0; needed];
    let info = reader.wait_next_into(&mut out, LONG).unwrap().unwrap();
    assert_eq!((info.number, info.missed, &out), (1, 0, &pixels));
    let info = reader.latest_into(&mut out).unwrap().unwrap();
    assert_eq!((info.number, &out), (1, &pixels));
}
