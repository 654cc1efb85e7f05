//! The examples, built by capi/build-examples.sh against a fresh installation
//! in a temporary prefix (as a user would), then run: the C writer and reader
//! pair, the OpenCV edges filter against a reference, and the Qt example
//! under Xvfb, two instances, with screenshots compared with the images.
//!
//! One test, run in order: the programs share one build, one segment
//! directory (SHMFRAME_DIR, set for this process) and the machine's cores.

mod support;

use engine::{
    ColorMatrix, ColorRange, Colorimetry, FrameInfo, FrameMeta, PixelFormat, Reader, Writer,
    WriterOptions,
};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use support::{capi_dir, profile_dir, run_succeeding};

#[test]
fn examples_build_install_and_run() {
    let (prefix, built) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let examples = build_examples(prefix.path(), built.path());
    let segments = tempfile::tempdir().unwrap();
    std::env::set_var("SHMFRAME_DIR", segments.path());
    pkg_config_shared_and_static(prefix.path(), segments.path());
    cmake_static_target(prefix.path(), built.path(), segments.path());
    c_writer_and_reader(&examples, false);
    c_writer_and_reader(&examples, true);
    opencv_edges(&examples, segments.path());
    qt_example(&examples);
}

/// Installs into `prefix` and builds the examples into `out`; returns `out`.
fn build_examples(prefix: &Path, out: &Path) -> PathBuf {
    let target = profile_dir().parent().unwrap().to_path_buf();
    let mut build = Command::new("bash");
    build
        .arg(capi_dir().join("build-examples.sh"))
        .args([prefix, out])
        .env("CARGO_TARGET_DIR", &target);
    run_succeeding(build);
    for file in [
        "lib/libshmframe.so.0",
        "lib/libshmframe.a",
        "include/shmframe.h",
        "include/shmframe.hpp",
        "lib/pkgconfig/shmframe.pc",
        "lib/cmake/shmframe/shmframeConfig.cmake",
    ] {
        assert!(prefix.join(file).exists(), "{file} not installed");
    }
    let examples = out.to_path_buf();
    for program in [
        "shmframe-c-writer",
        "shmframe-c-reader",
        "shmframe-opencv-edges",
        "shmframe-qt-example",
    ] {
        assert!(examples.join(program).is_file(), "{program} not built");
    }
    examples
}

/// A C test program built with the installed shmframe.pc, against the shared
/// library and against the static one (with the libraries .pc lists for it), runs.
fn pkg_config_shared_and_static(prefix: &Path, segments: &Path) {
    let pkg_config = |args: &[&str]| -> Vec<String> {
        let mut query = Command::new("pkg-config");
        query
            .args(args)
            .arg("shmframe")
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"));
        String::from_utf8(run_succeeding(query).stdout)
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let lib = prefix.join("lib");
    let source = capi_dir().join("tests/c/status_and_helpers.c");
    let shared = segments.join("pc-shared");
    let statically = segments.join("pc-static");
    let mut static_libs = pkg_config(&["--static", "--libs"]);
    // `-lshmframe` would pick the shared library: name the archive instead.
    static_libs.retain(|flag| flag != "-lshmframe");
    static_libs.insert(0, lib.join("libshmframe.a").display().to_string());
    for (exe, libs, rpath) in [
        (
            &shared,
            pkg_config(&["--libs"]),
            Some(format!("-Wl,-rpath,{}", lib.display())),
        ),
        (&statically, static_libs, None),
    ] {
        let mut compile = Command::new("gcc");
        compile
            .args(pkg_config(&["--cflags"]))
            .arg(&source)
            .arg("-o")
            .arg(exe)
            .args(libs)
            .args(rpath);
        run_succeeding(compile);
        support::run_ok(exe, &[], segments);
        std::fs::remove_file(exe).unwrap();
    }
}

/// A program linked against the installed `shmframe::shmframe_static` runs,
/// without the shared library.
fn cmake_static_target(prefix: &Path, scratch: &Path, segments: &Path) {
    let build = scratch.join("cmake-static");
    let mut configure = Command::new("cmake");
    configure
        .arg("-S")
        .arg(capi_dir().join("tests/cmake_static"))
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()));
    let mut compile = Command::new("cmake");
    compile.arg("--build").arg(&build);
    for step in [configure, compile] {
        run_succeeding(step);
    }
    let program = build.join("status_static");
    let ldd = Command::new("ldd").arg(&program).output().unwrap();
    assert!(!String::from_utf8_lossy(&ldd.stdout).contains("libshmframe"));
    support::run_ok(&program, &[], segments);
}

