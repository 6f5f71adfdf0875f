//! `indriva backup` and `indriva restore`: one archive (tar) of everything an install holds,
//! taken while the server runs.
//!
//! - SQLite: the database is copied with `VACUUM INTO`, which reads it in one transaction: the
//!   copy is the database as of one moment, whatever is being written meanwhile, and compact.
//! - The data dir's media files (uploaded invoices, letters; written whole and renamed into
//!   place, so never half a file), the media signing key and the sandbox credentials.
//! - PostgreSQL: the database is backed up with `pg_dump` (README, "Backups"); the archive
//!   then holds the media and keys only.
//!
//! `restore` unpacks an archive into an empty data dir and opens the database, which checks it
//! and runs any migrations a newer binary has.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::store::Store;

/// What is in the data dir besides the database.
const FILES: &[&str] = &["media-signing.key", "sandbox-credentials.json"];
const MANIFEST: &str = "indriva-backup.json";
const DATABASE: &str = "indriva.db";

pub struct Report {
    pub database: bool,
    pub media_files: u64,
    pub bytes: u64,
}

/// Writes the archive `to` (which must not exist) from the store and the data dir.
pub async fn backup(store: &Store, data_dir: &Path, to: &Path) -> anyhow::Result<Report> {
    if to.exists() {
        anyhow::bail!("{} exists; a backup never overwrites a file", to.display());
    }
    // Side files next to the archive, removed whatever happens.
    let snapshot = Scratch(with_suffix(to, ".db.partial"));
    let partial = Scratch(with_suffix(to, ".partial"));
    let _ = std::fs::remove_file(&snapshot.0);
    let database = store.snapshot_into(&snapshot.0).await?;
    let mut tar = tar::Builder::new(
        std::fs::File::create(&partial.0)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", partial.0.display()))?,
    );
    tar.mode(tar::HeaderMode::Deterministic);
    let manifest = json!({
        "indriva": env!("CARGO_PKG_VERSION"),
        "created": chrono::Utc::now().to_rfc3339(),
        "database": if database { "sqlite" } else { "postgresql: back it up with pg_dump" },
    });
    let text = serde_json::to_vec_pretty(&manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o600);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, text.as_slice())?;
    if database {
        tar.append_path_with_name(&snapshot.0, DATABASE)?;
    }
    for f in FILES {
        let p = data_dir.join(f);
        if p.is_file() {
            tar.append_path_with_name(&p, f)?;
        }
    }
    let mut media_files = 0;
    let media = data_dir.join("media");
    if media.is_dir() {
        media_files = append_tree(&mut tar, &media, Path::new("media"))?;
    }
    tar.into_inner()?.sync_all()?;
    std::fs::rename(&partial.0, to)?;
    let bytes = std::fs::metadata(to)?.len();
    Ok(Report {
        database,
        media_files,
        bytes,
    })
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// A side file removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn append_tree(
    tar: &mut tar::Builder<std::fs::File>,
    dir: &Path,
    name: &Path,
) -> anyhow::Result<u64> {
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let (path, inner) = (e.path(), name.join(e.file_name()));
        let t = e.file_type()?;
        if t.is_dir() {
            n += append_tree(tar, &path, &inner)?;
        } else if t.is_file() && !e.file_name().to_string_lossy().starts_with('.') {
            // object_store writes `.name#tmp` files and renames them: skip those.
            tar.append_path_with_name(&path, &inner)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Unpacks `from` into `data_dir`, which must be empty or missing; returns what it held.
pub fn unpack(from: &Path, data_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
        anyhow::bail!(
            "{} is not empty; restore only into an empty data dir",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    let file = std::fs::File::open(from)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", from.display()))?;
    let mut archive = tar::Archive::new(file);
    archive.set_preserve_permissions(false);
    // The archive's headers say 0644 (deterministic mode); what is unpacked is personal data
    // and keys: owner-only, as everything Indriva writes (directories come from the umask).
    archive.set_mask(0o077);
    let mut manifest = false;
    let mut out = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_path_buf();
        if path == Path::new(MANIFEST) {
            manifest = true;
            continue;
        }
        // `unpack_in` refuses paths that would leave the data dir.
        if !entry.unpack_in(data_dir)? {
            anyhow::bail!("{} tries to write outside the data dir", path.display());
        }
        out.push(path);
    }
    if !manifest {
        anyhow::bail!("{} is not an Indriva backup", from.display());
    }
    Ok(out)
}
