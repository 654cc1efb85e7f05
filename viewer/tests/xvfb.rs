//! End-to-end tests of the viewer binary on a virtual X display (Xvfb): frames
//! published with the library (RGB, NV12 and Gray16 among them) must appear
//! in the window with the expected colours, checked on a screenshot of the screen. Needs `Xvfb` and ImageMagick's `import` (or
//! `xwd` and `convert`); without them these tests say so and skip. The
//! no-display test needs neither.
//!
//! Every wait is bounded; Xvfb, the viewer and the stream are cleaned up by
//! guards on every path.

use image::RgbImage;
use shmframe::{FrameMeta, PixelFormat, Reader, Writer, WriterOptions};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const VIEWER: &str = env!("CARGO_BIN_EXE_shmframe-viewer");
/// Longest wait for anything to appear on screen.
const SHOW_TIMEOUT: Duration = Duration::from_secs(30);
/// The waiting screen's background (`waiting::BACKGROUND` in the viewer).
const WAITING_BACKGROUND: [u8; 3] = [0x20, 0x28, 0x38];
const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const GREEN: [u8; 3] = [0, 255, 0];
const YELLOW: [u8; 3] = [255, 255, 0];

/// Whether `program` is on the PATH.
fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// `None`, after saying why, when the tools these tests need are missing.
fn tools_or_skip(test: &str) -> Option<()> {
    let screenshot = installed("import") || (installed("xwd") && installed("convert"));
    if installed("Xvfb") && screenshot {
        return Some(());
    }
    println!(
        "SKIPPED {test}: needs Xvfb and ImageMagick's `import` (apt-get install xvfb imagemagick); \
         found Xvfb: {}, import: {}",
        installed("Xvfb"),
        installed("import")
    );
    None
}

/// A child process killed and reaped when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A virtual X server on a display number it chose itself (no clashes with
/// other tests or users), by default with a 800x600 screen of 24-bit colour.
struct Xvfb {
    display: String,
    _server: Killed,
}

impl Xvfb {
    fn start() -> Xvfb {
        Xvfb::with_screen("800x600x24")
    }