/// A child whose stdout lines are read one by one, each within a time limit.
/// It runs in a process group of its own, so that what it started (Xvfb, the
/// Qt example under xvfb-run) can be ended with it.
struct Running {
    child: Child,
    lines: Receiver<String>,
}

/// How long a test waits for a program's next line or its end.
const LIMIT: Duration = Duration::from_secs(60);

impl Running {
    fn start(command: &mut Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    fn line(&mut self) -> String {
        self.lines
            .recv_timeout(LIMIT)
            .unwrap_or_else(|e| panic!("no line from {:?}: {e}", self.child))
    }

    /// The rest of its output, after it exits successfully within `LIMIT`.
    fn finish(mut self) -> Vec<String> {
        let deadline = Instant::now() + LIMIT;
        let mut rest = Vec::new();
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => rest.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no end within {LIMIT:?}; output: {rest:?}")
                }
            }
        }
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exited with {status}; output: {rest:?}");
        rest
    }
}

/// A test that fails mid-way leaves no program running: the group of one
/// that has not finished is killed.
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let group = format!("-{}", self.child.id());
            Command::new("kill")
                .args(["-KILL", "--", &group])
                .status()
                .ok();
            self.child.wait().ok();
        }
    }
}

/// The C pair: every frame read exactly, by copy or (`--hold`) in place.
fn c_writer_and_reader(examples: &Path, hold: bool) {
    let mut writer =
        Running::start(Command::new(examples.join("shmframe-c-writer")).args(["c-pair", "60"]));
    assert!(writer.line().starts_with("publishing to stream \"c-pair\""));
    let mut reader_command = Command::new(examples.join("shmframe-c-reader"));
    if hold {
        reader_command.arg("--hold");
    }
    let reader = Running::start(reader_command.arg("c-pair"));
    let read = reader.finish();
    assert_eq!(writer.finish(), ["published 60 frames"]);
    let (last, frames) = read.split_last().unwrap();
    // "frame N  320x240 rgb8  missed M  first byte B  ..."
    let parsed: Vec<(u64, u64, u64)> = frames
        .iter()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(&words[..3], ["frame", words[1], "320x240"], "{line}");
            assert_eq!((words[3], words[4], words[6]), ("rgb8", "missed", "first"));
            let n: u64 = words[1].parse().unwrap();
            // The writer's first byte of frame N (counted from 1) is N - 1.
            assert_eq!(words[8].parse::<u64>().unwrap(), (n - 1) % 256, "{line}");
            (n, words[5].parse().unwrap(), 0)
        })
        .collect();
    assert!(!parsed.is_empty(), "the reader read no frame: {read:?}");
    assert_eq!(
        parsed.last().unwrap().0,
        60,
        "the reader ends at the last frame"
    );
    let missed: u64 = parsed.iter().map(|f| f.1).sum();
    assert_eq!(
        60 - parsed[0].0 + 1,
        parsed.len() as u64 + missed,
        "{read:?}"
    );
    assert_eq!(
        last,
        &format!("the writer closed the stream after {} frames", parsed.len())
    );
    // With --hold each line ends in how it was read; holds are granted at
    // the writer's next publish after the first try, so most are held.
    let held = frames.iter().filter(|l| l.ends_with("  held")).count();
    let copied = frames.iter().filter(|l| l.ends_with("  copied")).count();
    if hold {
        assert_eq!(held + copied, frames.len(), "{read:?}");
        assert!(held > 0, "no frame was held: {read:?}");
    } else {
        assert_eq!(held + copied, 0, "{read:?}");
    }
}

/// A BGR test image: a vertical gradient with a bright rectangle and a dark disc.
fn edges_input(width: usize, height: usize) -> Vec<u8> {
    let mut bgr = vec![0u8; width * height * 3];
    for y in 0..height {
        for x in 0..width {
            let inside_rect = (30..90).contains(&x) && (20..70).contains(&y);
            let (dx, dy) = (x as i64 - 120, y as i64 - 80);
            let inside_disc = dx * dx + dy * dy < 400;
            let value = if inside_disc {
                10
            } else if inside_rect {
                240
            } else {
                (y * 100 / height) as u8
            };
            bgr[(y * width + x) * 3..][..3].copy_from_slice(&[value, value / 2 + 60, value]);
        }
    }
    bgr
}

