//! Bad input to `shmframe publish`: a clear message naming the file, a
//! non-zero exit, and no stream left behind.

mod cli_support;

use cli_support::{run, stream_exists, text, unique_name};
use std::path::Path;

/// Runs `publish --name NAME ARGS`, expecting failure with `code` and a message containing every one of `needles`.
fn expect_failure(tag: &str, args: &[&str], stdin: &[u8], code: i32, needles: &[&str]) {
    let name = unique_name(tag);
    let mut full = vec!["publish", "--name", &name];
    full.extend_from_slice(args);
    let output = run(&full, stdin);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{tag}: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{tag}: `{needle}` missing from: {stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{tag}: {stderr}");
    assert!(!stream_exists(&name), "{tag}: a stream was left behind");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn files_that_are_not_images_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("text.png"), "this is plain text, not a PNG\n").unwrap();
    std::fs::write(d.join("empty.png"), b"").unwrap();
    let mut png = Vec::new();
    image::RgbaImage::from_pixel(64, 64, image::Rgba([1, 2, 3, 4]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(d.join("truncated.png"), &png[..png.len() / 2]).unwrap();
    std::fs::write(
        d.join("huge.png"),
        cli_support::png_header_claiming(100_000, 100_000),
    )
    .unwrap();
    std::fs::create_dir(d.join("no-images")).unwrap();
    std::fs::write(d.join("no-images").join("readme.txt"), "nothing to see").unwrap();
    std::fs::write(d.join("good.png"), &png).unwrap();

    let text_png = d.join("text.png");
    expect_failure(
        "text",
        &[path(&text_png)],
        b"",
        1,
        &[path(&text_png), "not an image"],
    );
    let empty = d.join("empty.png");
    expect_failure("empty", &[path(&empty)], b"", 1, &[path(&empty), "empty"]);
    let truncated = d.join("truncated.png");
    expect_failure(
        "truncated",
        &[path(&truncated)],
        b"",
        1,
        &[path(&truncated), "not a valid Png image"],
    );
    let missing = d.join("missing.png");
    expect_failure(
        "missing",
        &[path(&missing)],
        b"",
        1,
        &[path(&missing), "No such file"],
    );
    let no_images = d.join("no-images");
    expect_failure(
        "no-images",
        &[path(&no_images)],
        b"",
        1,
        &[path(&no_images), "no images"],
    );
    let huge = d.join("huge.png");
    expect_failure("huge", &[path(&huge)], b"", 1, &[path(&huge), "limit"]);
    // One bad file among good ones: nothing is published at all.
    let good = d.join("good.png");
    expect_failure(
        "mixed",
        &[path(&good), path(&text_png), "--loop"],
        b"",
        1,
        &[path(&text_png)],
    );
}

#[test]
fn bad_raw_sizes_and_short_input_are_refused() {
    for (tag, size) in [("zero", "0x10"), ("word", "big"), ("huge", "100000x2")] {
        expect_failure(tag, &["--raw", size, "--format", "rgb24"], b"", 2, &[size]);
    }
    expect_failure("no-format", &["--raw", "4x4"], b"", 2, &["--format"]);
    // Less than one whole frame: the size does not match the producer.
    let short = vec![0u8; 4 * 4 * 3 - 1];
    expect_failure(
        "short",
        &["--raw", "4x4", "--format", "rgb24"],
        &short,
        1,
        &["47 bytes into a frame of 48"],
    );
    expect_failure(
        "no-input",
        &["--raw", "4x4", "--format", "gray"],
        b"",
        1,
        &["stdin ended before the first frame"],
    );
}

#[test]
fn usage_errors_exit_2() {
    let output = run(&["publish"], b"");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let output = run(
        &["publish", "--pattern", "--raw", "2x2", "--format", "gray"],
        b"",
    );
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let output = run(&["publish", "--name", "no/slash", "--pattern"], b"");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("invalid stream name"),
        "{}",
        text(&output.stderr)
    );
}
