//! A reader's hold file: where it records the frames it uses in place.
//!
//! The segment is read-only for readers, so a reader that holds frames says
//! so in a file of its own, `.shmframe-hold.TOKEN.SUFFIX` beside the
//! segment (TOKEN as in the wake file's name), which it alone may write
//! (mode 0644: the writer, perhaps another user, reads it). Because it is the
//! reader's own file, no reader of another user can clear or rewrite its
//! entries; see `holds.rs` for how the writer finds these files and decides
//! which entries it honours (tickets), and `protocol` (**Holds**) for the
//! handshake on one entry.
//!
//! The file is created unnamed, sized, stamped and locked (the lock says the
//! reader is alive, as the writer's lock does for a segment) before it is
//! linked under its name, so the writer never sees a half-made file. Its
//! mapping is protected against truncation like the wake file's; only a
//! process of the reader's own user can truncate it, and that user can
//! already do anything to the reader.

use crate::error::{Error, Result};
use crate::files::{link_unnamed, remove_dead_files_of_ours};
use crate::install::random_token;
use crate::layout::{hold, ticket_word};
use crate::liveness::hold_writer_lock;
use crate::protocol::Region;
use crate::sigbus::{self, Protected};
use crate::sync::{AtomicU64, Ordering::*};
use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;

/// The name prefix of the hold files of the segment whose wake token is `token`.
pub(crate) fn hold_prefix(token: u64) -> String {
    format!("{}{token:016x}.", hold::FILE_PREFIX)
}

/// A reader's mapped hold file.
pub(crate) struct HoldFile {
    // Field order matters for drop: stop protecting the mapping, unmap it,
    // then close the file (which drops the lock).
    _protected: Protected,
    map: MmapRaw,
    _file: File,
    path: PathBuf,
    inode: u64,
    /// The process that made the file: a child forked meanwhile that drops
    /// its copy must not take the name away from its parent's live file.
    creator: u32,
    /// Entries some `HeldFrame` of this reader uses (bit `e` for entry `e`);
    /// taken and given back with atomic bit operations, as a reader may be
    /// shared between threads.
    in_use: AtomicU32,
}

impl HoldFile {
    /// Creates this reader's hold file for the segment of `token` in `dir`,
    /// asking the writer for `wanted` entries.
    pub(crate) fn create(dir: &Path, token: u64, wanted: usize) -> Result<HoldFile> {
        // Files our user's killed readers left behind.
        remove_dead_files_of_ours(dir, &[&hold_prefix(token)]);
        let fd = rustix::fs::open(
            dir,
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| Error::io(format!("creating a hold file in {}", dir.display()), e))?;
        let file = File::from(fd);
        // Readable by the writer, whoever it runs as; writable by us alone.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(0o644))
            .map_err(|e| Error::io("setting the hold file's mode", e))?;
        file.set_len(hold::FILE_SIZE as u64)
            .map_err(|e| Error::io("sizing the hold file", e))?;
        // Nobody else can reach an unnamed file: this cannot conflict.
        hold_writer_lock(&file).map_err(|e| Error::io("locking the hold file", e))?;
        let inode = file
            .metadata()
            .map_err(|e| Error::io("inspecting the hold file", e))?
            .ino();
        let map = MmapOptions::new()
            .len(hold::FILE_SIZE)
            .map_raw(&file)
            .map_err(|e| Error::io("mapping the hold file", e))?;
        let mut hold_file = HoldFile {
            _protected: sigbus::protect(map.as_ptr(), hold::FILE_SIZE, true),
            map,
            _file: file,
            path: PathBuf::new(),
            inode,
            creator: std::process::id(),
            in_use: AtomicU32::new(0),
        };
        // Not yet visible to anyone: Relaxed.
        hold_file.word(0).store(hold::MAGIC, Relaxed);
        let wanted = wanted.min(hold::MAX_ENTRIES) as u64;
        hold_file.word(hold::WANTED).store(wanted, Relaxed);
        hold_file
            .word(hold::PID)
            .store(u64::from(std::process::id()), Relaxed);
        let prefix = hold_prefix(token);
        for _ in 0..16 {
            let path = dir.join(format!("{prefix}{:016x}", random_token()));
            match link_unnamed(&hold_file._file, &path) {
                Ok(()) => {
                    hold_file.path = path;
                    return Ok(hold_file);
                }
                // Someone took that name (perhaps to get in our way): another.
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(Error::io(format!("naming {}", path.display()), e)),
            }
        }
        Err(Error::io(
            "naming a hold file",
            std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        ))
    }

    /// Entry `entry`'s word.
    #[inline]
    pub(crate) fn entry(&self, entry: usize) -> &AtomicU64 {
        self.word(hold::FIRST_ENTRY + entry)
    }

    /// Takes an entry the writer honours (it gave this file a ticket for it)
    /// and no held frame of this reader uses; `None` if there is none.
    pub(crate) fn take_entry(&self, region: &Region<'_>) -> Option<usize> {
        let mut granted = (0..region.geometry().holds)
            // Pairs with the writer's Release store of the ticket, made after
            // it started honouring the entry.
            .map(|ticket| region.ticket(ticket).load(Acquire))
            .filter_map(|word| {
                (0..hold::MAX_ENTRIES).find(|&e| ticket_word(self.inode, e) == Some(word))
            });
        // Only this process's threads use `in_use`: Relaxed. An entry is
        // ours if its bit was clear before we set it.
        granted.find(|&entry| self.in_use.fetch_or(1 << entry, Relaxed) & 1 << entry == 0)
    }

    /// How many entries the writer honours for this file now.
    pub(crate) fn granted(&self, region: &Region<'_>) -> usize {
        (0..region.geometry().holds)
            .map(|ticket| region.ticket(ticket).load(Acquire))
            .filter(|&word| {
                (0..hold::MAX_ENTRIES).any(|e| ticket_word(self.inode, e) == Some(word))
            })
            .count()
    }

    /// Lets go of entry `entry`: the writer may reuse its slot from now on.
    pub(crate) fn release(&self, entry: usize) {
        // Pairs with the writer's Acquire loads of the entries: our reads of
        // the held pixels happen before any store it makes to that slot.
        self.entry(entry).store(0, Release);
        self.in_use.fetch_and(!(1 << entry), Relaxed);
    }

    /// Entries in use by held frames.
    pub(crate) fn holding(&self) -> usize {
        self.in_use.load(Relaxed).count_ones() as usize
    }

    #[inline]
    fn word(&self, index: usize) -> &AtomicU64 {
        assert!(index < hold::FILE_SIZE / 8);
        // SAFETY: the mapping is page-aligned and `FILE_SIZE` bytes long, so
        // word `index` is inside it and 8-aligned; it lives as long as
        // `self`. Only this process writes the file (its mode gives others
        // read only); truncation by our own user is covered by `sigbus`.
        unsafe { &*self.map.as_ptr().add(index * 8).cast::<AtomicU64>() }
    }
}

impl Drop for HoldFile {
    fn drop(&mut self) {
        if std::process::id() == self.creator {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