fn opencv_edges(examples: &Path, segments: &Path) {
    let (width, height) = (160usize, 120usize);
    let edges = Running::start(
        Command::new(examples.join("shmframe-opencv-edges")).args(["edges-in", "edges-out"]),
    );
    let mut input = Writer::create("edges-in", &WriterOptions::default()).unwrap();
    let bgr = edges_input(width, height);
    input
        .publish(
            &FrameMeta::packed(width as u32, height as u32, PixelFormat::Bgr8),
            &bgr,
        )
        .unwrap();
    let (mut output, _, _) = first_frame("edges-out");
    // More of the same frame: the example's first try asked for holds, which
    // the writer grants at a publish, so the later frames are read in place.
    const FRAMES: u64 = 5;
    for _ in 1..FRAMES {
        std::thread::sleep(Duration::from_millis(10));
        input
            .publish(
                &FrameMeta::packed(width as u32, height as u32, PixelFormat::Bgr8),
                &bgr,
            )
            .unwrap();
    }
    let mut got = Vec::new();
    let mut info = output.latest_info().unwrap().unwrap();
    while info.number < FRAMES {
        info = output
            .wait_latest(&mut got, Duration::from_secs(30))
            .unwrap()
            .expect("the example processes every frame");
    }
    output.latest(&mut got).unwrap();
    assert_eq!(
        info.meta,
        FrameMeta::packed(width as u32, height as u32, PixelFormat::Gray8)
    );
    drop(input);
    let rest = edges.finish();
    // "\"edges-in\" closed after 5 frames (H held in place, C copied)"
    let last = rest.last().unwrap();
    let numbers: Vec<u64> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let [frames, held, copied] = numbers[..] else {
        panic!("{last}");
    };
    assert_eq!(
        last,
        &format!(
            "\"edges-in\" closed after {frames} frames ({held} held in place, {copied} copied)"
        )
    );
    assert_eq!((frames, held + copied), (FRAMES, FRAMES), "{last}");
    assert!(held > 0, "no frame was held: {last}");

    // Plausible: only 0 and 255, and edge pixels along the rectangle's sides.
    assert!(got.iter().all(|&v| v == 0 || v == 255));
    let edge = |x: usize, y: usize| got[y * width + x] == 255;
    for y in 25..65 {
        assert!(
            (28..=31).any(|x| edge(x, y)),
            "no edge at the rectangle's left side, row {y}"
        );
        assert!(
            (88..=91).any(|x| edge(x, y)),
            "no edge at the rectangle's right side, row {y}"
        );
        assert!(
            !(40..80).any(|x| edge(x, y)),
            "an edge inside the flat rectangle, row {y}"
        );
    }
    // Exact: the same OpenCV calls on the same image, run here.
    let reference = compile_canny_reference();
    let (raw_in, raw_out) = (segments.join("edges.bgr"), segments.join("edges.gray"));
    std::fs::write(&raw_in, &bgr).unwrap();
    let mut run = Command::new(reference);
    run.args([&width.to_string(), &height.to_string()])
        .args([&raw_in, &raw_out]);
    run_succeeding(run);
    assert!(
        std::fs::read(&raw_out).unwrap() == got,
        "the edges differ from OpenCV's own"
    );
    std::fs::remove_file(raw_in).unwrap();
    std::fs::remove_file(raw_out).unwrap();
}

fn compile_canny_reference() -> PathBuf {
    let exe = profile_dir().join("capi-c-tests/canny_reference");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    let mut compile = Command::new("g++");
    compile
        .args(["-std=c++17", "-O1", "-I/usr/include/opencv4"])
        .arg(capi_dir().join("tests/cxx/canny_reference.cpp"))
        .arg("-o")
        .arg(&exe)
        .args(["-lopencv_imgproc", "-lopencv_core"]);
    run_succeeding(compile);
    exe
}

/// Opens stream `name` once its writer has created it (within 30 s).
fn open_when_there(name: &str) -> Reader {
    let started = Instant::now();
    loop {
        match Reader::open(name) {
            Ok(reader) => return reader,
            Err(engine::Error::NoStream { .. }) if started.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("open {name}: {e}"),
        }
    }
}

/// Opens stream `name` once it is there and waits (up to 30 s) for its
/// first frame; the reader stays open for the caller.
fn first_frame(name: &str) -> (Reader, Vec<u8>, FrameInfo) {
    let mut reader = open_when_there(name);
    let mut frame = Vec::new();
    let info = reader
        .wait_latest(&mut frame, Duration::from_secs(30))
        .unwrap()
        .unwrap_or_else(|| panic!("no frame on {name} within 30 s"));
    (reader, frame, info)
}

/// Checks that the Qt example's last line says it saved `shot`.
fn assert_screenshot_saved(out: &[String], shot: &Path) {
    assert_eq!(
        out.last().unwrap(),
        &format!("screenshot saved: {}", shot.display())
    );
}

