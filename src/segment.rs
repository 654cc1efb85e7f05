//! The shared-memory file behind a stream: naming, creation, locking, mapping.
//!
//! Stream `NAME` lives in the file `/dev/shm/shmframe.NAME` (the directory can
//! be changed with `SHMFRAME_DIR`). The writer holds a write lock on it for its
//! whole life (`liveness`); the kernel drops the lock when the writer dies,
//! which is how readers and the next writer know it is gone. A segment is
//! built in an unnamed file and then linked (or swapped, for a dead one) into
//! place (`install`), so a reader never sees a half-initialised header.

use crate::error::{Error, Result};
use crate::files::{open_checked, same_inode};
use crate::layout::{header, Geometry, HEADER_SIZE};
use crate::liveness::writer_lock_held;
use crate::name::validate_name;
use crate::protocol::{HoldEntries, NoHolds, Region};
use crate::sigbus::{self, Protected};
use crate::sync::{AtomicU32, AtomicU64, Ordering::Relaxed};
use crate::wake_file::WakeFile;
use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::OFlags;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Default directory of segments: the shared-memory tmpfs.
pub const DEFAULT_DIR: &str = "/dev/shm";
/// Environment variable that moves segments to another directory.
pub const DIR_ENV: &str = "SHMFRAME_DIR";
/// Prefix of every segment file name.
pub const FILE_PREFIX: &str = "shmframe.";
/// Prefix of segments under construction; can never collide with a stream's file.
pub(crate) const TEMP_PREFIX: &str = ".shmframe-tmp.";

/// The directory holding the segments: `$SHMFRAME_DIR` if set, else `/dev/shm`.
pub fn segment_dir() -> Result<PathBuf> {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        return Ok(PathBuf::from(DEFAULT_DIR));
    };
    let dir = PathBuf::from(dir);
    if !dir.is_absolute() {
        return Err(Error::InvalidEnvironment(format!(
            "{DIR_ENV}={} is not an absolute path",
            dir.display()
        )));
    }
    if !dir.is_dir() {
        return Err(Error::InvalidEnvironment(format!(
            "{DIR_ENV}={} is not a directory",
            dir.display()
        )));
    }
    Ok(dir)
}

/// The file that holds stream `name`.
pub fn segment_path(name: &str) -> Result<PathBuf> {
    validate_name(name)?;
    Ok(segment_dir()?.join(format!("{FILE_PREFIX}{name}")))
}

/// Names of the streams whose segment files exist, sorted.
pub fn list_streams() -> Result<Vec<String>> {
    let dir = segment_dir()?;
    let entries =
        std::fs::read_dir(&dir).map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| Some(file.strip_prefix(FILE_PREFIX)?.to_string()))
        .filter(|name| validate_name(name).is_ok())
        .collect();
    names.sort();
    Ok(names)
}

/// A mapped segment file. Writers map it read-write and hold the exclusive
/// lock; readers map it read-only.
pub(crate) struct Segment {
    // Field order matters for drop: stop protecting the mapping, unmap it,
    // then close the file.
    /// A reader's protection against truncation (`sigbus`); `None` for writers.
    protected: Option<Protected>,
    map: MmapRaw,
    file: File,
    /// Where sleepers register (`wake_file`); `None` for a reader that found
    /// none (its writer is gone), which then wakes by its timeouts alone.
    wake: Option<WakeFile>,
    geometry: Geometry,
    path: PathBuf,
    name: String,
}

/// Where a reader of a segment without a wake file registers: nobody reads it.
static NO_WAKE_FILE: AtomicU64 = AtomicU64::new(0);

impl Segment {
    /// A segment from its parts (see `install` for how writers make one).
    pub(crate) fn new(
        map: MmapRaw,
        file: File,
        wake: WakeFile,
        geometry: Geometry,
        path: PathBuf,
        name: String,
    ) -> Segment {
        Segment {
            protected: None,
            map,
            file,
            wake: Some(wake),
            geometry,
            path,
            name,
        }
    }

    /// Opens stream `name` read-only, checking owner and header.
    pub(crate) fn open_read_only(name: &str, trusted_uids: &[u32]) -> Result<Segment> {
        let path = segment_path(name)?;
        let Some((file, size)) = open_existing(&path, trusted_uids)? else {
            return Err(Error::NoStream {
                name: name.to_string(),
            });
        };
        if size < HEADER_SIZE as u64 {
            return Err(Error::BadSegment {
                reason: format!("{} holds {size} bytes, less than a header", path.display()),
            });
        }
        let mut bytes = [0u8; 64];
        file.read_exact_at(&mut bytes, 0)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let geometry = Geometry::from_header_bytes(&bytes, size)?;
        let token_at = header::WAKE_TOKEN * 8;
        let token = u64::from_le_bytes(bytes[token_at..token_at + 8].try_into().expect("8 bytes"));
        let dir = path.parent().expect("segment path has a directory");
        let wake = WakeFile::open(dir, token, trusted_uids);
        let map = MmapOptions::new()
            .len(geometry.total_size)
            .map_raw_read_only(&file)
            .map_err(|e| Error::io("mapping the segment", e))?;
        Ok(Segment {
            protected: Some(sigbus::protect(map.as_ptr(), geometry.total_size, false)),
            map,
            file,
            wake,
            geometry,
            path,
            name: name.to_string(),
        })
    }

