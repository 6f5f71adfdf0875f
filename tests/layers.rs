//! The layer rules of docs/architecture.md, held: every top-level module of `src/` has a
//! layer, and a module may name (`crate::…`) only modules of lower layers. An import that
//! runs upward — the store reaching for auth rules, the domain for the sandbox, the console
//! for the store, anything but the binary's entry for HTTP — fails here, naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each module's layer: lower layers know nothing of higher ones.
const LAYERS: &[(&str, u8)] = &[
    // Pure: no I/O, nothing of the crate but each other's types (the domain imports only
    // the domain).
    ("domain", 0),
    ("sql", 0),
    ("datadir", 0),
    ("media", 0),
    // Leaves over the domain: who may see what, the Eve query language, who acted.
    ("scope", 1),
    ("eve", 1),
    ("audit", 1),
    // The resources served and the shared request schemas.
    ("resources", 2),
    ("schemas", 2),
    // The store knows no auth rules, no cases, no console, no HTTP.
    ("store", 3),
    // Services over the store.
    ("jobs", 4),
    ("clocks", 4),
    ("auth", 4),
    ("observe", 4),
    ("backup", 4),
    ("personal", 4),
    ("webhooks", 5),
    ("letters", 5),
    ("tenancy", 5),
    // The case path: the only writer of cases.
    ("cases", 6),
    ("registrar", 7),
    ("sandbox", 7),
    // The application context and the use cases every caller shares.
    ("app", 8),
    ("actions", 9),
    // Callers of the use cases.
    ("seed", 10),
    ("worker", 10),
    ("console", 11),
    ("http", 12),
    // The binary's entry: the composition root.
    ("cli", 13),
];

/// Modules that must not be named by a given module, whatever their layers: the console
/// reads through the API and acts through the use cases, never through the store; admin
/// commands share rules through auth and tenancy, not through the console.
const FORBIDDEN: &[(&str, &str)] = &[("console", "store"), ("cli", "console")];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The modules a file names as `crate::<module>`, outside comments, with the line.
fn named_modules(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((name, n + 1));
            }
            rest = after;
        }
    }
    out
}

#[test]
fn no_module_imports_a_higher_layer() {
    let layers: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = layers.get(module.as_str()) else {
            problems.push(format!(
                "{}: module {module} has no layer in tests/layers.rs (and docs/architecture.md)",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (named, line) in named_modules(&text) {
            if named == module {
                continue;
            }
            match layers.get(named.as_str()) {
                None => problems.push(format!(
                    "{}:{line}: names crate::{named}, which has no layer",
                    file.display()
                )),
                Some(&theirs) if theirs >= own => problems.push(format!(
                    "{}:{line}: {module} (layer {own}) imports {named} (layer {theirs}): upward",
                    file.display()
                )),
                Some(_) => {}
            }
            if FORBIDDEN.contains(&(module.as_str(), named.as_str())) {
                problems.push(format!(
                    "{}:{line}: {module} must not use {named}",
                    file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Nothing but the case path writes a case: outside `src/cases` (and the store, which runs
/// what the case path hands it), no code replaces, inserts or updates a row of `cases`.
#[test]
fn only_the_case_path_writes_a_case() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let writes = [
        "replace(&CASES",
        "replace_changed(&CASES",
        "replace_many(&CASES",
        "insert(&CASES",
        "upsert(&CASES",
        "UPDATE cases",
        "INSERT INTO cases",
        "postpone_case(",
    ];
    let mut problems = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "cases" || module == "store" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for w in writes {
                if code.contains(w) {
                    problems.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "cases written outside src/cases:\n{}",
        problems.join("\n")
    );
}

/// One retry loop: the use cases' `transact`; nothing else retries a conflicting write.
#[test]
fn there_is_one_retry_loop() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("Conflict) => continue") || code.contains("Conflict) if attempt") {
                found.push(format!("{}:{}", file.display(), n + 1));
            }
        }
    }
    assert_eq!(found.len(), 1, "retry-on-conflict loops: {found:?}");
    assert!(found[0].contains("actions/mod.rs"), "{found:?}");
}
