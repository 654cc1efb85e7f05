//! `shmframe-viewer`: a live window onto a shmframe stream.

mod convert;
mod error;
mod font;
mod frame_pixels;
mod snapshot;
mod source;
mod title;
mod view;
mod waiting;

use clap::Parser;
use error::ViewerError;
use minifb::{Key, KeyRepeat, Window, WindowOptions};
use source::{Poll, Source};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use title::{Meter, Showing};
use view::View;

/// Longest sleep on the stream between looks at the window's events.
const EVENT_INTERVAL: Duration = Duration::from_millis(50);
/// With nothing new to draw, the window is still repainted this often (X11
/// does not keep the contents of a window that was covered).
const REPAINT_INTERVAL: Duration = Duration::from_secs(1);

const ABOUT: &str = "Shows a shmframe stream live in a window.";

const LONG_ABOUT: &str = "\
Shows a shmframe stream live in a window: whatever the writer last published,
scaled to the window with its aspect ratio kept. The viewer sleeps on the
stream between frames, so an idle stream costs next to no CPU. It holds the
frame it shows in place (no copy) when the writer grants it holds, and
copies the frame when none is free. The title
shows the stream name, resolution, frame rate and latency (publish to screen).

Every pixel format is shown: YUV (nv12, i420, yuyv) converted with the
frame's own matrix and range, 16-bit and float gray mapped from the frame's
smallest value (black) to its largest (white), with that range in the title.

With no stream of that name yet it shows a \"waiting for `NAME`\" screen and
starts showing frames when a writer appears. It follows a writer that
restarts or changes the frame size or format.";

const KEYS: &str = "\
Keys:
  Esc, q   quit
  s        save the frame on screen as shmframe-NAME-FRAME.png in the
           current directory (.tiff for float frames, 16-bit PNG for
           gray16, exact values; the path is printed)

Exit status: 0 when closed, 2 for a bad argument, 3 when no window can be
opened (no display: set DISPLAY, or use `shmframe snapshot` or
`shmframe demo` headless).";

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(name = "shmframe-viewer", version, about = ABOUT, long_about = LONG_ABOUT, after_help = KEYS)]
struct Args {
    /// Name of the stream to show.
    #[arg(short, long, default_value = "default")]
    name: String,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("shmframe-viewer: {e}");
        std::process::exit(e.exit_code());
    }
}

/// Opens the window and shows the stream until the window is closed.
fn run(args: &Args) -> Result<(), ViewerError> {
    shmframe::validate_name(&args.name).map_err(ViewerError::BadName)?;
    let mut source = Source::new(&args.name);
    // The buffer of the next copy, when a frame cannot be held.
    let mut spare = Vec::new();

    // One look before opening the window, so that it can open at the frame's size.
    let first = source.poll(&mut spare, Duration::ZERO);
    let (width, height) = match &first {
        Poll::Frame(info, _) => {
            view::initial_size(info.meta.width as usize, info.meta.height as usize)
        }
        _ => view::DEFAULT_SIZE,
    };
    let options = WindowOptions {
        resize: true,
        ..WindowOptions::default()
    };
    let initial_title = title::title(&args.name, &Showing::Waiting { problem: None });
    let mut window = Window::new(&initial_title, width, height, options)
        .map_err(|e| ViewerError::NoDisplay(e.to_string()))?;
    // The stream's futex paces the loop; minifb's own frame limiter would only add delay.
    window.set_target_fps(0);

    let mut view = View::new(&args.name, width, height);
    let mut meter = Meter::new(Instant::now());
    let mut shown_title = initial_title;
    let mut title_stale = true;
    let mut writer_alive = true;
    let mut last_paint = Instant::now();
    let mut poll = first;
    loop {
        match poll {
            Poll::Frame(info, pixels) => {
                meter.record(shmframe::monotonic_ns().saturating_sub(info.published_ns));
                // A new size or format changes the title.
                title_stale |= view
                    .frame()
                    .map_or(true, |(shown, _)| shown.meta != info.meta);
                view.show_frame(info, pixels, &mut spare);
            }
            Poll::Idle => {}
            Poll::Detached(problem) => {
                title_stale |= view.frame().is_some() || view.problem() != problem.as_deref();
                view.show_waiting(problem);
            }
        }

        let now = Instant::now();
        if meter.tick(now) {
            writer_alive = source.writer_alive();
            title_stale = true;
        }
        let (w, h) = window.get_size();
        view.resize(w, h);
        let redrawn = view.redraw();
        // After the redraw: a wide-gray frame's range is found while drawing it.
        title_stale |= redrawn && view.gray_range().is_some();
        if title_stale {
            let showing = match view.frame() {
                Some((info, _)) => Showing::Frame {
                    info,
                    meter: &meter,
                    writer_alive,
                    gray_range: view.gray_range(),
                },
                None => Showing::Waiting {
                    problem: view.problem(),
                },
            };
            let title = title::title(&args.name, &showing);
            if title != shown_title {
                window.set_title(&title);
                shown_title = title;
            }
            title_stale = false;
        }

        if redrawn || now.duration_since(last_paint) >= REPAINT_INTERVAL {
            let (w, h) = view.size();
            window
                .update_with_buffer(view.pixels(), w, h)
                .map_err(|e| ViewerError::Window(e.to_string()))?;
            last_paint = now;
        } else {
            window.update();
        }

        if !window.is_open() || window.is_key_down(Key::Escape) || window.is_key_down(Key::Q) {
            return Ok(());
        }
        if window.is_key_pressed(Key::S, KeyRepeat::No) {
            save_snapshot(&view, &args.name);
        }
        poll = source.poll(&mut spare, EVENT_INTERVAL);
    }
}

/// Saves the frame on screen into the working directory and says where.
fn save_snapshot(view: &View, name: &str) {
    let Some((info, pixels)) = view.frame() else {
        eprintln!("shmframe-viewer: no frame to save yet");
        return;
    };
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match snapshot::save(&dir, name, info.number, &info.meta, pixels) {
        Ok(path) => println!("saved {}", path.display()),
        Err(e) => eprintln!("shmframe-viewer: snapshot failed: {e}"),
    }
}
