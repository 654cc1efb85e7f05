//! Who holds frames of a stream: the readers' hold files, read for reports
//! (`shmframe info`), never for decisions.
//!
//! Hold files are readers' own files (`hold_file.rs`), so what they say is
//! only what their readers claim: the pid is shown as given, and an entry
//! counts as held only if the writer granted its ticket.

use crate::layout::{hold, ticket_word};
use crate::liveness::writer_lock_held;
use crate::protocol::Region;
use crate::sync::Ordering::Acquire;
use rustix::fs::{Mode, OFlags};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// One reader's hold file, as it reads now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The pid its reader wrote into it (as claimed: not checked).
    pub pid: u32,
    /// The user owning the file (this the kernel vouches for).
    pub uid: u32,
    /// Whether its reader is alive (holds the file's lock).
    pub alive: bool,
    /// Holds the writer granted it (tickets naming its entries).
    pub granted: usize,
    /// Granted entries naming a frame now: frames held in place.
    pub holding: usize,
}

/// The hold files named `prefix...` in `dir`, for the segment of `region`;
/// files that cannot be read, or are not hold files, are left out.
pub(crate) fn holders(dir: &Path, prefix: &str, region: &Region<'_>) -> Vec<Holder> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let tickets: Vec<u64> = (0..region.geometry().holds)
        // Pairs with the writer's Release store of a ticket.
        .map(|t| region.ticket(t).load(Acquire))
        .collect();
    let mut found: Vec<Holder> = entries
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(prefix))
        .filter_map(|entry| read_holder(&entry.path(), &tickets))
        .collect();
    found.sort_by_key(|holder| holder.pid);
    found
}

/// One hold file read whole (a `read`, not a mapping: its reader may change
/// it meanwhile, which only changes what this report says).
fn read_holder(path: &Path, tickets: &[u64]) -> Option<Holder> {
    // Non-blocking and no symlinks: a FIFO or link planted under the name is skipped.
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut file = File::from(fd);
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() < hold::FILE_SIZE as u64 {
        return None;
    }
    let mut bytes = [0u8; hold::FILE_SIZE];
    file.read_exact(&mut bytes).ok()?;
    let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    if word(0) != hold::MAGIC {
        return None;
    }
    let granted: Vec<usize> = (0..hold::MAX_ENTRIES)
        .filter(|&e| ticket_word(meta.ino(), e).is_some_and(|t| tickets.contains(&t)))
        .collect();
    Some(Holder {
        pid: word(hold::PID) as u32,
        uid: meta.uid(),
        alive: writer_lock_held(&file),
        granted: granted.len(),
        holding: granted
            .iter()
            .filter(|&&e| word(hold::FIRST_ENTRY + e) != 0)
            .count(),
    })
}
