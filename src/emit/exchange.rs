//! Swapping two folders atomically where the platform can.
//!
//! On Linux, `renameat2(RENAME_EXCHANGE)` swaps two paths in one step: at every
//! instant both names exist, one holding the old folder and the other the new.
//! Elsewhere (or on a Linux file system without the flag) the swap is two
//! renames, and between them the target is missing for a moment; the journal lets
//! the next run put it back (see [`super::write`]).

use std::io;
use std::path::Path;

/// Test-only: set to `1` to make the writer use the two-rename fallback even
/// where exchange works, so tests cover it on Linux.
pub const TEST_NO_EXCHANGE: &str = "SOCKSTACK_TEST_NO_EXCHANGE";

/// Swaps `a` and `b` (both exist) in one atomic step. `Ok(false)` means this
/// platform or file system cannot, and nothing was changed.
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    platform::exchange(a, b)
}

#[cfg(target_os = "linux")]
mod platform {
    use std::ffi::CString;
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
        let a = CString::new(a.as_os_str().as_bytes())?;
        let b = CString::new(b.as_os_str().as_bytes())?;
        // SAFETY: both are valid NUL-terminated paths that live across the call;
        // AT_FDCWD makes relative paths resolve as `rename` does.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            // The file system (or an old kernel) does not support the flag.
            Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP) => Ok(false),
            _ => Err(err),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use std::io;
    use std::path::Path;

    pub fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
        Ok(false)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn exchange_swaps_two_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("f"), "a").unwrap();
        fs::write(b.join("f"), "b").unwrap();
        assert!(
            exchange(&a, &b).unwrap(),
            "ext4 and tmpfs support RENAME_EXCHANGE"
        );
        assert_eq!(fs::read_to_string(a.join("f")).unwrap(), "b");
        assert_eq!(fs::read_to_string(b.join("f")).unwrap(), "a");
    }
}
