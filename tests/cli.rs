//! The real binary: `indriva seed` and `indriva serve` with their flags and environment
//! variables, spoken to over HTTP.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_indriva");

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A minimal HTTP/1.1 GET; returns (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn wait_ready(port: u16, server: &mut Server) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("server exited early: {status}");
        }
        if get(port, "/cases?max_results=1").is_some_and(|(s, _)| s == 200) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not become ready");
}

fn total(body: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["_meta"]["total"].as_i64().unwrap()
}

#[test]
fn seed_then_serve_from_the_same_data_dir_with_flags() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args(["seed", "--cases", "250", "--data-dir"])
        .arg(&data)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("seeded 250 cases for account 674dbeaf08847b9501cc9132"),
        "{stdout}"
    );
    assert!(
        data.join("indriva.db").exists(),
        "SQLite file in the data dir"
    );

    let port = free_port();
    let mut server = Server(
        Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(&data)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);
    let (status, body) = get(port, "/cases").unwrap();
    assert_eq!(status, 200);
    assert_eq!(total(&body), 250);
    let (status, body) = get(
        port,
        "/cases?where=%7B%22creditor%22%3A%22674dbeb208847b9501cc9138%22%7D",
    )
    .unwrap();
    assert_eq!(status, 200);
    let sandbox_share = total(&body);
    assert!(
        sandbox_share > 50 && sandbox_share < 250,
        "the sandbox creditor has the largest share: {sandbox_share}"
    );
    let (status, body) = get(port, "/cases/00000000000000000000000g").unwrap();
    assert_eq!(status, 404);
    assert!(body.contains("\"_status\":\"ERR\""));
}

#[test]
fn serve_reads_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server(
        Command::new(BIN)
            .arg("serve")
            .env("INDRIVA_BIND", format!("127.0.0.1:{port}"))
            .env("INDRIVA_DATA_DIR", dir.path().join("envdata"))
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);
    assert!(dir.path().join("envdata/indriva.db").exists());
    let (_, body) = get(port, "/cases").unwrap();
    assert_eq!(total(&body), 0, "a fresh database has no cases");
}

#[test]
fn bad_arguments_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "seed",
            "--cases",
            "5",
            "--account",
            "not-an-id",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--account must be a 24-character hex id")
    );
    let out = Command::new(BIN)
        .args([
            "seed",
            "--cases",
            "5",
            "--account",
            "000000000000000000000001",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}
