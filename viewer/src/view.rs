//! What the window shows: the latest frame, scaled into a reused 0RGB
//! buffer of the window's size, or the waiting screen.

use crate::convert::{letterbox, Scaler};
use crate::frame_pixels::FramePixels;
use crate::waiting;
use shmframe::FrameInfo;
use shmframe_convert::GrayRange;

/// Colour of the bars around a letterboxed frame.
pub const BARS: u32 = 0x0000_0000;
/// Window size when there is no frame to take the size from.
pub const DEFAULT_SIZE: (usize, usize) = (640, 480);
/// Largest window opened for a frame; bigger frames are shown scaled down.
const MAX_INITIAL: (usize, usize) = (1280, 800);
/// Frames smaller than this are shown at a whole multiple of their size.
const MIN_INITIAL: (usize, usize) = (320, 240);

/// What is on screen.
#[derive(Debug, PartialEq)]
enum Content {
    Frame,
    Waiting { problem: Option<String> },
}

/// The window's pixels and what they show.
pub struct View {
    name: String,
    pixels: Vec<u32>,
    width: usize,
    height: usize,
    scaler: Scaler,
    /// The frame on screen, held in place while it is shown (or a copy).
    frame: FramePixels,
    info: Option<FrameInfo>,
    content: Content,
    dirty: bool,
    /// The values shown black and white, for the Gray16 or GrayF32 frame on screen.
    gray_range: Option<GrayRange>,
}

impl View {
    /// A view of stream `name` in a `width`x`height` window, waiting for a frame.
    pub fn new(name: &str, width: usize, height: usize) -> Self {
        View {
            name: name.to_string(),
            pixels: vec![0; width * height],
            width,
            height,
            scaler: Scaler::default(),
            frame: FramePixels::default(),
            info: None,
            content: Content::Waiting { problem: None },
            dirty: true,
            gray_range: None,
        }
    }

    /// Follows the window's size; the buffer is reallocated only when it grows.
    pub fn resize(&mut self, width: usize, height: usize) {
        if (width, height) != (self.width, self.height) {
            self.pixels.resize(width * height, 0);
            (self.width, self.height) = (width, height);
            self.dirty = true;
        }
    }

    /// Shows `pixels`, keeping them (a held frame stays held) until the next
    /// frame replaces them. The previous frame's hold ends here; a copy's
    /// buffer goes back to `spare` for the next copy (no allocation once warmed up).
    pub fn show_frame(&mut self, info: FrameInfo, pixels: FramePixels, spare: &mut Vec<u8>) {
        if let Some(buffer) = std::mem::replace(&mut self.frame, pixels).into_buffer() {
            if buffer.capacity() > spare.capacity() {
                *spare = buffer;
            }
        }
        self.info = Some(info);
        self.content = Content::Frame;
        self.dirty = true;
    }

    /// Shows the waiting screen, with the reason the stream cannot be read if any.
    pub fn show_waiting(&mut self, problem: Option<String>) {
        let content = Content::Waiting { problem };
        if self.content != content {
            self.content = content;
            self.info = None;
            self.dirty = true;
        }
    }

    /// The frame on screen, if any.
    pub fn frame(&self) -> Option<(&FrameInfo, &[u8])> {
        match self.content {
            Content::Frame => self.info.as_ref().map(|info| (info, self.frame.bytes())),
            Content::Waiting { .. } => None,
        }
    }

    /// For a Gray16 or GrayF32 frame on screen: the values shown black and white.
    pub fn gray_range(&self) -> Option<GrayRange> {
        match self.content {
            Content::Frame => self.gray_range,
            Content::Waiting { .. } => None,
        }
    }

    /// The problem shown on the waiting screen, if any.
    pub fn problem(&self) -> Option<&str> {
        match &self.content {
            Content::Waiting { problem } => problem.as_deref(),
            Content::Frame => None,
        }
    }

    /// Redraws the buffer if what it shows changed; `true` if it did.
    pub fn redraw(&mut self) -> bool {
        if !std::mem::take(&mut self.dirty) {
            return false;
        }
        if let (Content::Frame, Some(info)) = (&self.content, &self.info) {
            match self.scaler.render(
                &info.meta,
                self.frame.bytes(),
                &mut self.pixels,
                self.width,
                BARS,
            ) {
                Ok(range) => {
                    self.gray_range = range;
                    return true;
                }
                Err(e) => {
                    eprintln!("shmframe-viewer: cannot show frame {}: {e}", info.number);
                    self.content = Content::Waiting {
                        problem: Some(format!("bad frame: {e}")),
                    };
                    self.info = None;
                }
            }
        }
        let headline = format!("waiting for `{}`", self.name);
        let hint;
        let mut lines = vec![headline.as_str()];
        match &self.content {
            Content::Waiting { problem: Some(p) } => lines.extend(wrap(p, 60)),
            _ => {
                hint = format!("shmframe publish --name {} --pattern", self.name);
                lines.extend(["is a writer running? try:", hint.as_str()]);
            }
        }
        waiting::draw(&mut self.pixels, self.width, &lines);
        true
    }

