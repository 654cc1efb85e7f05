//! Filling a frame in place across calls: Writer::begin, commit and abort.

use shmframe::{BegunFrame, Error, FrameMeta, PixelFormat, Reader, Writer, WriterOptions};

fn stream(tag: &str) -> (Writer, Reader) {
    let name = format!("begin-{tag}-{}", std::process::id());
    let options = WriterOptions {
        slot_capacity: 4096,
        ..Default::default()
    };
    let writer = Writer::create(&name, &options).unwrap();
    let reader = Reader::open(&name).unwrap();
    (writer, reader)
}

fn fill(frame: &BegunFrame, byte: u8) {
    // SAFETY: the pointer is valid for `len` bytes until the frame is
    // committed or aborted, and nothing else touches the writer meanwhile.
    unsafe { std::ptr::write_bytes(frame.as_mut_ptr(), byte, frame.len()) };
}

#[test]
fn a_committed_frame_is_read_with_its_bytes() {
    let (mut writer, mut reader) = stream("commit");
    let meta = FrameMeta::packed(4, 2, PixelFormat::Gray8);
    let frame = writer.begin(&meta).unwrap();
    assert_eq!(frame.len(), 8);
    fill(&frame, 7);
    let mut buf = Vec::new();
    assert_eq!(
        reader.latest(&mut buf).unwrap(),
        None,
        "readers skip a begun frame"
    );
    assert_eq!(writer.commit(frame).unwrap(), 1);
    let info = reader.latest(&mut buf).unwrap().unwrap();
    assert_eq!((info.number, info.meta, buf), (1, meta, vec![7; 8]));
}

#[test]
fn an_aborted_frame_publishes_nothing_and_the_next_takes_its_number() {
    let (mut writer, mut reader) = stream("abort");
    let meta = FrameMeta::packed(4, 2, PixelFormat::Gray8);
    let frame = writer.begin(&meta).unwrap();
    fill(&frame, 9);
    writer.abort(frame);
    let mut buf = Vec::new();
    assert_eq!(reader.next(&mut buf).unwrap(), None);
    assert_eq!(writer.publish(&meta, &[3; 8]).unwrap(), 1);
    let info = reader.next(&mut buf).unwrap().unwrap();
    assert_eq!((info.number, info.missed, buf), (1, 0, vec![3; 8]));
}

#[test]
fn a_frame_made_stale_by_a_publish_is_not_committed() {
    let (mut writer, mut reader) = stream("stale");
    let meta = FrameMeta::packed(4, 2, PixelFormat::Gray8);
    let stale = writer.begin(&meta).unwrap();
    writer.publish(&meta, &[5; 8]).unwrap();
    assert!(writer.commit(stale).is_err());
    let mut buf = Vec::new();
    let info = reader.latest(&mut buf).unwrap().unwrap();
    assert_eq!((info.number, buf), (1, vec![5; 8]));
}

#[test]
fn a_frame_too_large_for_the_slot_is_refused() {
    let (mut writer, _reader) = stream("large");
    let meta = FrameMeta::packed(64, 64, PixelFormat::Rgba8);
    assert!(matches!(
        writer.begin(&meta),
        Err(Error::FrameTooLarge { .. })
    ));
}
