//! Durable, atomic file writes: after a crash a reader finds the old file or the new one, never a partial
//! one, and concurrent writers never clobber each other's half-written data.
//!
//! The new content goes to a uniquely named temporary file beside the destination (same directory, so the
//! rename cannot cross filesystems), which is flushed to disk (`fsync`), renamed over the destination
//! (`rename(2)` is atomic on POSIX), and then the directory itself is synced so the rename survives a power
//! loss. This is the sequence described in the ext4/XFS documentation and used by SQLite and git. Two
//! writers each get their own temporary file; the last rename wins, whole.

use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
};

/// A file being written in place of `dest`; nothing is visible at `dest` until [`AtomicFile::commit`].
/// Dropped without a commit, the temporary file is deleted and `dest` is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl AtomicFile {
    /// Starts writing a new version of `dest`. Its directory must exist. The new file keeps the permissions
    /// of the file it replaces, or gets `rw-r--r--` (0644) when there is none — not tempfile's private 0600,
    /// which would silently lock other readers (an indexer, a web server) out of a deployments file.
    ///
    /// Errors: the directory cannot be written (the error names it).
    pub fn create(dest: &Path) -> io::Result<Self> {
        let kept = std::fs::metadata(dest).map(|m| m.permissions()).ok();
        Self::create_with(dest, kept.or_else(|| mode_permissions(0o644)))
    }

    /// As [`AtomicFile::create`], but readable by the owner only (`rw-------`, 0600), whatever the old file
    /// allowed: for files that hold keys.
    ///
    /// Errors: as [`AtomicFile::create`].
    pub fn create_private(dest: &Path) -> io::Result<Self> {
        Self::create_with(dest, mode_permissions(0o600))
    }

    fn create_with(dest: &Path, permissions: Option<std::fs::Permissions>) -> io::Result<Self> {
        let dir = parent(dest);
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        if let Some(permissions) = permissions {
            builder.permissions(permissions);
        }
        let tmp = builder.tempfile_in(dir).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create a temporary file in {}: {e}", dir.display()))
        })?;
        Ok(Self { tmp, dest: dest.to_path_buf() })
    }

    /// The temporary file, to write into.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Where the temporary file is (for tools that write by path).
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// The destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Syncs the data, renames it over the destination and syncs the directory.
    ///
    /// Errors: the sync or the rename failed; the destination then still holds its old content.
    pub fn commit(mut self) -> io::Result<()> {
        self.tmp.as_file_mut().flush()?;
        self.tmp.as_file().sync_all()?;
        let dest = self.dest;
        self.tmp.persist(&dest).map_err(|e| {
            io::Error::new(e.error.kind(), format!("cannot rename into {}: {}", dest.display(), e.error))
        })?;
        sync_dir(parent(&dest))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file().flush()
    }
}

/// Replaces `dest` with `bytes` atomically and durably (see the module docs).
///
/// Errors: the directory cannot be written, or the disk is full; `dest` is then unchanged.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(dest)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Replaces `dest` with `bytes` atomically and durably, readable by the owner only (0600): for key files.
///
/// Errors: as [`write_atomic`].
pub fn write_atomic_private(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create_private(dest)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Unix permission bits; `None` elsewhere (Windows has only a read-only flag, and tempfile's default fits).
fn mode_permissions(mode: u32) -> Option<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        None
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `fsync` of a directory makes a rename inside it durable (POSIX leaves directory entries in the page cache
/// otherwise). Windows cannot open directories this way and orders renames itself.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        n.sort();
        n
    }

    #[test]
    fn replaces_the_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.json");
        write_atomic(&dest, b"old").unwrap();
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["out.json"]);
    }

    #[test]
    fn an_abandoned_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.json");
        write_atomic(&dest, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&dest).unwrap();
            f.write_all(b"half of the new cont").unwrap();
            assert!(f.temp_path().exists());
            // Dropped: the writer failed or panicked midway.
        }
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["out.json"]);
    }

    #[test]
    fn concurrent_writers_never_mix_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("shared.bin");
        let versions: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 256 * 1024]).collect();
        // Every writer opens its temporary file before any commits, so all eight are in flight at once.
        let mut open: Vec<_> = versions.iter().map(|_| AtomicFile::create(&dest).unwrap()).collect();
        let temps: std::collections::HashSet<_> = open.iter().map(|f| f.temp_path().to_path_buf()).collect();
        assert_eq!(temps.len(), versions.len(), "each writer has its own temporary file");
        std::thread::scope(|s| {
            for (file, bytes) in open.drain(..).zip(&versions) {
                s.spawn(move || {
                    let mut file = file;
                    file.write_all(bytes).unwrap();
                    file.commit().unwrap();
                });
            }
        });
        let got = std::fs::read(&dest).unwrap();
        assert!(versions.contains(&got), "the file is one writer's whole version");
        assert_eq!(names(dir.path()), ["shared.bin"]);
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept_or_sensible_never_silently_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("deployments.json");
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(mode(&dest), 0o644, "a new file is readable by others, like std::fs::write under umask 022");
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&dest, b"newer").unwrap();
        assert_eq!(mode(&dest), 0o640, "a replaced file keeps its permissions");
        let keys = dir.path().join("accounts.json");
        write_atomic_private(&keys, b"{}").unwrap();
        assert_eq!(mode(&keys), 0o600);
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("no/such/dir/f"), b"x").unwrap_err();
        assert!(err.to_string().contains("no/such/dir"), "{err}");
    }
}
