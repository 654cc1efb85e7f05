//! Zero-copy reads: a frame held in place in the segment.
//!
//! A [`HeldFrame`] is a frame a reader uses where the writer put it, under a
//! hold the writer honours (see `protocol`, **Holds**, and `holds.rs`): the
//! writer never writes a held slot, so the frame's bytes cannot change while
//! the `HeldFrame` lives, and the hold ends when it drops. When no hold is
//! free (the writer honours none, they are all taken, or this reader's were
//! not granted yet) the call fails at once with [`Error::NoHoldFree`], before
//! anything was read, and the caller copies instead.

use crate::error::{Error, Result};
use crate::hold_file::HoldFile;
use crate::layout::FrameInfo;
use crate::protocol::Granted;
use crate::reader::Reader;
use crate::segment::Segment;
use std::sync::Arc;
use std::time::Duration;

/// A frame held in place: its pixels cannot change until this drops.
pub struct HeldFrame<'r> {
    reader: &'r Reader,
    hold_file: &'r Arc<HoldFile>,
    entry: usize,
    slot: usize,
    info: FrameInfo,
}

impl HeldFrame<'_> {
    /// The frame's pixels, in place in the segment.
    pub fn pixels(&self) -> &[u8] {
        let region = self.reader.segment.region();
        // SAFETY: this frame's hold was granted (`RingReader::hold_*`
        // returned `Granted` for `slot`) and its entry still names the frame:
        // only `drop` clears it, after the returned borrow of `self` ended.
        // The hold file's ticket makes the writer look at that entry before
        // it reuses any slot, and it never revokes a live reader's ticket, so
        // it writes no byte of this slot while the slice lives. `info.len` was
        // checked against the slot capacity when the hold was granted. The
        // mapping lives as long as the reader, which `self` borrows.
        unsafe { region.held_pixels(self.slot, self.info.len) }
    }

    /// The frame's metadata.
    pub fn info(&self) -> &FrameInfo {
        &self.info
    }

    /// This hold, no longer tied to the reader's lifetime: for bindings
    /// whose frames may outlive their reader (Python arrays, GStreamer
    /// buffers, C handles). It keeps the mapping and the hold file alive.
    pub fn into_owned(self) -> OwnedHeldFrame {
        let owned = OwnedHeldFrame {
            segment: Arc::clone(&self.reader.segment),
            hold_file: Arc::clone(self.hold_file),
            entry: self.entry,
            slot: self.slot,
            info: self.info,
        };
        // The hold moves on to `owned`: it must not end here.
        std::mem::forget(self);
        owned
    }
}

/// A held frame that owns what it needs (see [`HeldFrame::into_owned`]): it
/// may outlive its reader and be sent to and dropped on any thread.
pub struct OwnedHeldFrame {
    segment: Arc<Segment>,
    hold_file: Arc<HoldFile>,
    entry: usize,
    slot: usize,
    info: FrameInfo,
}

impl OwnedHeldFrame {
    /// The frame's pixels, in place in the segment.
    pub fn pixels(&self) -> &[u8] {
        let region = self.segment.region();
        // SAFETY: as for `HeldFrame::pixels`: the hold was granted for
        // `slot`, only `drop` clears its entry, and the writer writes no byte
        // of a held slot. This value owns the mapping (`segment`) and the
        // hold file, so both live at least as long as the returned slice.
        unsafe { region.held_pixels(self.slot, self.info.len) }
    }

    /// The frame's metadata.
    pub fn info(&self) -> &FrameInfo {
        &self.info
    }
}

impl std::fmt::Debug for OwnedHeldFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedHeldFrame")
            .field("slot", &self.slot)
            .field("info", &self.info)
            .finish()
    }
}

impl Drop for OwnedHeldFrame {
    fn drop(&mut self) {
        self.hold_file.release(self.entry);
    }
}

impl std::fmt::Debug for HeldFrame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldFrame")
            .field("slot", &self.slot)
            .field("info", &self.info)
            .finish()
    }
}

