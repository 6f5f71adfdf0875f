//! The worker killed mid-run loses nothing and doubles nothing (issue 10 §5): seed cases
//! with the real binary, move the sandbox clock 40 days with `indriva flow run`, SIGKILL it
//! half-way, run it again, and compare every case with what the engine makes of it in
//! memory. On SQLite, and on PostgreSQL when `INDRIVA_TEST_DATABASE_URL` is set.

use crate::common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indriva::domain::apply::{Command as CaseCommand, Ctx, Effect};
use indriva::domain::case::Case;
use indriva::domain::flow::FlowConfig;
use indriva::domain::policy::CreditorPolicy;
use indriva::domain::{HttpDate, ObjectId};
use indriva::eve::{Filter, Val};
use indriva::store::Store;
use indriva::tenancy::Scope;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_indriva");

fn indriva(dir: &std::path::Path, url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("DATABASE_URL", url)
        .env("INDRIVA_LOG", "warn")
        // small batches: many commits to be killed between
        .env("INDRIVA_FLOW_BATCH", "128")
        .stdin(Stdio::null());
    c
}

async fn cases(store: &Store) -> Vec<Case> {
    common::all_cases(store)
        .await
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect()
}

/// A case as JSON without what is random by design (the id of the debt-collection record)
/// or derived from it.
fn comparable(c: &Case) -> Value {
    let mut v = serde_json::to_value(c).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("debt_collection");
    o.remove("_etag");
    v
}

/// How many letter documents each case has.
async fn letters_by_case(store: &Store) -> HashMap<ObjectId, usize> {
    let mut out = HashMap::new();
    for v in common::all_docs(store, &indriva::resources::CASE_LETTERS).await {
        let case = ObjectId::parse(v["case"].as_str().unwrap()).unwrap();
        *out.entry(case).or_insert(0) += 1;
    }
    out
}

#[tokio::test]
async fn a_worker_killed_mid_run_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let status = indriva(dir.path(), &url, &["seed", "--cases", "3000"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let store = Store::open(&url).await.unwrap();
    let before = cases(&store).await;
    assert_eq!(before.len(), 3000);
    let account = indriva::sandbox::sandbox_account_id();
    let now = before.iter().map(|c| c.updated).max().unwrap();
    let until = now.plus_days(40).start_of_day().plus_seconds(43_200);
    let due = store.count_due(&account, until.unix()).await.unwrap();
    assert!(due > 1000, "{due} cases due");
    // The seed wrote the letters of the cases' lives so far.
    let seeded_letters = letters_by_case(&store).await;
    assert!(
        seeded_letters.values().sum::<usize>() > 1000,
        "seeded letters: {}",
        seeded_letters.values().sum::<usize>()
    );

    // Kill the run once it has committed some batches and before it is done.
    let mut run = indriva(
        dir.path(),
        &url,
        &["flow", "run", "--until", &until.to_string()],
    )
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let started = Instant::now();
    let mut killed_with = None;
    while started.elapsed() < Duration::from_secs(120) {
        if run.try_wait().unwrap().is_some() {
            break;
        }
        let left = store.count_due(&account, until.unix()).await.unwrap_or(due);
        if left < due - 300 && left > 0 {
            run.kill().unwrap();
            killed_with = Some(left);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = run.kill();
    run.wait().unwrap();
    let left = killed_with.expect("the run was killed while cases were still due");
    assert!(store.count_due(&account, until.unix()).await.unwrap() >= left - 300);

    // Run again: the clock is already at `until`, so a plain run finishes the work.
    let status = indriva(dir.path(), &url, &["flow", "run"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(store.count_due(&account, until.unix()).await.unwrap(), 0);

    // Every case is exactly what the engine makes of it in one go.
    let after: HashMap<ObjectId, Case> =
        cases(&store).await.into_iter().map(|c| (c.id, c)).collect();
    let sandbox = CreditorPolicy::sandbox();
    // The seeded creditors are all in the sandbox account.
    let default = CreditorPolicy {
        in_sandbox: true,
        ..CreditorPolicy::default()
    };
    let mut letters_expected = 0;
    for mut c in before {
        let policy = if c.creditor == indriva::sandbox::sandbox_creditor_id() {
            &sandbox
        } else {
            &default
        };
        let ctx = Ctx {
            now: until,
            rates: indriva::domain::interest::RateTable::swedish(),
            policy,
            flow: FlowConfig::default_swedish(),
        };
        let applied = c
            .apply(
                CaseCommand::RunDue {
                    until,
                    simulate: true,
                },
                &ctx,
            )
            .unwrap();
        let letters = applied
            .effects
            .iter()
            .filter(|e| matches!(e, Effect::Letter { .. }))
            .count();
        // `flow run` typesets the letters it queued, and each records its limitation break.
        for sent in indriva::domain::effects::letters_sent(&applied.effects) {
            c.apply(sent, &ctx).unwrap();
        }
        letters_expected += letters;
        let stored = &after[&c.id];
        assert_eq!(comparable(stored), comparable(&c), "case {}", c.id);
        // one letter document per letter the flow sent, none twice
        let scope = Scope {
            account: Some(account),
            creditors: None,
        };
        let docs = store
            .find(
                &indriva::resources::CASE_LETTERS,
                &scope,
                &Filter::eq("case", Val::Oid(c.id)),
                100,
            )
            .await
            .unwrap();
        let seeded = seeded_letters.get(&c.id).copied().unwrap_or(0);
        assert_eq!(docs.len(), seeded + letters, "letters of case {}", c.id);
        let mut sent: Vec<String> = docs
            .iter()
            .map(|r| {
                let v: Value = serde_json::from_str(&r.doc).unwrap();
                format!("{}{}", v["type"], v["sent_date"])
            })
            .collect();
        sent.sort();
        sent.dedup();
        assert_eq!(sent.len(), seeded + letters);
    }
    assert!(letters_expected > 100, "{letters_expected} letters");
    assert_eq!(
        HttpDate::from_unix(
            store
                .account_clock(&account)
                .await
                .unwrap()
                .unwrap()
                .now
                .unwrap()
        ),
        Some(until)
    );
    store.close().await;
}