    /// The protocol's view of the mapping.
    #[inline(always)]
    pub(crate) fn region(&self) -> Region<'_> {
        self.region_honouring(&NoHolds)
    }

    /// The protocol's view of the mapping, for a writer honouring `holds`.
    #[inline(always)]
    pub(crate) fn region_honouring<'a>(
        &'a self,
        holds: &'a (dyn HoldEntries + Sync),
    ) -> Region<'a> {
        let base = self.map.as_ptr();
        // SAFETY: the mapping is page-aligned (so 8-aligned) and at least
        // `geometry.total_size` bytes long (its length was set to that, after
        // checking the file holds as much); it stays mapped for as long as
        // `self` is borrowed. Every access to it goes through atomics, so
        // concurrent changes by other processes are not data races; a
        // read-only mapping only ever gets loads, since readers never hold a
        // `RingWriter`.
        let words = unsafe {
            std::slice::from_raw_parts(base.cast::<AtomicU64>(), self.geometry.total_words())
        };
        // SAFETY: as above; the futex word is 4-aligned inside the header and
        // the protocol never accesses its bytes as a 64-bit word.
        let futex = unsafe { &*base.add(header::FUTEX_BYTE_OFFSET).cast::<AtomicU32>() };
        let asleep_after = self
            .wake
            .as_ref()
            .map_or(&NO_WAKE_FILE, WakeFile::asleep_after);
        Region::new(words, futex, asleep_after, self.geometry)
            .expect("mapping is as large as its geometry")
            .with_holds(holds)
    }

    /// The wake file's token (0 if there is none).
    pub(crate) fn wake_token(&self) -> u64 {
        self.wake.as_ref().map_or(0, WakeFile::token)
    }

    /// The readers' count of requests for a hold-file scan (0 without a wake file).
    pub(crate) fn rescan_requests(&self) -> u64 {
        self.wake
            .as_ref()
            .map_or(0, |wake| wake.rescan().load(Relaxed))
    }

    /// Asks the writer to look for new hold files soon.
    pub(crate) fn request_rescan(&self) {
        if let Some(wake) = &self.wake {
            wake.rescan().fetch_add(1, Relaxed);
        }
    }

    /// Records the wake file's token in header word 7 of a segment that is not
    /// yet visible under its name (after `RingWriter::init`).
    pub(crate) fn record_wake_token(&self) {
        let token = self.wake.as_ref().map_or(0, WakeFile::token);
        // Not yet visible to readers: linking it under its name orders this.
        self.region_word(header::WAKE_TOKEN).store(token, Relaxed);
    }

    fn region_word(&self, index: usize) -> &AtomicU64 {
        assert!(index < HEADER_SIZE / 8);
        // SAFETY: the mapping is page-aligned and at least a header long
        // (see `region`), so header word `index` is inside it and 8-aligned.
        unsafe { &*self.map.as_ptr().add(index * 8).cast::<AtomicU64>() }
    }

    /// Whether the file was truncated under this (reader's) mapping, which
    /// then reads as zeros.
    #[inline]
    pub(crate) fn truncated(&self) -> bool {
        self.protected.as_ref().is_some_and(Protected::truncated)
    }

    /// The stream name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The segment's file path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the segment's writer is alive (holds its writer lock). Takes no lock.
    pub(crate) fn lock_held(&self) -> bool {
        writer_lock_held(&self.file)
    }

    /// The segment's open file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Whether the stream's path now names a different file than this one
    /// (a writer restarted, or moved to bigger slots).
    pub(crate) fn replaced_on_disk(&self) -> bool {
        same_inode(&self.file, &self.path) == Some(false)
    }

    /// Removes the stream's name if it still names this segment.
    pub(crate) fn unlink_if_current(&self) {
        if !self.replaced_on_disk() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Opens an existing segment file read-only for inspection; `None` if it vanished.
pub(crate) fn open_existing(path: &Path, trusted_uids: &[u32]) -> Result<Option<(File, u64)>> {
    open_checked(path, trusted_uids, OFlags::RDONLY)
}

/// The writer pid recorded in a segment's header (0 if unreadable).
pub(crate) fn writer_pid_of(file: &File) -> u32 {
    let mut word = [0u8; 8];
    match file.read_exact_at(&mut word, (header::WRITER_PID * 8) as u64) {
        Ok(()) => u64::from_le_bytes(word) as u32,
        Err(_) => 0,
    }
}

/// Removes stream `name`. Refuses while its writer is alive unless `force`.
pub fn remove_stream(name: &str, force: bool) -> Result<()> {
    let path = segment_path(name)?;
    let Some((file, _)) = open_existing(&path, &[])? else {
        return Err(Error::NoStream {
            name: name.to_string(),
        });
    };
    if !force && writer_lock_held(&file) {
        return Err(Error::WriterExists {
            name: name.to_string(),
            pid: writer_pid_of(&file),
        });
    }
    std::fs::remove_file(&path).map_err(|e| Error::io(format!("removing {}", path.display()), e))
}
