//! The schema migrations, embedded by `build.rs` (one `NNNN_name.sql` file per version and
//! database). Each is applied once, in order, in a transaction, and recorded in
//! `_sqlx_migrations` with its SHA-384 checksum, exactly as `sqlx::migrate!` would record it,
//! so databases migrated by earlier releases are recognised.

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// One database's migrations.
#[derive(Clone, Copy, Debug)]
pub(super) struct Embedded(pub &'static [(i64, &'static str, &'static str)]);

impl Embedded {
    /// The newest version this binary has.
    pub(super) fn newest(self) -> i64 {
        self.0.iter().map(|m| m.0).max().unwrap_or(0)
    }

    /// A migrator over them.
    pub(super) async fn migrator(self) -> Result<Migrator, sqlx::migrate::MigrateError> {
        Migrator::new(self).await
    }
}

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        sql.starts_with("-- no-transaction"),
                    )
                })
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_have_the_same_migrations_in_order() {
        fn versions(m: &'static [(i64, &'static str, &'static str)]) -> Vec<(i64, &'static str)> {
            m.iter().map(|x| (x.0, x.1)).collect()
        }
        assert_eq!(versions(SQLITE), versions(POSTGRES));
        assert_eq!(SQLITE[0].0, 1);
        assert!(SQLITE.windows(2).all(|w| w[1].0 == w[0].0 + 1));
        assert_eq!(
            SQLITE.iter().find(|m| m.0 == 17).map(|m| m.1),
            Some("next flow column")
        );
    }
}
