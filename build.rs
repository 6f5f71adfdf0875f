//! Embeds the SQL migrations (`migrations/{sqlite,postgres}/NNNN_name.sql`) in the binary as
//! `$OUT_DIR/migrations.rs`, read by `src/store/migrations.rs`. This is what
//! `sqlx::migrate!` does; doing it here keeps sqlx's proc-macro crates, which compile a second
//! copy of sqlx and of SQLite's C source for the build host, out of the build.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut out = String::new();
    for dialect in ["sqlite", "postgres"] {
        let dir = Path::new(&root).join("migrations").join(dialect);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .filter_map(|p| Some((p.file_name()?.to_string_lossy().to_string(), p)))
            .map(|(name, p)| {
                let (version, rest) = name
                    .split_once('_')
                    .unwrap_or_else(|| panic!("{name}: expected NNNN_description.sql"));
                let version: i64 = version
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}: the prefix is not a number"));
                // As sqlx names it: the file name after the version, `_` read as a space.
                let description = rest.trim_end_matches(".sql").replace('_', " ");
                (version, description, p.display().to_string())
            })
            .collect();
        files.sort();
        for pair in files.windows(2) {
            assert!(
                pair[0].0 != pair[1].0,
                "two migrations numbered {}",
                pair[0].0
            );
        }
        out.push_str(&format!(
            "pub(super) const {}: &[(i64, &str, &str)] = &[\n",
            dialect.to_uppercase()
        ));
        for (version, description, path) in files {
            out.push_str(&format!(
                "    ({version}, {description:?}, include_str!({path:?})),\n"
            ));
        }
        out.push_str("];\n");
    }
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("migrations.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}
