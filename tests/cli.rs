//! The real binary: `indriva seed` and `indriva serve` with their flags and environment
//! variables, the sandbox credentials file, both authentication methods over real HTTP, and
//! what the server writes to its log.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_indriva");

/// The database a test's commands use for a data dir: its SQLite file, or on the PostgreSQL
/// leg (`INDRIVA_TEST_DATABASE_URL`) a fresh schema of its own, the same for every command
/// the test runs on that data dir.
fn database_for(data: &Path) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static URLS: LazyLock<Mutex<HashMap<std::path::PathBuf, String>>> =
        LazyLock::new(Default::default);
    if crate::common::backend() != "postgres" {
        return None;
    }
    let mut urls = URLS.lock().unwrap();
    let url = urls.entry(data.to_path_buf()).or_insert_with(|| {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(crate::common::database_url(data))
    });
    Some(url.clone())
}

/// Runs a command on the test's database for `data` (see [`database_for`]).
trait OnTestDatabase {
    fn on_test_database(&mut self, data: &Path) -> &mut Self;
}

impl OnTestDatabase for Command {
    fn on_test_database(&mut self, data: &Path) -> &mut Self {
        match database_for(data) {
            Some(url) => self.env("DATABASE_URL", url),
            None => self.env_remove("DATABASE_URL"),
        }
    }
}

/// Whether the test's commands use the SQLite file in the data dir.
fn on_sqlite() -> bool {
    crate::common::backend() == "sqlite"
}

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

/// A minimal HTTP/1.1 request; returns (status, body).
fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    // A server that refuses a large body (413) may answer and close before the body is
    // written: a failed write still leaves its answer to read, and a reset after the
    // answer keeps what arrived.
    let _ = write!(s, "{head}\r\n{body}");
    let mut bytes = Vec::new();
    let _ = s.read_to_end(&mut bytes);
    let raw = String::from_utf8_lossy(&bytes);
    let status = raw.split(' ').nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn get(port: u16, path: &str, token: &str) -> (u16, String) {
    request(port, "GET", path, &[("X-API-Key", token)], "").expect("request")
}

/// Ready once it answers an unauthenticated request with the 401 envelope.
fn wait_ready(port: u16, server: &mut Server) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("server exited early: {status}");
        }
        if request(port, "GET", "/cases", &[], "").is_some_and(|(s, _)| s == 401) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not become ready");
}

fn total(body: &str) -> i64 {
    let v: Value = serde_json::from_str(body).unwrap();
    v["_meta"]["total"].as_i64().unwrap()
}

fn credentials(data: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data.join("sandbox-credentials.json")).unwrap())
        .unwrap()
}