    /// The buffer, `width`x`height` 0RGB pixels.
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    /// The buffer's width and height.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }
}

/// Splits `text` into lines of at most about `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > width {
        let cut = rest
            .char_indices()
            .nth(width)
            .map_or(rest.len(), |(i, _)| i);
        let at = if rest[cut..].starts_with(' ') {
            cut
        } else {
            rest[..cut].rfind(' ').filter(|&i| i > 0).unwrap_or(cut)
        };
        lines.push(rest[..at].trim_end());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// The window size to open for a `width`x`height` frame: its own size if
/// reasonable, else scaled down to fit the largest, or up by a whole factor.
pub fn initial_size(width: usize, height: usize) -> (usize, usize) {
    let (max_w, max_h) = MAX_INITIAL;
    if width == 0 || height == 0 {
        return DEFAULT_SIZE;
    }
    if width > max_w || height > max_h {
        return letterbox(width, height, max_w, max_h)
            .map_or(DEFAULT_SIZE, |r| (r.width, r.height));
    }
    let (min_w, min_h) = MIN_INITIAL;
    let mut factor = 1;
    while (width * factor < min_w || height * factor < min_h)
        && width * (factor + 1) <= max_w
        && height * (factor + 1) <= max_h
    {
        factor += 1;
    }
    (width * factor, height * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shmframe::{FrameMeta, PixelFormat};

    fn info(width: u32, height: u32, format: PixelFormat) -> FrameInfo {
        let meta = FrameMeta::packed(width, height, format);
        FrameInfo {
            number: 1,
            index: 1,
            timestamp_ns: 0,
            published_ns: 0,
            meta,
            len: meta.checked_len().unwrap(),
            missed: 0,
        }
    }

    #[test]
    fn the_window_opens_at_a_size_that_suits_the_frame() {
        assert_eq!(initial_size(320, 240), (320, 240));
        assert_eq!(initial_size(1920, 1080), (1280, 720));
        assert_eq!(initial_size(100, 50), (500, 250));
        assert_eq!(initial_size(4, 4000), (1, 800));
        assert_eq!(initial_size(0, 0), DEFAULT_SIZE);
    }

    #[test]
    fn a_frame_is_shown_then_the_waiting_screen_then_a_frame_again() {
        let mut view = View::new("cam0", 4, 4);
        assert!(view.redraw());
        assert!(view.pixels().contains(&waiting::BACKGROUND));
        assert!(!view.redraw(), "nothing changed");

        let mut spare = Vec::new();
        let red = [0xFF, 0, 0, 0xFF].repeat(4);
        view.show_frame(
            info(2, 2, PixelFormat::Rgba8),
            FramePixels::Copied(red),
            &mut spare,
        );
        assert!(view.redraw());
        assert_eq!(view.pixels(), &[0x00FF_0000; 16]);
        assert_eq!(
            view.frame().map(|(i, p)| (i.meta.width, p.len())),
            Some((2, 16))
        );

        view.show_waiting(Some("corrupt".into()));
        assert!(view.redraw());
        assert_eq!(view.problem(), Some("corrupt"));
        assert!(view.frame().is_none());
        view.show_waiting(Some("corrupt".into()));
        assert!(!view.redraw(), "the same screen is not redrawn");

        let gray = vec![0x80; 3];
        view.show_frame(
            info(3, 1, PixelFormat::Gray8),
            FramePixels::Copied(gray),
            &mut spare,
        );
        assert_eq!(spare.len(), 16, "the previous copy's buffer is handed back");
        view.resize(3, 3);
        assert!(view.redraw());
        assert_eq!(view.size(), (3, 3));
        assert_eq!(
            view.pixels(),
            &[BARS, BARS, BARS, 0x80_8080, 0x80_8080, 0x80_8080, BARS, BARS, BARS]
        );
    }

    #[test]
    fn a_frame_that_does_not_match_its_metadata_is_reported_on_screen() {
        let mut view = View::new("cam0", 8, 8);
        view.show_frame(
            info(2, 2, PixelFormat::Rgb8),
            FramePixels::Copied(vec![0; 5]),
            &mut Vec::new(),
        );
        assert!(view.redraw());
        assert!(view.problem().is_some_and(|p| p.contains("bad frame")));
    }

    #[test]
    fn long_messages_wrap_at_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("  ", 4), Vec::<&str>::new());
    }
}
