//! The database under test is the one asked for: the PostgreSQL leg of CI really runs on
//! PostgreSQL (not silently on SQLite), and a database URL of another kind is refused rather
//! than taken for a SQLite file name.

use crate::common;

use indriva::eve::sql::Dialect;
use indriva::store::Store;

#[tokio::test]
async fn the_suite_runs_on_the_backend_the_environment_names() {
    let db = common::db().await;
    let want = match std::env::var("INDRIVA_TEST_DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => Dialect::Postgres,
        Ok(u) if !u.is_empty() => panic!("INDRIVA_TEST_DATABASE_URL={u} is not a postgres:// URL"),
        _ => Dialect::Sqlite,
    };
    assert_eq!(db.store.dialect(), want);
    assert_eq!(
        common::backend(),
        if want == Dialect::Postgres {
            "postgres"
        } else {
            "sqlite"
        }
    );
}

#[tokio::test]
async fn an_unknown_database_url_is_refused_not_taken_for_a_file() {
    for url in [
        "mysql://root@localhost/indriva",
        "postgress://x@y/z",
        "redis://localhost",
    ] {
        let err = Store::open(url).await.err().expect(url).to_string();
        assert!(err.contains("unsupported database URL"), "{url}: {err}");
        assert!(!std::path::Path::new(url).exists());
    }
}
