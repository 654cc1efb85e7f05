//! Pinning the writer and readers to CPUs.

use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};

/// Where the writer (this process) and its reader children run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpus {
    /// CPU of the writer, if pinned.
    pub writer: Option<usize>,
    /// CPU of every reader, if pinned.
    pub reader: Option<usize>,
}

impl Cpus {
    /// Writer and readers on two different CPUs (the first two this process
    /// may use), or unpinned if there is only one.
    pub fn split() -> Cpus {
        match allowed_cpus().as_slice() {
            [a, b, ..] => Cpus {
                writer: Some(*a),
                reader: Some(*b),
            },
            _ => Cpus {
                writer: None,
                reader: None,
            },
        }
    }

    /// Writer and readers on the same CPU.
    pub fn same() -> Cpus {
        let cpu = allowed_cpus().first().copied();
        Cpus {
            writer: cpu,
            reader: cpu,
        }
    }

    /// Whether writer and readers share one CPU.
    pub fn shared(&self) -> bool {
        self.writer.is_some() && self.writer == self.reader
    }
}

/// The CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    match sched_getaffinity(None) {
        Ok(set) => (0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect(),
        Err(_) => Vec::new(),
    }
}

/// Pins the calling thread to `cpu`; returns a guard that restores the
/// previous affinity when dropped.
pub fn pin(cpu: Option<usize>) -> Result<Pinned, String> {
    let previous = sched_getaffinity(None).map_err(|e| format!("sched_getaffinity: {e}"))?;
    if let Some(cpu) = cpu {
        let mut set = CpuSet::new();
        set.set(cpu);
        sched_setaffinity(None, &set).map_err(|e| format!("pinning to CPU {cpu}: {e}"))?;
    }
    Ok(Pinned { previous })
}

/// Restores the thread's CPU affinity when dropped.
pub struct Pinned {
    previous: CpuSet,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        let _ = sched_setaffinity(None, &self.previous);
    }
}
