//! Uploaded files (amili-api.md §4.5): stored through the `object_store` crate — a folder in
//! the data dir by default, S3 / GCS / Azure when `INDRIVA_MEDIA_URL` names a bucket — and
//! handed out as signed, expiring URLs that this server verifies and serves itself.

use std::path::Path as FsPath;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use object_store::path::Path;
use object_store::ObjectStore;
use sha2::Sha256;

/// The file types a client may upload, recognised by their first bytes (never by the name
/// or the declared type).
pub const ALLOWED: [&str; 5] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/bmp",
];

/// The content type of a file from its magic bytes, if it is one Indriva accepts.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.starts_with(b"BM") && bytes.len() >= 26 {
        Some("image/bmp")
    } else {
        None
    }
}

/// How long a signed URL is valid.
pub const URL_TTL_SECS: i64 = 3600;

/// Signs and checks download URLs: HMAC-SHA256 over the object path, the expiry and the
/// content type served.
#[derive(Clone)]
pub struct UrlSigner {
    key: Arc<[u8]>,
}

impl UrlSigner {
    pub fn new(key: &[u8]) -> UrlSigner {
        UrlSigner { key: key.into() }
    }

    fn mac(&self, path: &str, expires: i64, content_type: &str) -> String {
        // HMAC takes keys of any length.
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        m.update(format!("{path}\n{expires}\n{content_type}").as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// The query string of a URL for `path` valid until `expires`.
    pub fn query(&self, path: &str, expires: i64, content_type: &str) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("expires", &expires.to_string())
            .append_pair("content_type", content_type)
            .append_pair("signature", &self.mac(path, expires, content_type))
            .finish()
    }

    /// Whether a URL's parameters are the ones this server signed, and not expired.
    pub fn verify(
        &self,
        path: &str,
        expires: i64,
        content_type: &str,
        signature: &str,
        now: i64,
    ) -> bool {
        now <= expires
            && ct_eq(
                self.mac(path, expires, content_type).as_bytes(),
                signature.as_bytes(),
            )
    }
}

/// Constant-time comparison, so a signature cannot be guessed byte by byte.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Where files go, and how their URLs are signed.
#[derive(Clone)]
pub struct Media {
    pub store: Arc<dyn ObjectStore>,
    /// Prefix inside the store (the path part of `INDRIVA_MEDIA_URL`).
    pub prefix: Path,
    pub signer: UrlSigner,
    /// Largest upload accepted, in bytes.
    pub max_bytes: usize,
}

impl Media {
    /// Opens the media store: `url` (`s3://bucket/prefix`, `gs://…`, `az://…`, `file:///…`)
    /// or a `media` folder in the data dir. Cloud credentials come from the usual
    /// environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`). The URL-signing key is kept
    /// in `<data dir>/media-signing.key` (created on first start, mode 0600); every node
    /// serving the same media needs the same key.
    pub fn open(url: Option<&str>, data_dir: &FsPath, max_bytes: usize) -> anyhow::Result<Media> {
        let (store, prefix): (Arc<dyn ObjectStore>, Path) = match url {
            Some(u) => {
                let parsed = url::Url::parse(u)
                    .map_err(|e| anyhow::anyhow!("INDRIVA_MEDIA_URL is not a URL: {e}"))?;
                let opts = std::env::vars().filter_map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    ["aws_", "google_", "azure_"]
                        .iter()
                        .any(|p| lower.starts_with(p))
                        .then_some((lower, v))
                });
                let (s, p) = object_store::parse_url_opts(&parsed, opts)
                    .map_err(|e| anyhow::anyhow!("cannot open media store {u}: {e}"))?;
                (Arc::from(s), p)
            }
            None => {
                let dir = data_dir.join("media");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
                // A deleted file's folder goes with it when empty (a reset's thousands of
                // case folders would otherwise stay).
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", dir.display()))?
                    .with_automatic_cleanup(true);
                (Arc::new(fs), Path::default())
            }
        };
        let key = signing_key(&data_dir.join("media-signing.key"))?;
        Ok(Media {
            store,
            prefix,
            signer: UrlSigner::new(&key),
            max_bytes,
        })
    }

    /// An in-memory store (tests).
    pub fn in_memory(max_bytes: usize) -> Media {
        Media {
            store: Arc::new(object_store::memory::InMemory::new()),
            prefix: Path::default(),
            signer: UrlSigner::new(b"test key"),
            max_bytes,
        }
    }

    /// The full object path of a key.
    pub fn path(&self, key: &str) -> Path {
        let mut p = self.prefix.clone();
        for part in key.split('/') {
            p = p.child(part);
        }
        p
    }
}

/// Reads the signing key, creating a random one (mode 0600) if there is none.
fn signing_key(path: &FsPath) -> anyhow::Result<Vec<u8>> {
    if let Ok(hex_key) = std::fs::read_to_string(path) {
        return hex::decode(hex_key.trim())
            .map_err(|e| anyhow::anyhow!("{} is not a hex key: {e}", path.display()));
    }
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let key: [u8; 32] = rand::random();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    f.write_all(hex::encode(key).as_bytes())?;
    Ok(key.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_come_from_the_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some("image/png")
        );
        assert_eq!(sniff(b"GIF89a......"), Some("image/gif"));
        assert_eq!(
            sniff(&[
                b'B', b'M', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
            ]),
            Some("image/bmp")
        );
        assert_eq!(sniff(b"MZ\x90\x00 an executable"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn signatures_cover_path_expiry_and_type() {
        let s = UrlSigner::new(b"k");
        let q = s.query("cases/a", 100, "application/pdf");
        let sig = q.rsplit("signature=").next().unwrap();
        assert!(s.verify("cases/a", 100, "application/pdf", sig, 100));
        assert!(
            !s.verify("cases/a", 100, "application/pdf", sig, 101),
            "expired"
        );
        assert!(!s.verify("cases/b", 100, "application/pdf", sig, 0));
        assert!(!s.verify("cases/a", 101, "application/pdf", sig, 0));
        assert!(!s.verify("cases/a", 100, "text/html", sig, 0));
        assert!(!UrlSigner::new(b"other").verify("cases/a", 100, "application/pdf", sig, 0));
    }
}
