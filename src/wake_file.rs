//! The wake file: where readers about to sleep ask the writer to wake them.
//!
//! A publish calls `FUTEX_WAKE` only while some reader may be asleep, so that
//! with nobody asleep it makes no system call. Sleepers must say so somewhere
//! they can write, and the segment is read-only for them; so each segment has a
//! small companion file, `.shmframe-wake.TOKEN` in the same directory (TOKEN is
//! header word 7 in hex), mapped read-write by readers and read by the writer.
//! Its one live word, `asleep_after`, tells the writer after which frame some
//! reader went to sleep (see `protocol::Region::sleep`).
//!
//! Nothing written here can harm a frame or the writer: the writer only loads
//! that word and compares it, and it never waits on this file. A reader that
//! stores a large value makes the writer wake on every publish, as it did
//! before this file existed; one that stores 0 (or truncates the file, which
//! then reads as zeros, see `sigbus`) makes it skip wakes, so sleepers wake by
//! their own timeout: later by at most their liveness interval.
//!
//! The file is created unnamed, locked with the writer's lock (`liveness`) and
//! linked under its name, as segments are; the writer removes it when the
//! segment goes, and the next writer in the directory sweeps the file of one
//! that died (no writer lock).

use crate::error::{Error, Result};
use crate::files::{link_unnamed, open_checked};
use crate::layout::wake;
use crate::liveness::hold_writer_lock;
use crate::sigbus::{self, Protected};
use crate::sync::{AtomicU64, Ordering::Relaxed};
use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::{Mode, OFlags};
use std::fs::File;
use std::path::{Path, PathBuf};

/// A mapped wake file.
pub(crate) struct WakeFile {
    // Field order matters for drop: stop protecting the mapping, unmap it,
    // then close the file.
    _protected: Protected,
    map: MmapRaw,
    _file: File,
    path: PathBuf,
    token: u64,
    /// The writer that created it removes it on drop.
    owned: bool,
}

/// `.shmframe-wake.TOKEN` in `dir`.
pub(crate) fn wake_path(dir: &Path, token: u64) -> PathBuf {
    dir.join(format!("{}{token:016x}", wake::FILE_PREFIX))
}

impl WakeFile {
    /// Creates the wake file `token` in `dir` for a segment of file mode
    /// `mode`: whoever may read the segment may write this file.
    pub(crate) fn create(dir: &Path, token: u64, mode: u32) -> Result<WakeFile> {
        let fd = rustix::fs::open(
            dir,
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| Error::io(format!("creating a wake file in {}", dir.display()), e))?;
        let file = File::from(fd);
        // Group and others get write wherever they have read.
        let mode = mode | (mode & 0o044) >> 1;
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))
            .map_err(|e| Error::io("setting the wake file's mode", e))?;
        file.set_len(wake::FILE_SIZE as u64)
            .map_err(|e| Error::io("sizing the wake file", e))?;
        // Nobody else can reach an unnamed file: this cannot conflict.
        hold_writer_lock(&file).map_err(|e| Error::io("locking the wake file", e))?;
        let mut wake_file = WakeFile::map(file, wake_path(dir, token), token)?;
        // Not yet visible to anyone: Relaxed.
        wake_file.word(0).store(wake::MAGIC, Relaxed);
        link_unnamed(&wake_file._file, &wake_file.path)
            .map_err(|e| Error::io(format!("naming {}", wake_file.path.display()), e))?;
        wake_file.owned = true;
        Ok(wake_file)
    }

    /// Opens the wake file `token` in `dir` as a reader; `None` if it is
    /// missing (its writer is gone) or not a wake file of a trusted user.
    pub(crate) fn open(dir: &Path, token: u64, trusted_uids: &[u32]) -> Option<WakeFile> {
        if token == 0 {
            return None;
        }
        let path = wake_path(dir, token);
        let (file, size) = open_checked(&path, trusted_uids, OFlags::RDWR).ok()??;
        if size < wake::FILE_SIZE as u64 {
            return None;
        }
        let wake_file = WakeFile::map(file, path, token).ok()?;
        (wake_file.word(0).load(Relaxed) == wake::MAGIC).then_some(wake_file)
    }

    /// Maps `file` (named `path`), protected against truncation.
    fn map(file: File, path: PathBuf, token: u64) -> Result<WakeFile> {
        let map = MmapOptions::new()
            .len(wake::FILE_SIZE)
            .map_raw(&file)
            .map_err(|e| Error::io("mapping the wake file", e))?;
        Ok(WakeFile {
            _protected: sigbus::protect(map.as_ptr(), wake::FILE_SIZE, true),
            map,
            _file: file,
            path,
            token,
            owned: false,
        })
    }

    /// The token in its name (header word 7 of its segment).
    pub(crate) fn token(&self) -> u64 {
        self.token
    }

    /// The word where sleepers register.
    #[inline]
    pub(crate) fn asleep_after(&self) -> &AtomicU64 {
        self.word(wake::ASLEEP_AFTER)
    }

    /// The counter readers bump to ask the writer to look for hold files.
    #[inline]
    pub(crate) fn rescan(&self) -> &AtomicU64 {
        self.word(wake::RESCAN)
    }

    #[inline]
    fn word(&self, index: usize) -> &AtomicU64 {
        assert!(index < wake::FILE_SIZE / 8);
        // SAFETY: the mapping is page-aligned and `FILE_SIZE` bytes long, so
        // word `index` is inside it and 8-aligned; it lives as long as `self`.
        // Other processes change it concurrently, only ever atomically (or, if
        // hostile, in ways that change what this load returns, never whether
        // it is sound); truncation is covered by `sigbus`.
        unsafe { &*self.map.as_ptr().add(index * 8).cast::<AtomicU64>() }
    }
}

impl Drop for WakeFile {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