/// A token via the plain api-code method (allowed from loopback by default).
fn token_by_api_code(port: u16, data: &Path) -> String {
    let body = json!({"api_code": credentials(data)["api_code"]}).to_string();
    let (status, resp) = request(
        port,
        "POST",
        "/authenticates/api-code",
        &[("Content-Type", "application/json")],
        &body,
    )
    .unwrap();
    assert_eq!(status, 200, "{resp}");
    serde_json::from_str::<Value>(&resp).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn sign(sk: &p256::ecdsa::SigningKey, claims: &Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use p256::ecdsa::signature::Signer;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
    );
    let sig: p256::ecdsa::Signature = sk.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[test]
fn seed_then_serve_with_the_sandbox_credentials_and_nothing_secret_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .args(["seed", "--cases", "250", "--data-dir"])
        .arg(&data)
        .on_test_database(&data)
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
    // A clean end: no warning about the checkpoint at close, and no colour codes in a log
    // that is not a terminal (issue 24 item 7).
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("WARN"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "colour codes in a piped log: {stderr:?}"
    );
    assert_eq!(
        data.join("indriva.db").exists(),
        on_sqlite(),
        "the SQLite file in the data dir, unless on PostgreSQL"
    );

    // The sandbox credentials file: owner-only, with every field a client needs.
    let creds_path = data.join("sandbox-credentials.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&creds_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let creds = credentials(&data);
    for field in [
        "api_code",
        "private_key_pem",
        "algorithm",
        "account",
        "creditor",
    ] {
        assert!(creds[field].is_string(), "{field} in the credentials file");
    }
    assert_eq!(creds["algorithm"], "ES256");
    assert_eq!(creds["account"], "674dbeaf08847b9501cc9132");
    assert_eq!(creds["creditor"], "674dbeb208847b9501cc9138");

    let port = free_port();
    let log = dir.path().join("server.log");
    let mut server = Server(
        Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(&data)
            .on_test_database(&data)
            .env("INDRIVA_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);

    // The JWT method with the sandbox's own private key, as the seeds' examples do.
    use p256::pkcs8::DecodePrivateKey;
    let sk = p256::ecdsa::SigningKey::from_pkcs8_pem(creds["private_key_pem"].as_str().unwrap())
        .unwrap();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let jwt = sign(&sk, &json!({"api_code": creds["api_code"], "exp": exp}));
    let (status, body) = request(
        port,
        "GET",
        "/authenticates/api-code",
        &[("X-API-Key", &jwt)],
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, body) = get(port, "/cases", &token);
    assert_eq!(status, 200);
    assert_eq!(total(&body), 250);
    let (status, body) = get(
        port,
        "/cases?where=%7B%22creditor%22%3A%22674dbeb208847b9501cc9138%22%7D",
        &token,
    );
    assert_eq!(status, 200);
    let sandbox_share = total(&body);
    assert!(
        sandbox_share > 50 && sandbox_share < 250,
        "the sandbox creditor has the largest share: {sandbox_share}"
    );
    let (status, body) = get(port, "/cases/00000000000000000000000g", &token);
    assert_eq!(status, 404);
    assert!(body.contains("\"_status\":\"ERR\""));
    // The plain method works from loopback too.
    let token2 = token_by_api_code(port, &data);
    assert_eq!(get(port, "/cases?max_results=1", &token2).0, 200);
    // A query naming an identity number.
    let (_, body) = get(
        port,
        "/cases?max_results=1&projection=%7B%22customer_id_number%22%3A1%7D",
        &token,
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    let id_number = v["_items"][0]["customer_id_number"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = get(
        port,
        &format!("/cases?where=%7B%22customer_id_number%22%3A%22{id_number}%22%7D"),
        &token,
    );
    assert_eq!(status, 200);

    // No token, JWT, api code, key or identity number in the log, even at debug level.
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("served"), "requests are logged");
    assert!(
        logged.contains("sandbox-credentials.json"),
        "start-up says where the credentials are"
    );
    let api_code = creds["api_code"].as_str().unwrap();
    for secret in [
        token.as_str(),
        token2.as_str(),
        jwt.as_str(),
        api_code,
        id_number.as_str(),
        "PRIVATE KEY",
    ] {
        assert!(
            !logged.contains(secret),
            "the log contains a secret: {secret}"
        );
    }
}

#[test]
fn serve_reads_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("envdata");
    let port = free_port();
    let media = dir.path().join("elsewhere");
    std::fs::create_dir_all(&media).unwrap();
    let log = dir.path().join("server.log");
    let mut server = Server(
        Command::new(BIN)
            .arg("serve")
            .env("INDRIVA_BIND", format!("127.0.0.1:{port}"))
            .env("INDRIVA_DATA_DIR", &data)
            .env("INDRIVA_TOKEN_TTL_MINUTES", "5")
            .env("INDRIVA_MAX_UPLOAD_MB", "1")
            .env("INDRIVA_MAX_JSON_BODY_KB", "4")
            .env("INDRIVA_PUBLIC_URL", "https://collect.example.com")
            .env("INDRIVA_MEDIA_URL", format!("file://{}", media.display()))
            .env("INDRIVA_LOG_FORMAT", "json")
            .on_test_database(&data)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);
    assert_eq!(data.join("indriva.db").exists(), on_sqlite());
    assert!(
        data.join("sandbox-credentials.json").exists(),
        "serve creates the sandbox on an empty database"
    );
    let body = json!({"api_code": credentials(&data)["api_code"]}).to_string();
    let (_, resp) = request(
        port,
        "POST",
        "/authenticates/api-code",
        &[("Content-Type", "application/json")],
        &body,
    )
    .unwrap();
    let v: Value = serde_json::from_str(&resp).unwrap();
    let expires = indriva::domain::HttpDate::parse_lenient(v["expires"].as_str().unwrap())
        .unwrap()
        .unix();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (expires - now - 300).abs() <= 5,
        "INDRIVA_TOKEN_TTL_MINUTES=5 gives 5-minute tokens"
    );
    let token = v["token"].as_str().unwrap().to_string();
    let (_, body) = get(port, "/cases", &token);
    assert_eq!(total(&body), 0, "a fresh database has no cases");

    // INDRIVA_MAX_JSON_BODY_KB=4: a 5 KB body is refused.
    let mut reg = json!({
        "account": "674dbeaf08847b9501cc9132", "creditor": "674dbeb208847b9501cc9138",
        "first_action": "reminder", "currency": "SEK",
        "customer": {"name": "Jane Doe", "id_number": "202501012385",
            "address": {"address_line_1": "Storgatan 1", "zip_code": "11122", "city": "Stockholm", "country": "SE"}},
        "debts": [{"invoice_number": "E-1", "debt_description": "x".repeat(5000), "invoice_date": "Mon, 16 Jun 2025 00:00:00 GMT",
            "capital_to_claim": 250.0, "invoice_due_days_after_invoice_date": 10}]
    });
    let (status, _) = post_json(port, "/case--registrations", &token, &reg);
    assert_eq!(status, 413);
    reg["debts"][0]["debt_description"] = json!("Consulting");
    let (status, reg) = post_json(port, "/case--registrations", &token, &reg);
    assert_eq!(status, 201, "{reg}");
    let case = reg["_cases"][0].as_str().unwrap();

    // INDRIVA_MAX_UPLOAD_MB=1: 1.5 MB is refused, a small file is kept where
    // INDRIVA_MEDIA_URL says, behind a URL on INDRIVA_PUBLIC_URL.
    let upload = |content: &str| {
        let form = format!("--b\r\nContent-Disposition: form-data; name=\"domain\"\r\n\r\ncases\r\n--b\r\nContent-Disposition: form-data; name=\"dotted_path\"\r\n\r\noriginal_invoice\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 {content}\r\n--b--\r\n");
        request(
            port,
            "POST",
            &format!("/media--upload/{case}"),
            &[
                ("X-API-Key", &token),
                ("Content-Type", "multipart/form-data; boundary=b"),
            ],
            &form,
        )
        .unwrap()
    };
    let (status, _) = upload(&"x".repeat(1_500_000));
    assert_eq!(status, 413);
    let (status, body) = upload("small");
    assert_eq!(status, 201, "{body}");
    let url = serde_json::from_str::<Value>(&body).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.starts_with("https://collect.example.com/media/"),
        "{url}"
    );
    let stored: Vec<_> = walk_files(&media);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(!data.join("media").exists() || walk_files(&data.join("media")).is_empty());

    // INDRIVA_LOG_FORMAT=json: one JSON object per request with its fields.
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    let served: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "served")
        .collect();
    assert!(served.len() >= 5, "{text}");
    for line in &served {
        assert!(line["fields"]["status"].is_u64(), "{line}");
        assert!(line["fields"]["latency_us"].is_u64(), "{line}");
        let span = &line["span"];
        assert!(
            span["method"].is_string() && span["path"].is_string(),
            "{line}"
        );
        assert!(span["request_id"].is_string(), "{line}");
        assert!(
            line["timestamp"].is_string() && line["level"] == "INFO",
            "{line}"
        );
    }
    assert!(served
        .iter()
        .any(|l| l["span"]["path"] == "/case--registrations" && l["fields"]["status"] == 413));
    assert!(
        !text.contains("202501012385"),
        "no identity number in the log"
    );
    assert!(!text.contains(&token), "no token in the log");
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
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

/// Runs `indriva admin …` against a data dir; returns (success, stdout, stderr).
fn admin(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .on_test_database(data)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn last_word(s: &str) -> String {
    s.split_whitespace().last().unwrap_or_default().to_string()
}

#[test]
fn admin_onboards_an_account_creditor_and_api_user_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
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
            .on_test_database(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);

    let (ok, out, err) = admin(
        &data,
        &[
            "account",
            "create",
            "--name",
            "Kund AB",
            "--organization-no",
            "556026-9986",
        ],
    );
    assert!(ok, "{err}");
    let account = last_word(&out);
    assert_eq!(account.len(), 24, "{out}");

    let activation = dir.path().join("creditor.json");
    std::fs::write(
        &activation,
        json!({"is_active": true, "standard_debt_description": "Faktura",
               "sender_address": {"address_line_1": "Gatan 1", "zip_code": "11122",
                                  "city": "Stockholm", "country": "SE"},
               "invoice_address": {"address_line_1": "Gatan 1", "zip_code": "11122",
                                   "city": "Stockholm", "country": "SE"},
               "payout_details": {"sek": {"bankgiro": "5050-1055"}}})
        .to_string(),
    )
    .unwrap();
    let (ok, out, err) = admin(
        &data,
        &[
            "creditor",
            "create",
            "--account",
            &account,
            "--name",
            "Kund AB",
            "--organization-no",
            "5560269986",
            "--json",
            activation.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("active creditor"), "{out}");
    let creditor = last_word(&out);

    let creds = dir.path().join("kund.json");
    let (ok, out, err) = admin(
        &data,
        &[
            "api-user",
            "create",
            "--account",
            &account,
            "--creditor",
            &creditor,
            "--out",
            creds.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(last_word(&out).len(), 24, "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&creds).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    assert_eq!(c["account"], account);
    assert_eq!(c["creditor"], creditor);
    assert_eq!(c["algorithm"], "ES256");

    // The running server accepts the new API user, which sees only its creditor.
    use p256::pkcs8::DecodePrivateKey;
    let sk =
        p256::ecdsa::SigningKey::from_pkcs8_pem(c["private_key_pem"].as_str().unwrap()).unwrap();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let jwt = sign(&sk, &json!({"api_code": c["api_code"], "exp": exp}));
    let (status, body) = get(port, "/authenticates/api-code", &jwt);
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = get(port, "/creditors", &token);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["_meta"]["total"], 1);
    assert_eq!(v["_items"][0]["_id"], creditor);
    assert_eq!(v["_items"][0]["is_active"], true);
    let (_, body) = get(port, "/cases", &token);
    assert_eq!(total(&body), 0, "none of the sandbox's cases");

    // With a public key instead: the algorithm comes from the key.
    let pk = dir.path().join("pub.pem");
    {
        use p256::pkcs8::{EncodePublicKey, LineEnding};
        std::fs::write(
            &pk,
            sk.verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        )
        .unwrap();
    }
    let (ok, out, err) = admin(
        &data,
        &[
            "api-user",
            "create",
            "--account",
            &account,
            "--public-key",
            pk.to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("api code"), "{out}");

    // Mistakes are refused with a reason, and nothing is overwritten.
    let (ok, _, err) = admin(
        &data,
        &[
            "api-user",
            "create",
            "--account",
            &account,
            "--out",
            creds.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("refusing to overwrite"), "{err}");
    let (ok, _, err) = admin(
        &data,
        &[
            "creditor",
            "create",
            "--account",
            "000000000000000000000001",
            "--name",
            "X",
            "--organization-no",
            "5560269986",
        ],
    );
    assert!(!ok && err.contains("does not exist"), "{err}");
    let (ok, _, err) = admin(
        &data,
        &[
            "account",
            "create",
            "--name",
            "X",
            "--organization-no",
            "1122334455",
        ],
    );
    assert!(!ok && err.contains("organisationsnummer"), "{err}");
    let (ok, _, err) = admin(&data, &["api-user", "create", "--account", &account]);
    assert!(!ok && err.contains("--public-key"), "{err}");
}

fn indriva(args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    // A command with a database runs on the test's; `bgmax generate` and `--version` have none.
    match args.iter().position(|a| *a == "--data-dir") {
        Some(i) => cmd.on_test_database(Path::new(args[i + 1])),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let out = cmd.env_remove("INDRIVA_BANKGIRO").output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bank_files_are_generated_and_imported_once_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let file = dir.path().join("bgmax.txt");
    let file = file.to_str().unwrap();
    let (ok, _, err) = indriva(&[
        "bgmax",
        "generate",
        "--date",
        "2025-09-03",
        "--ocr",
        "20250000000000000018:300.00",
        "--text",
        "faktura 9:50",
        "--out",
        file,
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.starts_with("01BGMAX"), "{text}");
    assert!(text.lines().all(|l| l.len() == 80));

    // Pointed at a data dir with no database, the import refuses, naming where it looked
    // (it used to create an empty database there and report success; issue 24 item 3).
    let (ok, _, err) = indriva(&["import", "bgmax", file, "--data-dir", data]);
    assert!(!ok, "{err}");
    assert!(err.contains("no database at"), "{err}");
    if on_sqlite() {
        assert!(err.contains(&format!("{data}/indriva.db")), "{err}");
        assert!(
            !Path::new(data).join("indriva.db").exists(),
            "nothing was created"
        );
    }
    let (ok, _, err) = indriva(&["seed", "--cases", "0", "--data-dir", data]);
    assert!(ok, "{err}");
    let (ok, out, err) = indriva(&["import", "bgmax", file, "--data-dir", data]);
    assert!(ok, "{err}");
    assert!(
        err.contains("database opened"),
        "the command says which database: {err}"
    );
    assert!(
        out.contains("2 payments, 0 matched (0.00 settled), 2 unmatched (350.00)"),
        "{out}"
    );
    let (ok, out, err) = indriva(&["import", "bgmax", file, "--data-dir", data]);
    assert!(ok, "{err}");
    assert!(out.contains("was imported before"), "{out}");

    // Another payee's file, a broken one, bad arguments: refused with the reason.
    let (ok, _, err) = indriva(&[
        "import",
        "bgmax",
        file,
        "--data-dir",
        data,
        "--bankgiro",
        "123-4566",
    ]);
    assert!(!ok);
    assert!(
        err.contains("pays bankgiro 9912346, not the agency's 123-4566"),
        "{err}"
    );
    std::fs::write(dir.path().join("broken.txt"), &text[..text.len() - 84]).unwrap();
    let broken = dir.path().join("broken.txt");
    let (ok, _, err) = indriva(&[
        "import",
        "bgmax",
        broken.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert!(!ok);
    assert!(err.contains("truncated"), "{err}");
    let (ok, _, err) = indriva(&["bgmax", "generate", "--date", "2025-09-03", "--ocr", "123"]);
    assert!(!ok);
    assert!(err.contains("REFERENCE:AMOUNT"), "{err}");

    // An operator API user is bound to no account.
    let creds = dir.path().join("operator.json");
    let (ok, out, err) = admin(
        Path::new(data),
        &[
            "api-user",
            "create",
            "--operator",
            "--out",
            creds.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}{err}");
    let creds: Value = serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    assert_eq!(creds["account"], "000000000000000000000000");
    let (ok, _, err) = admin(
        Path::new(data),
        &[
            "api-user",
            "create",
            "--operator",
            "--account",
            "674dbeaf08847b9501cc9132",
            "--out",
            "x.json",
        ],
    );
    assert!(!ok && err.contains("cannot be used with"), "{err}");
}

#[test]
fn metrics_json_logs_and_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let (port, metrics_port) = (free_port(), free_port());
    let mut server = Server(
        Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--metrics-bind", &format!("127.0.0.1:{metrics_port}")])
            .arg("--data-dir")
            .arg(&data)
            .env("INDRIVA_LOG_FORMAT", "json")
            .on_test_database(&data)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);
    let (status, body) = request(port, "GET", "/healthz", &[], "").unwrap();
    assert_eq!((status, body.contains("ok")), (200, true));
    let (status, body) = request(port, "GET", "/readyz", &[], "").unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, _) = request(port, "GET", "/cases/68b7f49c7b02934caddab092", &[], "").unwrap();
    assert_eq!(status, 401);

    let (status, text) = request(metrics_port, "GET", "/metrics", &[], "").unwrap();
    assert_eq!(status, 200);
    let healthz = text
        .lines()
        .find(|l| l.starts_with("indriva_http_requests_total{") && l.contains("route=\"/healthz\""))
        .unwrap_or_else(|| panic!("no /healthz count in\n{text}"));
    assert!(
        healthz.contains("status=\"200\"") && healthz.ends_with(" 1"),
        "{healthz}"
    );
    // Routes, not raw paths: the case id is not a label.
    assert!(text.contains("route=\"/cases/{id}\""), "{text}");
    assert!(!text.contains("68b7f49c7b02934caddab092"));
    assert!(
        text.contains("indriva_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(
        text.contains("indriva_db_pool_connections{state=\"open\"}"),
        "{text}"
    );
    assert!(text.contains("indriva_flow_lag_seconds"), "{text}");
    assert!(
        text.contains("indriva_webhook_delivery_lag_seconds"),
        "{text}"
    );
    drop(server);

    let lines = std::fs::read_to_string(&log).unwrap();
    let first = lines.lines().next().expect("a log line");
    let v: Value = serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert!(v.get("level").is_some() && v.get("fields").is_some(), "{v}");

    let (ok, out, _) = indriva(&["--version"]);
    assert!(ok && out.starts_with("indriva "), "{out}");
}

/// A webhook receiver on loopback: each request's headers (lower-cased) and body.
struct Hook {
    port: u16,
    got: std::sync::mpsc::Receiver<(std::collections::HashMap<String, String>, String)>,
}

fn receive_on(listener: TcpListener) -> Hook {
    let port = listener.local_addr().unwrap().port();
    let (tx, got) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let (head, body) = loop {
                let n = s.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break (String::new(), String::new());
                }
                raw.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&raw).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break (head.to_string(), body.to_string());
                    }
                }
            };
            let headers = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let _ = s.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            if tx.send((headers, body)).is_err() {
                return;
            }
        }
    });
    Hook { port, got }
}

fn verify_signature(secret: &str, headers: &std::collections::HashMap<String, String>, body: &str) {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use hmac::Mac;
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            headers["webhook-id"], headers["webhook-timestamp"], body
        )
        .as_bytes(),
    );
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(headers["webhook-signature"], expected);
}

fn post_json(port: u16, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let (status, text) = request(
        port,
        "POST",
        path,
        &[("X-API-Key", token), ("Content-Type", "application/json")],
        &body.to_string(),
    )
    .expect("request");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Waits for the next event of `kind`, skipping others; panics after `secs`.
fn next_event(
    hook: &Hook,
    kind: &str,
    secs: u64,
) -> (std::collections::HashMap<String, String>, String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (h, body) = hook
            .got
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {kind} event within {secs} s"));
        if serde_json::from_str::<Value>(&body).unwrap()["type"] == kind {
            return (h, body);
        }
    }
}

#[test]
fn a_webhook_hears_a_case_move_within_seconds_and_later_if_it_was_down() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut server = Server(
        Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--webhook-allow-private",
            ])
            .args(["--worker-interval-ms", "200"])
            .arg("--data-dir")
            .arg(&data)
            .on_test_database(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);
    let token = token_by_api_code(port, &data);
    let up = receive_on(TcpListener::bind("127.0.0.1:0").unwrap());
    // The second receiver is down: nothing listens on its port yet.
    let down_port = free_port();
    let mut secrets = Vec::new();
    for p in [up.port, down_port] {
        let (status, r) = post_json(
            port,
            "/webhooks",
            &token,
            &json!({"url": format!("http://127.0.0.1:{p}/events"), "events": ["case.state_changed"]}),
        );
        assert_eq!(status, 201, "{r}");
        secrets.push(r["secret"].as_str().unwrap().to_string());
    }
    let (status, _) = post_json(
        port,
        "/sandbox/clock",
        &token,
        &json!({"now": "Wed, 03 Sep 2025 07:56:11 GMT"}),
    );
    assert_eq!(status, 200);
    let body = json!({
        "account": "674dbeaf08847b9501cc9132",
        "creditor": "674dbeb208847b9501cc9138",
        "first_action": "debt_collection",
        "currency": "SEK",
        "customer": {"name": "ACME Inc.", "id_number": "5560269986", "is_company": true,
            "address": {"address_line_1": "Storgatan 42", "zip_code": "12345", "city": "Stockholm", "country": "SE"}},
        "debts": [{"invoice_number": "INV-2025-003", "debt_description": "Services",
            "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT", "capital_to_claim": 2000.0,
            "invoice_due_days_after_invoice_date": 31}]
    });
    let (status, r) = post_json(port, "/case--registrations", &token, &body);
    assert_eq!(status, 201, "{r}");
    let case = r["_cases"][0].as_str().unwrap().to_string();

    let moved = Instant::now();
    let (status, _) = post_json(
        port,
        "/sandbox/clock",
        &token,
        &json!({"now": "Wed, 03 Sep 2025 09:10:17 GMT"}),
    );
    assert_eq!(status, 200);
    let (headers, event) = next_event(&up, "case.state_changed", 10);
    let within = moved.elapsed();
    verify_signature(&secrets[0], &headers, &event);
    let event: Value = serde_json::from_str(&event).unwrap();
    assert_eq!(event["data"]["case"], case.as_str());
    assert_eq!(event["data"]["state"], "debt_collection");
    assert!(within < Duration::from_secs(5), "{within:?}");

    // The receiver that was down: its first attempt failed…
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, list) = get(
            port,
            "/webhook--deliveries?where=%7B%22status%22%3A%22pending%22%7D",
            &token,
        );
        let list: Value = serde_json::from_str(&list).unwrap();
        if list["_items"]
            .get(0)
            .is_some_and(|d| d["attempt_count"] == 1)
        {
            break;
        }
        assert!(Instant::now() < deadline, "no failed attempt: {list}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // …and once it is up, the retry 5 s later brings the event.
    let back = receive_on(TcpListener::bind(("127.0.0.1", down_port)).unwrap());
    let (headers, event) = next_event(&back, "case.state_changed", 15);
    verify_signature(&secrets[1], &headers, &event);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, list) = get(
            port,
            "/webhook--deliveries?where=%7B%22status%22%3A%22delivered%22%7D",
            &token,
        );
        if total(&list) == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "{list}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigterm_answers_the_request_in_flight_before_the_server_exits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let log = dir.path().join("server.log");
    let serve = || {
        Server(
            Command::new(BIN)
                .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
                .arg("--data-dir")
                .arg(&data)
                .on_test_database(&data)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap(),
        )
    };
    let mut server = serve();
    wait_ready(port, &mut server);
    let token = token_by_api_code(port, &data);
    let body = json!({
        "account": "674dbeaf08847b9501cc9132",
        "creditor": "674dbeb208847b9501cc9138",
        "first_action": "debt_collection",
        "currency": "SEK",
        "customer": {"name": "Drain AB", "id_number": "5560269986", "is_company": true,
            "address": {"address_line_1": "Storgatan 42", "zip_code": "12345", "city": "Stockholm", "country": "SE"}},
        "debts": [{"invoice_number": "INV-DRAIN-1", "debt_description": "Services", "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT",
            "capital_to_claim": 100.0, "invoice_due_days_after_invoice_date": 31}]
    })
    .to_string();
    // Half a request is on the wire when SIGTERM comes.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /case--registrations HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-API-Key: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..body.len() / 2]
    )
    .unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let term = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused meanwhile…
    assert!(request(port, "GET", "/healthz", &[], "").is_none());
    // …the one in flight is answered…
    s.write_all(&body.as_bytes()[body.len() / 2..]).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 201"), "{raw}");
    // …and the process exits by itself, cleanly.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = server.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    // The log says why it stopped, and that it did.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("signal=\"SIGTERM\"") && logged.contains("shutting down"),
        "{logged}"
    );
    assert!(logged.trim_end().ends_with("stopped"), "{logged}");
    // On SQLite the write-ahead log was copied into the database file at the stop
    // (docs/security.md): the file alone holds everything, and the log is empty.
    if on_sqlite() {
        let wal = data.join("indriva.db-wal");
        let len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(len, 0, "{} still holds {len} bytes", wal.display());
    }
    // What it answered 201 for is there after a restart.
    let mut server = serve();
    wait_ready(port, &mut server);
    let token = token_by_api_code(port, &data);
    let (_, list) = get(
        port,
        "/cases?where=%7B%22debt.invoice_number%22%3A%22INV-DRAIN-1%22%7D",
        &token,
    );
    assert_eq!(total(&list), 1, "{list}");
}

