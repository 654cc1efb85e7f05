//! The shared-memory file behind a stream: naming, creation, locking, mapping.
//!
//! Stream `NAME` lives in the file `/dev/shm/shmframe.NAME` (the directory can
//! be changed with `SHMFRAME_DIR`). The writer holds an exclusive `flock` on it
//! for its whole life; the kernel drops the lock when the writer dies, which is
//! how readers and the next writer know it is gone. A segment is built under a
//! temporary name and then linked (or renamed, over a stale one) into place,
//! so a reader never sees a half-initialised header.

use crate::error::{Error, Result};
use crate::layout::{header, Geometry, HEADER_SIZE};
use crate::name::validate_name;
use crate::protocol::Region;
use crate::sync::{AtomicU32, AtomicU64};
use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::{FallocateFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64 as Counter, Ordering};
use std::time::Duration;

/// Default directory of segments: the shared-memory tmpfs.
pub const DEFAULT_DIR: &str = "/dev/shm";
/// Environment variable that moves segments to another directory.
pub const DIR_ENV: &str = "SHMFRAME_DIR";
/// Prefix of every segment file name.
pub const FILE_PREFIX: &str = "shmframe.";
/// Prefix of segments under construction; can never collide with a stream's file.
const TEMP_PREFIX: &str = ".shmframe-tmp.";

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
    // Field order matters for drop: unmap before closing the file.
    map: MmapRaw,
    file: File,
    geometry: Geometry,
    path: PathBuf,
    name: String,
}

/// A segment under its temporary name, not yet visible to readers.
pub(crate) struct PendingSegment {
    segment: Option<Segment>,
    temp_path: PathBuf,
}

impl Segment {
    /// Builds a new, zeroed segment for `name` under a temporary name.
    pub(crate) fn create_pending(
        name: &str,
        geometry: Geometry,
        mode: u32,
    ) -> Result<PendingSegment> {
        let path = segment_path(name)?;
        let dir = path
            .parent()
            .expect("segment path has a directory")
            .to_path_buf();
        static COUNTER: Counter = Counter::new(0);
        let temp_path = dir.join(format!(
            "{TEMP_PREFIX}{}.{}.{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let fd = rustix::fs::open(
            &temp_path,
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| Error::io(format!("creating {}", temp_path.display()), e))?;
        // From here on the temporary file is removed if anything fails.
        let mut pending = PendingSegment {
            segment: None,
            temp_path,
        };
        let file = File::from(fd);
        let size = geometry.total_size as u64;
        // The mode is set after creation so the umask cannot change it.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))
            .map_err(|e| Error::io("setting the segment's mode", e))?;
        // Reserve the pages now: on a full tmpfs this fails cleanly instead of
        // a SIGBUS on first write.
        match rustix::fs::fallocate(&file, FallocateFlags::empty(), 0, size) {
            Ok(()) => {}
            Err(Errno::OPNOTSUPP) => file
                .set_len(size)
                .map_err(|e| Error::io("sizing the segment", e))?,
            Err(e) => {
                return Err(Error::io(
                    format!(
                        "reserving {size} bytes for the segment in {} (is the tmpfs full?)",
                        dir.display()
                    ),
                    e,
                ))
            }
        }
        rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive)
            .map_err(|e| Error::io("locking the new segment", e))?;
        let map = MmapOptions::new()
            .len(geometry.total_size)
            .map_raw(&file)
            .map_err(|e| Error::io("mapping the segment", e))?;
        pending.segment = Some(Segment {
            map,
            file,
            geometry,
            path,
            name: name.to_string(),
        });
        Ok(pending)
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
        let map = MmapOptions::new()
            .len(geometry.total_size)
            .map_raw_read_only(&file)
            .map_err(|e| Error::io("mapping the segment", e))?;
        Ok(Segment {
            map,
            file,
            geometry,
            path,
            name: name.to_string(),
        })
    }