impl Drop for HeldFrame<'_> {
    fn drop(&mut self) {
        self.hold_file.release(self.entry);
    }
}

/// Which frame a hold is for.
#[derive(Clone, Copy)]
enum Which {
    Latest,
    Next,
}

impl Reader {
    /// Holds the latest frame in place; `None` if nothing was published yet,
    /// [`Error::NoHoldFree`] (at once) if no hold is free: read a copy instead.
    ///
    /// Any number of frames may be held at once, up to the holds the writer
    /// granted this reader ([`ReaderOptions::holds`](crate::ReaderOptions) asks).
    pub fn hold_latest(&self) -> Result<Option<HeldFrame<'_>>> {
        self.hold(Which::Latest)
    }

    /// Holds the next frame in order in place (as [`next`](Self::next) does,
    /// `missed` counts the frames skipped); `None` if there is no new one,
    /// [`Error::NoHoldFree`] if no hold is free (the frame stays next).
    pub fn hold_next(&self) -> Result<Option<HeldFrame<'_>>> {
        self.hold(Which::Next)
    }

    /// Waits up to `timeout` for a frame newer than the last one returned,
    /// then holds the latest; `None` on timeout.
    pub fn wait_hold_latest(&mut self, timeout: Duration) -> Result<Option<HeldFrame<'_>>> {
        if !self.wait_for_newer(timeout, true)? {
            return Ok(None);
        }
        self.hold_latest()
    }

    /// Waits up to `timeout` for the next frame in order, then holds it;
    /// `None` on timeout.
    pub fn wait_hold_next(&mut self, timeout: Duration) -> Result<Option<HeldFrame<'_>>> {
        if !self.wait_for_newer(timeout, false)? {
            return Ok(None);
        }
        self.hold_next()
    }

    /// Frames this reader holds now.
    pub fn holding(&self) -> usize {
        self.hold_file.get().map_or(0, |file| file.holding())
    }

    /// Holds the writer granted this reader so far (0 before its first hold).
    pub fn holds_granted(&self) -> usize {
        let region = self.segment.region();
        self.hold_file.get().map_or(0, |file| file.granted(&region))
    }

    fn hold(&self, which: Which) -> Result<Option<HeldFrame<'_>>> {
        let region = self.segment.region();
        if region.geometry().holds == 0 || self.options.holds == 0 {
            return Err(Error::NoHoldFree);
        }
        let hold_file = self.hold_file()?;
        let Some(entry) = hold_file.take_entry(&region) else {
            if hold_file.granted(&region) < self.options.holds {
                // Perhaps a dead reader's tickets can be taken back.
                self.segment.request_rescan();
            }
            return Err(Error::NoHoldFree);
        };
        let word = hold_file.entry(entry);
        let mut info = FrameInfo::NONE;
        let got = self.with_ring(|ring| match which {
            Which::Latest => ring.hold_latest(&region, word, &mut info),
            Which::Next => ring.hold_next(&region, word, &mut info),
        });
        match self.unless_truncated(got) {
            Ok(Some(Granted { slot })) => {
                self.tell_readiness(Some(info.index));
                Ok(Some(HeldFrame {
                    reader: self,
                    hold_file,
                    entry,
                    slot,
                    info,
                }))
            }
            other => {
                hold_file.release(entry);
                if let Ok(None) = other {
                    self.tell_readiness(None);
                }
                other.map(|_| None)
            }
        }
    }

    /// This reader's hold file, made (and announced to the writer) on first use.
    fn hold_file(&self) -> Result<&Arc<HoldFile>> {
        if let Some(file) = self.hold_file.get() {
            return Ok(file);
        }
        let token = self.segment.wake_token();
        let dir = self.segment.path().parent();
        let (Some(dir), true) = (dir, token != 0) else {
            return Err(Error::NoHoldFree);
        };
        let file = HoldFile::create(dir, token, self.options.holds)?;
        self.segment.request_rescan();
        Ok(self.hold_file.get_or_init(|| Arc::new(file)))
    }
}