/// Modes of the data dir and everything in it, relative path → mode.
#[cfg(unix)]
fn modes(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(root: &Path, p: &Path, out: &mut Vec<(String, u32)>) {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let rel = p.strip_prefix(root).unwrap().display().to_string();
        out.push((if rel.is_empty() { ".".into() } else { rel }, mode));
        if p.is_dir() {
            for e in std::fs::read_dir(p).unwrap().flatten() {
                walk(root, &e.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Starts `indriva serve` under `umask 000` (so only Indriva's own care makes files private).
#[cfg(unix)]
fn serve_with_umask_000(data: &Path, port: u16, log: &Path) -> Server {
    Server(
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 000; exec '{BIN}' serve --bind 127.0.0.1:{port} --data-dir '{}'",
                data.display()
            ))
            .on_test_database(data)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    )
}

#[cfg(unix)]
#[test]
fn data_at_rest_is_owner_only_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let log = dir.path().join("server.log");
    let mut server = serve_with_umask_000(&data, port, &log);
    wait_ready(port, &mut server);
    let token = token_by_api_code(port, &data);
    // A case and its uploaded invoice: media files and their folders.
    let body = json!({
        "account": "674dbeaf08847b9501cc9132", "creditor": "674dbeb208847b9501cc9138",
        "first_action": "reminder", "currency": "SEK",
        "customer": {"name": "Jane Doe", "id_number": "202501012385",
            "address": {"address_line_1": "Storgatan 1", "zip_code": "11122", "city": "Stockholm", "country": "SE"}},
        "debts": [{"invoice_number": "P-1", "debt_description": "Consulting", "invoice_date": "Mon, 16 Jun 2025 00:00:00 GMT",
            "capital_to_claim": 250.0, "invoice_due_days_after_invoice_date": 10}]
    });
    let (status, reg) = post_json(port, "/case--registrations", &token, &body);
    assert_eq!(status, 201, "{reg}");
    let case = reg["_cases"][0].as_str().unwrap().to_string();
    let form = "--b\r\nContent-Disposition: form-data; name=\"domain\"\r\n\r\ncases\r\n--b\r\nContent-Disposition: form-data; name=\"dotted_path\"\r\n\r\noriginal_invoice\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 test\r\n--b--\r\n";
    let (status, up) = request(
        port,
        "POST",
        &format!("/media--upload/{case}"),
        &[
            ("X-API-Key", &token),
            ("Content-Type", "multipart/form-data; boundary=b"),
        ],
        form,
    )
    .unwrap();
    assert_eq!(status, 201, "{up}");

    let found = modes(&data);
    let database_files: &[&str] = if on_sqlite() {
        &["indriva.db", "indriva.db-wal"]
    } else {
        &[]
    };
    for name in database_files
        .iter()
        .chain(&["media-signing.key", "sandbox-credentials.json"])
    {
        assert!(found.iter().any(|(p, _)| p == name), "{name} in {found:?}");
    }
    assert!(
        found
            .iter()
            .filter(|(p, _)| p.starts_with("media/"))
            .count()
            >= 2
    );
    for (path, mode) in &found {
        let want = if data.join(path).is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(*mode, want, "{path} is {mode:o} under umask 000");
    }
    drop(server);

    // An install made looser by hand is tightened at the next start, with a warning.
    use std::os::unix::fs::PermissionsExt;
    for (path, _) in &found {
        let p = data.join(path);
        let loose = if p.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(loose)).unwrap();
    }
    let log2 = dir.path().join("server2.log");
    let mut server = serve_with_umask_000(&data, port, &log2);
    wait_ready(port, &mut server);
    let text = std::fs::read_to_string(&log2).unwrap();
    assert!(
        text.contains("the data dir was readable by other users"),
        "{text}"
    );
    for (path, mode) in modes(&data) {
        assert_eq!(mode & 0o077, 0, "{path} is {mode:o} after the check");
    }
}

/// `indriva serve` with short connection limits, on a fresh data dir.
fn serve_with(data: &Path, port: u16, log: &Path, extra: &[&str]) -> Server {
    let mut server = Server(
        Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data)
            .args(extra)
            .on_test_database(data)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_ready(port, &mut server);
    server
}

/// Reads until the server closes the connection or `within` passes; (closed, what was read).
fn read_until_closed(s: &mut TcpStream, within: Duration) -> (bool, String) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    while start.elapsed() < within {
        match s.read(&mut buf) {
            Ok(0) => return (true, String::from_utf8_lossy(&got).to_string()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (true, String::from_utf8_lossy(&got).to_string()),
        }
    }
    (false, String::from_utf8_lossy(&got).to_string())
}

#[test]
fn slow_idle_and_oversized_clients_cannot_hold_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let log = dir.path().join("server.log");
    let _server = serve_with(
        &data,
        port,
        &log,
        &[
            "--header-timeout-secs",
            "2",
            "--body-timeout-secs",
            "2",
            "--max-connections",
            "8",
        ],
    );
    let token = token_by_api_code(port, &data);

    // One header byte a second: closed at the header deadline, not held for a minute.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let trickle = b"GET /cases HTTP/1.1\r\nHost: x\r\n";
    let mut closed_after = None;
    for b in trickle {
        if slow.write_all(&[*b]).is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let (closed, _) = read_until_closed(&mut slow, Duration::from_millis(900));
        if closed {
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("a trickling client kept its connection");
    assert!(
        closed_after < Duration::from_secs(6),
        "closed only after {closed_after:?}"
    );

    // Idle connections (more than the cap) are closed at the header deadline too, and while
    // they are open, the ones past the cap wait rather than being served.
    let mut idle: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut waiting = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        waiting,
        "GET /cases?max_results=1 HTTP/1.1\r\nHost: x\r\nX-API-Key: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let (_, early) = read_until_closed(&mut waiting, Duration::from_millis(800));
    assert!(early.is_empty(), "served past the connection cap: {early}");
    for s in &mut idle {
        let (closed, _) = read_until_closed(s, Duration::from_secs(5));
        assert!(
            closed,
            "an idle connection stayed open past the header deadline"
        );
    }
    // Once they are gone, the waiting request is served.
    let (_, answer) = read_until_closed(&mut waiting, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A declared 100 MB JSON body with none sent: 413 at once, in the envelope.
    let mut big = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        big,
        "POST /case--registrations HTTP/1.1\r\nHost: x\r\nX-API-Key: {token}\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    )
    .unwrap();
    let (closed, answer) = read_until_closed(&mut big, Duration::from_secs(2));
    assert!(closed, "the connection should close after the 413");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""_status":"ERR""#), "{answer}");
    assert!(
        answer.contains("104857600 bytes; at most 1048576"),
        "{answer}"
    );

    // A 100 MB upload is refused before its body is read: after its headers and 64 KB, the
    // answer is already there.
    let mut upload = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        upload,
        "POST /media--upload/5f0000000000000000000000 HTTP/1.1\r\nHost: x\r\nX-API-Key: {token}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 104857600\r\n\r\n"
    )
    .unwrap();
    let _ = upload.write_all(&vec![b'x'; 64 * 1024]);
    let (_, answer) = read_until_closed(&mut upload, Duration::from_secs(2));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A body that stops arriving: 408 at the body deadline.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stalled,
        "POST /case--registrations HTTP/1.1\r\nHost: x\r\nX-API-Key: {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"account\""
    )
    .unwrap();
    let (_, answer) = read_until_closed(&mut stalled, Duration::from_secs(6));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("not received within 2 s"), "{answer}");

    // And the server still answers everyone else.
    let (status, _) = get(port, "/cases?max_results=1", &token);
    assert_eq!(status, 200);
}

#[test]
fn audit_and_personal_data_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, out, err) = indriva(&[
        "seed",
        "--cases",
        "30",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{out}{err}");
    // The seed's writes are in the trail under the command that made them.
    let (ok, out, err) = indriva(&[
        "audit",
        "--limit",
        "3",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let events: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3, "{out}");
    for e in &events {
        assert_eq!(e["actor"]["type"], "cli");
        assert_eq!(e["actor"]["command"], "indriva seed");
    }
    // A case's trail by its id.
    let item = events[0]["writes"][0]["item"].as_str().unwrap();
    let (ok, out, _) = indriva(&[
        "audit",
        "--item",
        item,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        ok && out.lines().count() >= 1 && out.contains(item),
        "{out}"
    );
    // Export by the identity number of a seeded case's customer.
    let id_number = {
        let (_, out, _) = indriva(&[
            "audit",
            "--limit",
            "200",
            "--data-dir",
            data.to_str().unwrap(),
        ]);
        assert!(
            !out.contains("id_number"),
            "no identity numbers in the trail"
        );
        // Read from the database the commands used (no `sqlite3` shell needed).
        let url = database_for(&data).unwrap_or_else(|| indriva::store::default_sqlite_url(&data));
        let customers = tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = indriva::store::Store::open(&url).await.unwrap();
            let docs = crate::common::all_docs(&store, &indriva::resources::CUSTOMERS).await;
            store.close().await;
            docs
        });
        customers
            .iter()
            .find_map(|c| c["id_number"].as_str())
            .expect("the seed registered customers")
            .to_string()
    };
    let (ok, out, err) = indriva(&[
        "personal-data",
        "export",
        "--id-number",
        &id_number,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let export: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(export["id_number"], json!(id_number));
    assert!(!export["cases"].as_array().unwrap().is_empty());
    // A dry run of the purge with no retention counts the seed's closed cases and changes
    // nothing.
    let (ok, out, err) = indriva(&[
        "personal-data",
        "purge",
        "--retention-years",
        "0",
        "--dry-run",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("dry run, nothing changed."), "{out}");
    let (ok, out, err) = indriva(&[
        "personal-data",
        "purge",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains(": 0 case(s)"),
        "seven years keep everything seeded: {out}"
    );
}
