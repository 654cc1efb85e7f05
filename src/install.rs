//! Creating a segment and making it visible under its stream's name, so that a
//! writer dying at any point leaves nothing behind but a reclaimable segment.
//!
//! The segment is built in an unnamed file (`O_TMPFILE`), locked with the
//! writer's lock before it ever has a name, and linked under the stream's name
//! in one step. A dead writer's segment (no writer lock) is replaced by
//! swapping the new one in atomically. Writers racing to replace the same dead
//! segment decide who does it with a compare-and-swap on its header word
//! `REPLACER`, which only writers can change (readers map the file read-only):
//! no lock that a reader could hold takes part. The winner names its segment
//! `.shmframe-tmp.TOKEN.NAME` while it swaps, so that the others can see it is
//! alive (locked) or dead (unlocked: its claim may be taken over, and its file
//! is a leftover that the next writer removes).

use crate::error::{Error, Result};
use crate::files::{link_unnamed, remove_dead_files_of_ours, same_inode};
use crate::layout::{header, hold, wake, Geometry, HEADER_SIZE};
use crate::liveness::{hold_writer_lock, writer_lock_held};
use crate::protocol::RingWriter;
use crate::segment::{open_existing, segment_path, writer_pid_of, Segment, TEMP_PREFIX};
use crate::sync::{AtomicU64, Ordering::*};
use crate::wake_file::WakeFile;
use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::{FallocateFlags, Mode, OFlags, RenameFlags, CWD};
use rustix::io::Errno;
use std::fs::File;
use std::hash::BuildHasher;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// A new segment in an unnamed file, not yet visible to readers.
pub(crate) struct PendingSegment {
    /// Present until installed.
    segment: Option<Segment>,
    /// Identifies this writer's claim on a dead segment and its temporary name.
    token: u64,
    /// The temporary name while the segment has one (removed on drop).
    temp_path: Option<PathBuf>,
}

/// Builds a new, zeroed segment for `name`, locked as this writer's.
pub(crate) fn create_pending(name: &str, geometry: Geometry, mode: u32) -> Result<PendingSegment> {
    let path = segment_path(name)?;
    let dir = path.parent().expect("segment path has a directory");
    sweep_leftovers(dir);
    let fd = rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
    .map_err(|e| {
        Error::io(
            format!(
                "creating an unnamed segment file in {} (the directory must support O_TMPFILE, as tmpfs does)",
                dir.display()
            ),
            e,
        )
    })?;
    let file = File::from(fd);
    let size = geometry.total_size as u64;
    // The mode is set after creation so the umask cannot change it.
    rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))
        .map_err(|e| Error::io("setting the segment's mode", e))?;
    // Reserve the pages now: on a full tmpfs this fails cleanly instead of a
    // SIGBUS on first write.
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
    // Nobody else can reach an unnamed file: this cannot conflict.
    hold_writer_lock(&file).map_err(|e| Error::io("locking the new segment", e))?;
    let map = MmapOptions::new()
        .len(geometry.total_size)
        .map_raw(&file)
        .map_err(|e| Error::io("mapping the segment", e))?;
    let wake = WakeFile::create(dir, random_token(), mode)?;
    Ok(PendingSegment {
        segment: Some(Segment::new(
            map,
            file,
            wake,
            geometry,
            path,
            name.to_string(),
        )),
        token: random_token(),
        temp_path: None,
    })
}

/// What a claim on a dead segment came to.
enum Claim {
    /// This writer may replace it.
    Won,
    /// A live writer is replacing it (its pid).
    Taken(u32),
    /// The segment changed meanwhile: look again.
    Lost,
}

impl PendingSegment {
    /// Writes the header of the new segment and returns its writer.
    pub(crate) fn init(&self, writer_pid: u32, created_ns: u64) -> RingWriter {
        let ring = RingWriter::init(&self.segment().region(), writer_pid, created_ns);
        self.segment().record_wake_token();
        ring
    }

    /// Makes the segment visible under its stream name, replacing a dead
    /// writer's segment. Fails if a live writer has the name.
    pub(crate) fn install(mut self) -> Result<Segment> {
        let path = self.segment().path().to_path_buf();
        // A few rounds: the name may change under us as other writers come and go.
        for _ in 0..8 {
            match link_unnamed(self.segment().file(), &path) {
                Ok(()) => return Ok(self.finish()),
                Err(Errno::EXIST) => {}
                Err(e) => return Err(Error::io(format!("publishing {}", path.display()), e)),
            }
            // Read-only, so that another user's file is refused for its owner
            // (not for a permission), and checked before anything else.
            let Some((old, _)) = open_existing(&path, &[])? else {
                continue; // removed meanwhile: link again
            };
            if writer_lock_held(&old) {
                return Err(self.writer_exists(writer_pid_of(&old)));
            }
            match self.claim(&old)? {
                Claim::Won => {}
                Claim::Taken(pid) => return Err(self.writer_exists(pid)),
                Claim::Lost => continue,
            }
            let temp = self.temp_path.clone().expect("named to claim");
            exchange(&temp, &path)?;
            // Only the claim's holder swaps a dead segment out, so the name
            // held `old` unless it was removed and re-created meanwhile.
            if same_inode(&old, &temp) == Some(true) {
                return Ok(self.finish());
            }
            // It held someone else's segment: give it back and look again.
            exchange(&temp, &path)?;
            if same_inode(self.segment().file(), &temp) != Some(true) {
                return Err(Error::io(
                    format!("publishing {}", path.display()),
                    std::io::Error::other("the name kept changing under concurrent writers"),
                ));
            }
        }
        Err(Error::io(
            format!("publishing {}", path.display()),
            std::io::Error::other("the name kept changing under concurrent writers"),
        ))
    }