    /// The protocol's view of the mapping.
    pub(crate) fn region(&self) -> Region<'_> {
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
        Region::new(words, futex, self.geometry).expect("mapping is as large as its geometry")
    }

    /// The stream name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The segment's file path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether some process holds the writer's exclusive lock on this segment.
    pub(crate) fn lock_held(&self) -> bool {
        lock_held(&self.file)
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

impl PendingSegment {
    /// The protocol's view, for initialising the header.
    pub(crate) fn region(&self) -> Region<'_> {
        self.segment
            .as_ref()
            .expect("present until installed")
            .region()
    }

    /// Makes the segment visible under its stream name, replacing a stale one.
    pub(crate) fn install(mut self) -> Result<Segment> {
        let segment = self.segment.as_ref().expect("present until installed");
        let path = segment.path.clone();
        // A few rounds: a stale segment may be replaced under us by another
        // writer starting at the same moment; each round re-examines the name.
        for _ in 0..8 {
            match rustix::fs::link(&self.temp_path, &path) {
                Ok(()) => return Ok(self.finish()),
                Err(Errno::EXIST) => {}
                Err(e) => return Err(Error::io(format!("publishing {}", path.display()), e)),
            }
            let Some((old, _)) = open_existing(&path, &[])? else {
                continue; // removed meanwhile: try the link again
            };
            // Hold the old segment's lock while replacing it, so no other
            // writer can decide it is stale at the same time.
            if !lock_exclusive_briefly(&old) {
                return Err(Error::WriterExists {
                    name: segment.name().to_string(),
                    pid: writer_pid_of(&old),
                });
            }
            if !same_file(&old, &path) {
                continue; // someone else replaced it first
            }
            rustix::fs::rename(&self.temp_path, &path)
                .map_err(|e| Error::io(format!("replacing stale {}", path.display()), e))?;
            drop(old);
            self.temp_path = PathBuf::new();
            return Ok(self.segment.take().expect("present until installed"));
        }
        Err(Error::io(
            format!("publishing {}", path.display()),
            std::io::Error::other("the name kept changing under concurrent writers"),
        ))
    }

    /// Makes the segment visible under its name in place of `current`, whose
    /// exclusive lock this process holds (a writer moving to new options).
    pub(crate) fn install_over(mut self, current: &Segment) -> Result<Segment> {
        if current.replaced_on_disk() {
            return Err(Error::io(
                format!("replacing {}", current.path.display()),
                std::io::Error::other("the name no longer refers to this writer's segment"),
            ));
        }
        rustix::fs::rename(&self.temp_path, &current.path)
            .map_err(|e| Error::io(format!("replacing {}", current.path.display()), e))?;
        self.temp_path = PathBuf::new();
        Ok(self.segment.take().expect("present until installed"))
    }

    fn finish(mut self) -> Segment {
        let _ = std::fs::remove_file(&self.temp_path);
        self.temp_path = PathBuf::new();
        self.segment.take().expect("present until installed")
    }
}

impl Drop for PendingSegment {
    fn drop(&mut self) {
        if !self.temp_path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

/// Opens an existing segment file for inspection; `None` if it vanished.
fn open_existing(path: &Path, trusted_uids: &[u32]) -> Result<Option<(File, u64)>> {
    match rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    ) {
        Ok(fd) => {
            let file = File::from(fd);
            let size = check_file(&file, path, trusted_uids)?;
            Ok(Some((file, size)))
        }
        Err(Errno::NOENT) => Ok(None),
        Err(Errno::LOOP) => Err(Error::NotRegularFile {
            path: path.to_path_buf(),
        }),
        Err(e) => Err(Error::io(format!("opening {}", path.display()), e)),
    }
}

/// Checks that `file` is a regular file owned by us (or a trusted user); returns its size.
fn check_file(file: &File, path: &Path, trusted_uids: &[u32]) -> Result<u64> {
    let stat = rustix::fs::fstat(file)
        .map_err(|e| Error::io(format!("inspecting {}", path.display()), e))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(Error::NotRegularFile {
            path: path.to_path_buf(),
        });
    }
    let me = rustix::process::geteuid().as_raw();
    if stat.st_uid != me && !trusted_uids.contains(&stat.st_uid) {
        return Err(Error::ForeignOwner {
            path: path.to_path_buf(),
            uid: stat.st_uid,
            me,
        });
    }
    Ok(stat.st_size as u64)
}

/// Whether another open file description holds an exclusive lock on `file`.
fn lock_held(file: &File) -> bool {
    match rustix::fs::flock(file, FlockOperation::NonBlockingLockShared) {
        Ok(()) => {
            let _ = rustix::fs::flock(file, FlockOperation::Unlock);
            false
        }
        Err(_) => true,
    }
}

/// Takes the exclusive lock, retrying briefly: a reader checking liveness
/// holds a shared lock for a few microseconds.
fn lock_exclusive_briefly(file: &File) -> bool {
    for attempt in 0..20 {
        if rustix::fs::flock(file, FlockOperation::NonBlockingLockExclusive).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(200 << attempt.min(4)));
    }
    false
}

/// Whether `path` names the same inode as `file`.
fn same_file(file: &File, path: &Path) -> bool {
    same_inode(file, path) == Some(true)
}

/// Whether `path` names the inode of `file`; `None` if either cannot be examined.
fn same_inode(file: &File, path: &Path) -> Option<bool> {
    let (mine, now) = (rustix::fs::fstat(file).ok()?, rustix::fs::lstat(path).ok()?);
    Some((mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino))
}

/// The writer pid recorded in a segment's header (0 if unreadable).
fn writer_pid_of(file: &File) -> u32 {
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
    if !force && lock_held(&file) {
        return Err(Error::WriterExists {
            name: name.to_string(),
            pid: writer_pid_of(&file),
        });
    }
    std::fs::remove_file(&path).map_err(|e| Error::io(format!("removing {}", path.display()), e))
}