    /// A server whose screen is `geometry` (`WxHxDEPTH`).
    fn with_screen(geometry: &str) -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                geometry,
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb");
        let stdout = child.stdout.take().expect("Xvfb stdout");
        let server = Killed(child);
        // Xvfb writes its display number once it accepts connections.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("Xvfb reports its display within 20 s");
        let number: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb display number, got {line:?}"));
        Xvfb {
            display: format!(":{number}"),
            _server: server,
        }
    }

    /// Starts the viewer on this display, showing stream `name`.
    fn viewer(&self, name: &str, dir: &Path) -> Killed {
        Killed(
            Command::new(VIEWER)
                .args(["--name", name])
                .env("DISPLAY", &self.display)
                .env_remove("WAYLAND_DISPLAY")
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .expect("start the viewer"),
        )
    }

    /// The whole screen, as RGB.
    fn screenshot(&self) -> RgbImage {
        let png = if installed("import") {
            run_with_display(&self.display, "import", &["-window", "root", "png:-"])
        } else {
            run_with_display(
                &self.display,
                "sh",
                &["-c", "xwd -root -silent | convert xwd:- png:-"],
            )
        };
        image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .expect("the screenshot is a PNG")
            .to_rgb8()
    }

    /// Takes screenshots until `check` accepts one (returning `Ok`), or fails
    /// with the last reason after [`SHOW_TIMEOUT`], saving that screenshot.
    fn wait_for_screen(
        &self,
        what: &str,
        check: impl Fn(&RgbImage) -> Result<(), String>,
    ) -> RgbImage {
        let deadline = Instant::now() + SHOW_TIMEOUT;
        loop {
            let shot = self.screenshot();
            let verdict = check(&shot);
            match verdict {
                Ok(()) => return shot,
                Err(reason) if Instant::now() >= deadline => {
                    let path = std::env::temp_dir()
                        .join(format!("shmframe-viewer-failed-{}.png", std::process::id()));
                    let _ = shot.save(&path);
                    panic!(
                        "the screen never showed {what}: {reason} (last screenshot: {})",
                        path.display()
                    );
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}

/// Runs `program` with `DISPLAY` set, returning its standard output; fails after 20 s.
fn run_with_display(display: &str, program: &str, args: &[&str]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let mut stdout = child.stdout.take().expect("stdout");
    let mut child = Killed(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let out = rx
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{program} took over 20 s"));
    let status = child.0.wait().expect("wait");
    assert!(status.success(), "{program} {args:?} failed: {status}");
    out
}

/// Where pixels of one exact colour are on the screen.
#[derive(Debug)]
struct Patch {
    count: usize,
    min: (u32, u32),
    max: (u32, u32),
}

impl Patch {
    fn of(shot: &RgbImage, color: [u8; 3]) -> Patch {
        let mut patch = Patch {
            count: 0,
            min: (u32::MAX, u32::MAX),
            max: (0, 0),
        };
        for (x, y, px) in shot.enumerate_pixels() {
            if px.0 == color {
                patch.count += 1;
                patch.min = (patch.min.0.min(x), patch.min.1.min(y));
                patch.max = (patch.max.0.max(x), patch.max.1.max(y));
            }
        }
        patch
    }

    fn width(&self) -> u32 {
        (self.max.0 + 1).saturating_sub(self.min.0)
    }

    fn height(&self) -> u32 {
        (self.max.1 + 1).saturating_sub(self.min.1)
    }

    /// Whether the patch is a solid rectangle of at least `area` pixels.
    fn solid(&self, area: usize) -> bool {
        self.count >= area && self.count == (self.width() * self.height()) as usize
    }
}

/// Checks that the screen shows the red | blue test image: two solid halves
/// of equal size side by side, red on the left, and the right colours at
/// points inside each half.
fn shows_red_blue(shot: &RgbImage) -> Result<(), String> {
    let (red, blue) = (Patch::of(shot, RED), Patch::of(shot, BLUE));
    // The 320x240 frame is shown at least at its own size: each half >= 160x240.
    if !red.solid(160 * 240) || !blue.solid(160 * 240) {
        return Err(format!(
            "no solid red and blue halves: red {red:?}, blue {blue:?}"
        ));
    }
    if red.max.0 + 1 != blue.min.0
        || red.min.1 != blue.min.1
        || red.max.1 != blue.max.1
        || red.width() != blue.width()
    {
        return Err(format!(
            "red {red:?} is not the left half beside blue {blue:?}"
        ));
    }
    // The whole frame keeps its 4:3 aspect ratio.
    let (w, h) = (red.width() + blue.width(), red.height());
    if (w * 3).abs_diff(h * 4) > 4 {
        return Err(format!("the frame is shown {w}x{h}, not 4:3"));
    }
    let (x0, y0) = red.min;
    let points = [
        ((x0 + w / 4, y0 + h / 2), RED),
        ((x0 + 3 * w / 4, y0 + h / 2), BLUE),
        ((x0 + 2, y0 + 2), RED),
        ((x0 + w - 3, y0 + h - 3), BLUE),
    ];
    for ((x, y), color) in points {
        if shot.get_pixel(x, y).0 != color {
            return Err(format!(
                "pixel ({x}, {y}) is {:?}, not {color:?}",
                shot.get_pixel(x, y).0
            ));
        }
    }
    Ok(())
}

/// Checks that the screen shows a solid frame of `color` at least `min` in
/// size, with `width_to_height` aspect ratio, and none of the `gone` colours.
fn shows_solid(
    shot: &RgbImage,
    color: [u8; 3],
    min: (u32, u32),
    gone: &[[u8; 3]],
) -> Result<(), String> {
    let patch = Patch::of(shot, color);
    if !patch.solid((min.0 * min.1) as usize) {
        return Err(format!(
            "no solid {color:?} frame of at least {min:?}: {patch:?}"
        ));
    }
    if (patch.width() * min.1).abs_diff(patch.height() * min.0) > 2 * min.0.max(min.1) {
        return Err(format!(
            "{color:?} is shown {}x{}, not in the ratio {min:?}",
            patch.width(),
            patch.height()
        ));
    }
    for &old in gone {
        let left = Patch::of(shot, old).count;
        if left > 0 {
            return Err(format!("{left} pixels of {old:?} are still shown"));
        }
    }
    Ok(())
}

/// A unique stream, removed (with any segment left behind) when dropped.
struct Stream {
    name: String,
}

impl Stream {
    fn new(test: &str) -> Stream {
        Stream {
            name: format!("viewer-test-{test}-{}", std::process::id()),
        }
    }

    fn writer(&self) -> Writer {
        let options = WriterOptions {
            slot_capacity: 640 * 360 * 4,
            ..WriterOptions::default()
        };
        Writer::create(&self.name, &options).expect("create the writer")
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = shmframe::remove_stream(&self.name, true);
    }
}

/// A 320x240 RGBA frame: left half red, right half blue.
fn red_blue() -> (FrameMeta, Vec<u8>) {
    let (w, h) = (320, 240);
    let mut pixels = Vec::with_capacity(w * h * 4);
    for _ in 0..h {
        for x in 0..w {
            pixels.extend_from_slice(if x < w / 2 {
                &[255, 0, 0, 255]
            } else {
                &[0, 0, 255, 255]
            });
        }
    }
    (
        FrameMeta::packed(w as u32, h as u32, PixelFormat::Rgba8),
        pixels,
    )
}

/// A `w`x`h` frame of one colour in `format`.
fn solid(w: u32, h: u32, format: PixelFormat, color: [u8; 3]) -> (FrameMeta, Vec<u8>) {
    let [r, g, b] = color;
    let px: Vec<u8> = match format {
        PixelFormat::Rgba8 => vec![r, g, b, 255],
        PixelFormat::Bgra8 => vec![b, g, r, 255],
        PixelFormat::Rgb8 => vec![r, g, b],
        PixelFormat::Gray8 => vec![r],
        other => unreachable!("{other} frames are built by their own tests"),
    };
    (FrameMeta::packed(w, h, format), px.repeat((w * h) as usize))
}

/// A scratch working directory for the viewer (where its snapshots would go).
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shmframe-viewer-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn the_viewer_shows_frames_live_and_follows_a_restarted_writer() {
    let Some(()) = tools_or_skip("the_viewer_shows_frames_live_and_follows_a_restarted_writer")
    else {
        return;
    };
    let x = Xvfb::start();
    let stream = Stream::new("live");
    let mut writer = stream.writer();
    let (meta, pixels) = red_blue();
    writer.publish(&meta, &pixels).expect("publish red | blue");

    let _viewer = x.viewer(&stream.name, &scratch("live"));
    x.wait_for_screen("the red | blue frame", shows_red_blue);

    // A new frame replaces it at once: the viewer is live.
    let (meta, pixels) = solid(320, 240, PixelFormat::Bgra8, GREEN);
    writer.publish(&meta, &pixels).expect("publish green");
    x.wait_for_screen("the green frame", |shot| {
        shows_solid(shot, GREEN, (320, 240), &[RED, BLUE])
    });
    // The viewer asked for holds at its first frame and the writer granted
    // them at this publish: it draws frames held in place, not copies
    // (the viewer's unit tests check what it does with a held frame).
    let status = Reader::open(&stream.name).expect("open").status();
    assert_eq!((status.holds, status.holds_granted), (4, 2));

    // The writer restarts with another size and format; the viewer follows and letterboxes.
    drop(writer);
    let mut writer = stream.writer();
    let (meta, pixels) = solid(100, 200, PixelFormat::Rgb8, YELLOW);
    writer.publish(&meta, &pixels).expect("publish yellow");
    x.wait_for_screen("the restarted writer's 1:2 yellow frame", |shot| {
        shows_solid(shot, YELLOW, (100, 200), &[GREEN])
    });
}

/// A 320x240 NV12 frame (BT.601 limited): left half red, right half blue.
fn nv12_red_blue() -> (FrameMeta, Vec<u8>) {
    let (w, h) = (320usize, 240usize);
    let (red, blue) = ([81u8, 90, 240], [41u8, 240, 110]);
    let mut pixels = Vec::with_capacity(w * h * 3 / 2);
    for _ in 0..h {
        for x in 0..w {
            pixels.push(if x < w / 2 { red[0] } else { blue[0] });
        }
    }
    for _ in 0..h / 2 {
        for x in 0..w / 2 {
            let [_, u, v] = if x < w / 4 { red } else { blue };
            pixels.extend([u, v]);
        }
    }
    (
        FrameMeta::packed(w as u32, h as u32, PixelFormat::Nv12),
        pixels,
    )
}

/// Whether `color` is within 3 of `target` in every channel.
fn near(color: [u8; 3], target: [u8; 3]) -> bool {
    color.iter().zip(target).all(|(c, t)| c.abs_diff(t) <= 3)
}

#[test]
fn the_viewer_shows_nv12_converted_with_its_colorimetry() {
    let Some(()) = tools_or_skip("the_viewer_shows_nv12_converted_with_its_colorimetry") else {
        return;
    };
    let x = Xvfb::start();
    let stream = Stream::new("nv12");
    let mut writer = stream.writer();
    let (meta, pixels) = nv12_red_blue();
    writer
        .publish(&meta, &pixels)
        .expect("publish the NV12 frame");
    let _viewer = x.viewer(&stream.name, &scratch("nv12"));
    // The shared conversion's exact colours, which must be (nearly) pure red and blue.
    let color = meta.color;
    let red = shmframe_convert::yuv_to_rgb(81, 90, 240, color);
    let blue = shmframe_convert::yuv_to_rgb(41, 240, 110, color);
    assert!(near(red, RED) && near(blue, BLUE), "{red:?} {blue:?}");
    x.wait_for_screen("the NV12 red | blue frame", |shot| {
        let (r, b) = (Patch::of(shot, red), Patch::of(shot, blue));
        if !r.solid(160 * 240) || !b.solid(160 * 240) || r.max.0 + 1 != b.min.0 {
            return Err(format!("no red | blue halves: red {r:?}, blue {b:?}"));
        }
        Ok(())
    });
}

#[test]
fn the_viewer_shows_gray16_over_its_range() {
    let Some(()) = tools_or_skip("the_viewer_shows_gray16_over_its_range") else {
        return;
    };
    let x = Xvfb::start();
    let stream = Stream::new("gray16");
    let mut writer = stream.writer();
    // 320x240: the top row 1000 (black), the rest 2000 on the left (mid grey)
    // and 3000 on the right (white).
    let (w, h) = (320u32, 240u32);
    let mut pixels = Vec::with_capacity((w * h * 2) as usize);
    for y in 0..h {
        for x in 0..w {
            let v: u16 = match (y, x < w / 2) {
                (0, _) => 1000,
                (_, true) => 2000,
                (_, false) => 3000,
            };
            pixels.extend(v.to_le_bytes());
        }
    }
    let meta = FrameMeta::packed(w, h, PixelFormat::Gray16);
    writer
        .publish(&meta, &pixels)
        .expect("publish the Gray16 frame");
    let _viewer = x.viewer(&stream.name, &scratch("gray16"));
    const GREY: [u8; 3] = [128, 128, 128];
    const WHITE: [u8; 3] = [255, 255, 255];
    x.wait_for_screen("the Gray16 frame mapped over 1000..3000", |shot| {
        let (grey, white) = (Patch::of(shot, GREY), Patch::of(shot, WHITE));
        if !grey.solid(160 * 200) || !white.solid(160 * 200) || grey.max.0 + 1 != white.min.0 {
            return Err(format!(
                "no grey | white halves: grey {grey:?}, white {white:?}"
            ));
        }
        // The black top row lies right above both halves.
        let (x0, y0) = grey.min;
        if y0 == 0 || shot.get_pixel(x0, y0 - 1).0 != [0, 0, 0] {
            return Err(format!("no black row above the halves at ({x0}, {y0})"));
        }
        Ok(())
    });
}

#[test]
fn the_viewer_waits_for_a_stream_then_shows_it() {
    let Some(()) = tools_or_skip("the_viewer_waits_for_a_stream_then_shows_it") else {
        return;
    };
    let x = Xvfb::start();
    let stream = Stream::new("waiting");
    let _viewer = x.viewer(&stream.name, &scratch("waiting"));
    x.wait_for_screen("the waiting screen", |shot| {
        let background = Patch::of(shot, WAITING_BACKGROUND);
        // The default window is 640x480; most of it is background, some of it text.
        if background.count < 640 * 480 / 2
            || background.width() != 640
            || background.height() != 480
        {
            return Err(format!("no 640x480 waiting screen: {background:?}"));
        }
        if background.count == 640 * 480 {
            return Err("the waiting screen has no text".into());
        }
        Ok(())
    });

    let mut writer = stream.writer();
    let (meta, pixels) = red_blue();
    writer.publish(&meta, &pixels).expect("publish red | blue");
    let shot = x.wait_for_screen("the red | blue frame", shows_red_blue);
    assert_eq!(
        Patch::of(&shot, WAITING_BACKGROUND).count,
        0,
        "the waiting screen is gone"
    );
}

#[test]
fn without_a_display_the_viewer_exits_3_and_says_why() {
    let mut child = Command::new(VIEWER)
        .args(["--name", "no-display-test"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the viewer");
    let mut stderr = child.stderr.take().expect("stderr");
    let mut child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the viewer did not exit within 20 s without a display"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut message = String::new();
    stderr.read_to_string(&mut message).expect("read stderr");
    assert_eq!(status.code(), Some(3), "exit status; stderr: {message}");
    assert!(message.contains("no display"), "{message}");
    assert!(
        message.contains("set DISPLAY or use `shmframe snapshot`/`shmframe demo` headless"),
        "{message}"
    );
}

/// A 640x360 test pattern: colour bars, their complements, a grey ramp and a checkerboard.
fn test_pattern() -> (FrameMeta, Vec<u8>) {
    let (w, h) = (640u32, 360u32);
    let bars: [[u8; 3]; 7] = [
        [192, 192, 192],
        [192, 192, 0],
        [0, 192, 192],
        [0, 192, 0],
        [192, 0, 192],
        [192, 0, 0],
        [0, 0, 192],
    ];
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let bar = (x * 7 / w) as usize;
            let px = match y * 12 / h {
                0..=6 => bars[bar],
                7 => bars[6 - bar],
                8..=9 => {
                    let v = (x * 255 / (w - 1)) as u8;
                    [v, v, v]
                }
                _ if (x / 20 + y / 20) % 2 == 0 => [235, 235, 235],
                _ => [16, 16, 16],
            };
            pixels.extend_from_slice(&px);
        }
    }
    (FrameMeta::packed(w, h, PixelFormat::Rgb8), pixels)
}

/// Not a check: writes a screenshot of the viewer showing the test pattern to
/// `$SHMFRAME_VIEWER_SCREENSHOT` (docs/viewer.png is made this way):
///
/// `SHMFRAME_VIEWER_SCREENSHOT=$PWD/docs/viewer.png cargo test -p shmframe-viewer --test xvfb -- --ignored`
#[test]
#[ignore = "writes docs/viewer.png on request"]
fn screenshot_for_the_docs() {
    let Some(out) = std::env::var_os("SHMFRAME_VIEWER_SCREENSHOT") else {
        println!("SKIPPED: set SHMFRAME_VIEWER_SCREENSHOT to the PNG to write");
        return;
    };
    let Some(()) = tools_or_skip("screenshot_for_the_docs") else {
        return;
    };
    // A screen the size of the frame, so the window fills it exactly.
    let x = Xvfb::with_screen("640x360x24");
    let stream = Stream::new("docs");
    let mut writer = stream.writer();
    let (meta, pixels) = test_pattern();
    writer.publish(&meta, &pixels).expect("publish the pattern");
    let _viewer = x.viewer(&stream.name, &scratch("docs"));
    let shot = x.wait_for_screen("the test pattern", |shot| {
        // The checkerboard's light squares: 16 x 1.5 rows of 400 pixels at least.
        let light = Patch::of(shot, [235, 235, 235]);
        if light.count < 16 * 400 {
            return Err(format!("no checkerboard yet: {light:?}"));
        }
        let expected = image::RgbImage::from_raw(640, 360, pixels.clone()).expect("pattern image");
        if *shot != expected {
            return Err("the screen differs from the pattern".into());
        }
        Ok(())
    });
    shot.save(&out).expect("write the screenshot");
    println!("wrote {}", PathBuf::from(out).display());
}
