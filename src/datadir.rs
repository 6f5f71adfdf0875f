//! The data dir holds identity numbers, debts, uploaded invoices, signing keys and the sandbox
//! credentials: only the account that runs Indriva may read it. Every command sets the umask
//! to `077` first, so whatever the caller's umask, what Indriva creates (the data dir, the
//! SQLite file, its WAL and shared-memory files, media files and their folders, keys) is
//! `0700` / `0600`. An install made before this, or by hand, is checked when it is opened:
//! anything group- or world-accessible is tightened and named in a warning.

use std::path::{Path, PathBuf};

/// Files the data dir may hold at its top level.
const FILES: &[&str] = &[
    "indriva.db",
    "indriva.db-wal",
    "indriva.db-shm",
    "indriva.db-journal",
    "media-signing.key",
    "sandbox-credentials.json",
];

/// Makes every file and directory this process creates owner-only.
pub fn owner_only_from_now_on() {
    #[cfg(unix)]
    {
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    }
}

/// Tightens the data dir and what it holds to owner-only; returns what was looser, with its
/// mode as found.
pub fn tighten(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut loose = Vec::new();
    #[cfg(unix)]
    {
        tighten_one(dir, 0o700, &mut loose);
        for f in FILES {
            tighten_one(&dir.join(f), 0o600, &mut loose);
        }
        let media = dir.join("media");
        if media.is_dir() {
            tighten_tree(&media, &mut loose);
        }
    }
    loose
}

/// [`tighten`], with a warning naming what was looser.
pub fn check(dir: &Path) {
    let loose = tighten(dir);
    if loose.is_empty() {
        return;
    }
    let shown: Vec<String> = loose
        .iter()
        .take(10)
        .map(|(p, mode)| format!("{} ({mode:o})", p.display()))
        .collect();
    tracing::warn!(
        count = loose.len(),
        paths = %shown.join(", "),
        "the data dir was readable by other users; it and its files are now owner-only (0700/0600)"
    );
}

#[cfg(unix)]
fn tighten_tree(dir: &Path, loose: &mut Vec<(PathBuf, u32)>) {
    tighten_one(dir, 0o700, loose);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => tighten_tree(&path, loose),
            Ok(t) if t.is_file() => tighten_one(&path, 0o600, loose),
            _ => {}
        }
    }
}

#[cfg(unix)]
fn tighten_one(path: &Path, want: u32, loose: &mut Vec<(PathBuf, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.file_type().is_symlink() {
        return;
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        loose.push((path.to_path_buf(), mode));
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(want)) {
            tracing::warn!(path = %path.display(), error = %e, "cannot make owner-only");
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_loose_install_is_tightened_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("data");
        std::fs::create_dir_all(d.join("media/ab")).unwrap();
        for f in ["indriva.db", "indriva.db-wal", "media/ab/invoice.pdf"] {
            std::fs::write(d.join(f), b"x").unwrap();
            std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        for sub in ["", "media", "media/ab"] {
            std::fs::set_permissions(d.join(sub), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let loose = tighten(&d);
        assert_eq!(loose.len(), 6, "{loose:?}");
        assert!(loose.iter().all(|(_, m)| *m == 0o644 || *m == 0o755));
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&d.join("media/ab")), 0o700);
        assert_eq!(mode(&d.join("indriva.db")), 0o600);
        assert_eq!(mode(&d.join("media/ab/invoice.pdf")), 0o600);
        assert!(tighten(&d).is_empty(), "a second look finds nothing");
    }
}
