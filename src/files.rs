//! The files of a stream, checked before use: opening one that may be hostile
//! (no symlinks, regular files of a trusted owner only), linking an unnamed
//! file under its name, and telling whether a name still names a file.
//!
//! The segment, the wake file and the install steps all build on these; this
//! module depends on none of them.

use crate::error::{Error, Result};
use crate::liveness::writer_lock_held;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Opens an existing file with `access`, checked like a segment; `None` if it vanished.
pub(crate) fn open_checked(
    path: &Path,
    trusted_uids: &[u32],
    access: OFlags,
) -> Result<Option<(File, u64)>> {
    match rustix::fs::open(
        path,
        access | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
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

/// Whether `path` names the inode of `file`; `None` if either cannot be examined.
pub(crate) fn same_inode(file: &File, path: &Path) -> Option<bool> {
    let (mine, now) = (rustix::fs::fstat(file).ok()?, rustix::fs::lstat(path).ok()?);
    Some((mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino))
}

/// Links the unnamed (or named) file `file` at `path`; fails if `path` exists.
pub(crate) fn link_unnamed(file: &File, path: &Path) -> rustix::io::Result<()> {
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    match rustix::fs::linkat(CWD, &proc_path, CWD, path, AtFlags::SYMLINK_FOLLOW) {
        // Without /proc, linking by descriptor needs CAP_DAC_READ_SEARCH.
        Err(Errno::NOENT) if !Path::new("/proc/self/fd").exists() => {
            rustix::fs::linkat(file, "", CWD, path, AtFlags::EMPTY_PATH)
        }
        other => other,
    }
}

/// Removes the files in `dir` whose names start with one of `prefixes`, that
/// are regular files of our own user and whose lock is free (the writer or
/// reader that made them is gone). Other users' files are theirs to remove
/// (the directory is sticky). Such names are unique, so a file found dead
/// cannot come back to life.
pub(crate) fn remove_dead_files_of_ours(dir: &Path, prefixes: &[&str]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !prefixes.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let path = entry.path();
        if let Ok(Some((file, _))) = open_checked(&path, &[], OFlags::RDONLY) {
            if !writer_lock_held(&file) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}