/// A command running the Qt example under its own Xvfb; `exec` keeps the
/// example's pid that of the shell, which it prints first.
fn qt(examples: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("xvfb-run");
    command
        .args(["-a", "sh", "-c", "echo $$; exec \"$0\" \"$@\""])
        .arg(examples.join("shmframe-qt-example"))
        .args(args);
    command
}

/// Runs the Qt example to its end; its output lines without the pid.
fn qt_run(examples: &Path, args: &[&str]) -> Vec<String> {
    let mut run = Running::start(&mut qt(examples, args));
    run.line();
    run.finish()
}

/// RGB pixels of a PNG file, with its size.
fn read_rgb(path: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let mut decoder = png::Decoder::new(BufReader::new(std::fs::File::open(path).unwrap()));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut png = decoder.read_info().unwrap();
    let mut samples = vec![0; png.output_buffer_size().unwrap()];
    let frame = png.next_frame(&mut samples).unwrap();
    let channels = frame.color_type.samples();
    let pixels = samples[..frame.buffer_size()]
        .chunks(channels)
        .map(|p| {
            if channels >= 3 {
                [p[0], p[1], p[2]]
            } else {
                [p[0]; 3]
            }
        })
        .collect();
    (frame.width as usize, frame.height as usize, pixels)
}

/// Whether `image` (w x h RGB) appears in `shot` somewhere, each sample within `tolerance`.
fn contains(
    shot: &(usize, usize, Vec<[u8; 3]>),
    image: &(usize, usize, Vec<[u8; 3]>),
    tolerance: u8,
) -> bool {
    let (sw, sh, s) = shot;
    let (w, h, p) = image;
    let close = |a: [u8; 3], b: [u8; 3]| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tolerance);
    (0..=sh.saturating_sub(*h)).any(|oy| {
        (0..=sw.saturating_sub(*w)).any(|ox| {
            (0..*h).all(|y| (0..*w).all(|x| close(s[(oy + y) * sw + ox + x], p[y * w + x])))
        })
    })
}

fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(rgb)
        .unwrap();
}