    /// Makes the segment visible under its name in place of `current`, whose
    /// writer lock this writer holds (a writer moving to new options).
    pub(crate) fn install_over(mut self, current: &Segment) -> Result<Segment> {
        if current.replaced_on_disk() {
            return Err(Error::io(
                format!("replacing {}", current.path().display()),
                std::io::Error::other("the name no longer refers to this writer's segment"),
            ));
        }
        let temp = self.name_temporarily()?;
        rustix::fs::rename(&temp, current.path())
            .map_err(|e| Error::io(format!("replacing {}", current.path().display()), e))?;
        self.temp_path = None;
        Ok(self.finish())
    }

    /// Claims the dead segment `old` for replacement by this writer.
    fn claim(&mut self, old: &File) -> Result<Claim> {
        let old = &reopen_writable(old)?;
        // A dead segment may be any file of ours: give it room for the word.
        let size = old
            .metadata()
            .map_err(|e| Error::io("inspecting a dead segment", e))?
            .len();
        if size < HEADER_SIZE as u64 {
            old.set_len(HEADER_SIZE as u64)
                .map_err(|e| Error::io("extending a dead segment", e))?;
        }
        let map: MmapRaw = MmapOptions::new()
            .len(HEADER_SIZE)
            .map_raw(old)
            .map_err(|e| Error::io("mapping a dead segment", e))?;
        // SAFETY: the mapping is page-aligned and HEADER_SIZE bytes long, so
        // word REPLACER (bytes 88..96) is inside it and 8-aligned; it lives
        // until the end of this function. Other writers change it only with
        // atomic operations, and readers never write to the file.
        let word = unsafe { &*map.as_ptr().add(header::REPLACER * 8).cast::<AtomicU64>() };
        // Acquire pairs with the AcqRel exchange of the claim's holder.
        let holder = word.load(Acquire);
        if holder != 0 {
            if let Some(pid) = live_claimer(holder, self.segment().name()) {
                return Ok(Claim::Taken(pid));
            }
        }
        // Named before claiming: whoever sees the claim can find us alive.
        self.name_temporarily()?;
        match word.compare_exchange(holder, self.token, AcqRel, Acquire) {
            Ok(_) => Ok(Claim::Won),
            Err(_) => Ok(Claim::Lost),
        }
    }

    /// Gives the segment its temporary name (once) and returns it.
    fn name_temporarily(&mut self) -> Result<PathBuf> {
        if let Some(temp) = &self.temp_path {
            return Ok(temp.clone());
        }
        let dir = self
            .segment()
            .path()
            .parent()
            .expect("segment path has a directory");
        let temp = temp_path(dir, self.token, self.segment().name());
        link_unnamed(self.segment().file(), &temp)
            .map_err(|e| Error::io(format!("naming {}", temp.display()), e))?;
        self.temp_path = Some(temp.clone());
        Ok(temp)
    }

    fn writer_exists(&self, pid: u32) -> Error {
        Error::WriterExists {
            name: self.segment().name().to_string(),
            pid,
        }
    }

    /// The installed segment; removes the temporary name if one is left (it
    /// holds the dead segment swapped out, or a second name of ours).
    fn finish(mut self) -> Segment {
        if let Some(temp) = self.temp_path.take() {
            let _ = std::fs::remove_file(temp);
        }
        self.segment.take().expect("present until installed")
    }

    fn segment(&self) -> &Segment {
        self.segment.as_ref().expect("present until installed")
    }
}

impl Drop for PendingSegment {
    fn drop(&mut self) {
        if let Some(temp) = self.temp_path.take() {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// The pid of the writer holding the claim `token` on a dead segment of `name`, if it is alive
/// (its temporary file exists, is ours, and holds a writer lock).
fn live_claimer(token: u64, name: &str) -> Option<u32> {
    let dir = segment_path(name).ok()?.parent()?.to_path_buf();
    let (file, _) = open_existing(&temp_path(&dir, token, name), &[]).ok()??;
    writer_lock_held(&file).then(|| writer_pid_of(&file))
}

/// `.shmframe-tmp.TOKEN.NAME` in `dir`.
fn temp_path(dir: &Path, token: u64, name: &str) -> PathBuf {
    dir.join(format!("{TEMP_PREFIX}{token:016x}.{name}"))
}

/// Removes temporary files and wake files of ours whose writer is dead (no
/// writer lock), and hold files of ours whose reader is dead (no lock): a
/// reader killed while its writer lived leaves its hold file behind, and no
/// reader of that (now gone) segment will ever sweep it.
pub(crate) fn sweep_leftovers(dir: &Path) {
    remove_dead_files_of_ours(dir, &[TEMP_PREFIX, wake::FILE_PREFIX, hold::FILE_PREFIX]);
}

/// The same file opened again, read-write (this process owns it).
fn reopen_writable(file: &File) -> Result<File> {
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    rustix::fs::open(&proc_path, OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
        .map(File::from)
        .map_err(|e| Error::io("opening a dead segment for writing", e))
}

/// Swaps the files named `a` and `b`, atomically.
fn exchange(a: &Path, b: &Path) -> Result<()> {
    rustix::fs::renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)
        .map_err(|e| Error::io(format!("swapping {} into place", a.display()), e))
}

/// A token no other writer will draw (std's hasher keys are random per process).
pub(crate) fn random_token() -> u64 {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seed = (
        std::process::id(),
        COUNTER.fetch_add(1, Relaxed),
        crate::clock::monotonic_ns(),
    );
    std::collections::hash_map::RandomState::new()
        .hash_one(seed)
        .max(1)
}