fn qt_example(examples: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let (width, height) = (48u32, 36u32);
    let rgb: Vec<u8> = (0..width * height * 3)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let image_path = dir.path().join("image.png");
    write_png(&image_path, width, height, &rgb);
    let display = |shot: &Path| {
        qt_run(
            examples,
            &[
                "--stream",
                "qt-test",
                "--display",
                "--screenshot",
                shot.to_str().unwrap(),
            ],
        )
    };

    // Nothing loaded yet: the original's message.
    let shot = dir.path().join("none.png");
    let out = display(&shot);
    assert_eq!(
        out[0],
        "message: Unable to attach to shared memory segment."
    );
    assert_eq!(out[1], "Load an image first.");

    // Not an image: the original's message, and nothing published.
    let not_image = dir.path().join("notes.txt");
    std::fs::write(&not_image, "not an image").unwrap();
    let out = qt_run(
        examples,
        &[
            "--stream",
            "qt-test",
            "--load",
            not_image.to_str().unwrap(),
            "--screenshot",
            shot.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out[0],
        "message: Selected file is not an image, please select another."
    );
    assert!(Reader::open("qt-test").is_err());

    // One instance loads the image, a second displays it.
    let mut loader = Running::start(&mut qt(
        examples,
        &[
            "--stream",
            "qt-test",
            "--load",
            image_path.to_str().unwrap(),
        ],
    ));
    let loader_pid = loader.line();
    let (reader, _image, info) = first_frame("qt-test");
    assert_eq!(
        (info.meta.width, info.meta.height, info.meta.format),
        (width, height, PixelFormat::Rgba8)
    );
    let shot = dir.path().join("display.png");
    let out = display(&shot);
    assert_screenshot_saved(&out, &shot);
    let expected = (
        width as usize,
        height as usize,
        rgb.chunks(3).map(|p| [p[0], p[1], p[2]]).collect(),
    );
    assert!(
        contains(&read_rgb(&shot), &expected, 0),
        "the displayed image differs from the loaded one"
    );
    // SIGTERM closes the loader cleanly: its stream goes away.
    assert!(Command::new("kill")
        .args(["-TERM", &loader_pid])
        .status()
        .unwrap()
        .success());
    loader.finish();
    assert!(matches!(
        Reader::open("qt-test"),
        Err(engine::Error::NoStream { .. })
    ));
    drop(reader);

    qt_live(examples, dir.path());
}

/// "Live", in every format: a frame published after the example started
/// arrives through the reader's fd and is shown as the frame's bytes mean
/// (YUV converted with its matrix and range, 16-bit gray and float scaled).
fn qt_live(examples: &Path, dir: &Path) {
    for format in PixelFormat::ALL {
        let (width, height) = (32u32, 24u32);
        let name = format!("qt-live-{}", format.name());
        let mut writer = Writer::create(&name, &WriterOptions::default()).unwrap();
        let shot = dir.join(format!("live-{}.png", format.name()));
        let mut live = Running::start(&mut qt(
            examples,
            &[
                "--stream",
                &name,
                "--live",
                "--screenshot",
                shot.to_str().unwrap(),
            ],
        ));
        live.line();
        assert_eq!(live.line(), "live");
        let meta = FrameMeta::packed(width, height, format).with_color(Colorimetry {
            matrix: ColorMatrix::Bt709,
            range: ColorRange::Full,
        });
        let bytes = live_frame(&meta);
        writer.publish(&meta, &bytes).unwrap();
        let out = live.finish();
        assert_screenshot_saved(&out, &shot);
        let expected = (width as usize, height as usize, expected_rgb(&meta, &bytes));
        assert!(
            contains(&read_rgb(&shot), &expected, 1),
            "the live {format} frame shown differs from the one published"
        );
    }
}

/// A frame of `meta` whose bytes vary along both axes; float samples in
/// 0..1, alpha opaque.
fn live_frame(meta: &FrameMeta) -> Vec<u8> {
    let len = meta.checked_len().unwrap();
    if meta.format == PixelFormat::GrayF32 {
        return (0..len / 4)
            .flat_map(|i| ((i % 97) as f32 / 96.0).to_le_bytes())
            .collect();
    }
    let mut bytes: Vec<u8> = (0..len).map(|i| (40 + (i * 7) % 180) as u8).collect();
    if matches!(meta.format, PixelFormat::Rgba8 | PixelFormat::Bgra8) {
        // Opaque, so that what is shown is the colour itself, not a blend.
        bytes
            .iter_mut()
            .skip(3)
            .step_by(4)
            .for_each(|alpha| *alpha = 255);
    }
    bytes
}

/// What the example should show for `bytes`: the RGB of each pixel.
fn expected_rgb(meta: &FrameMeta, bytes: &[u8]) -> Vec<[u8; 3]> {
    let (w, h, stride) = (
        meta.width as usize,
        meta.height as usize,
        meta.stride as usize,
    );
    let clamp = |v: f64| (v + 0.5).clamp(0.0, 255.0) as u8;
    // BT.709, full range (the frames above), as the example converts.
    let yuv = |y: u8, u: u8, v: u8| {
        let (y, cb, cr) = (f64::from(y), f64::from(u) - 128.0, f64::from(v) - 128.0);
        [
            clamp(y + 1.5748 * cr),
            clamp(y - 0.187324 * cb - 0.468124 * cr),
            clamp(y + 1.8556 * cb),
        ]
    };
    let pixel = |x: usize, y: usize| -> [u8; 3] {
        let p = &bytes[y * stride..];
        match meta.format {
            PixelFormat::Rgba8 | PixelFormat::Rgb8 => {
                let n = meta.format.bytes_per_pixel() as usize;
                [p[x * n], p[x * n + 1], p[x * n + 2]]
            }
            PixelFormat::Bgra8 | PixelFormat::Bgr8 => {
                let n = meta.format.bytes_per_pixel() as usize;
                [p[x * n + 2], p[x * n + 1], p[x * n]]
            }
            PixelFormat::Gray8 => [p[x]; 3],
            PixelFormat::Gray16 => {
                let v = u16::from_le_bytes([p[2 * x], p[2 * x + 1]]);
                [clamp(f64::from(v) / 257.0); 3]
            }
            PixelFormat::GrayF32 => {
                let v = f32::from_le_bytes(p[4 * x..4 * x + 4].try_into().unwrap());
                [clamp(f64::from(v) * 255.0); 3]
            }
            PixelFormat::Yuyv => {
                let pair = &p[(x / 2) * 4..];
                yuv(pair[(x % 2) * 2], pair[1], pair[3])
            }
            PixelFormat::Nv12 => {
                let uv = &bytes[stride * h + (y / 2) * stride..];
                yuv(p[x], uv[(x / 2) * 2], uv[(x / 2) * 2 + 1])
            }
            PixelFormat::I420 => {
                let chroma = stride.div_ceil(2);
                let u = &bytes[stride * h..];
                let v = &u[chroma * h.div_ceil(2)..];
                let at = (y / 2) * chroma + x / 2;
                yuv(p[x], u[at], v[at])
            }
        }
    };
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| pixel(x, y))
        .collect()
}
