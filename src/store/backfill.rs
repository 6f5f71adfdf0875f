//! Typed columns added to tables that already hold documents (a migration inserts the
//! column's name into `column_backfills`) are filled from the documents when the database is
//! opened, before anything is served: a date cannot be parsed in SQL on SQLite. Each batch is
//! its own transaction and the marker goes last, so a start cut short resumes where it was.

use super::exec::Ty;
use super::{Store, StoreError};
use crate::domain::HttpDate;
use crate::eve::resource::{ColumnKind, Resource};
use crate::resources::CASES;
use crate::sql::{query, Dialect, Param};

const BATCH: i64 = 2_000;

impl Store {
    /// Fills every column a migration marked; the number of rows filled.
    pub(super) async fn backfill_columns(&self) -> Result<u64, StoreError> {
        let sql = query(
            self.dialect(),
            "SELECT name FROM column_backfills ORDER BY name",
            vec![],
        );
        let mut tx = self.begin().await?;
        let pending: Vec<String> = tx
            .cells(sql, &[Ty::Text])
            .await?
            .into_iter()
            .filter_map(|mut r| r.remove(0).into_text())
            .collect();
        tx.commit().await?;
        let mut filled = 0;
        for name in pending {
            let Some((res, column)) = name.split_once('.').and_then(|(table, column)| {
                [&*CASES]
                    .into_iter()
                    .find(|r| r.table == table)
                    .map(|r| (r, column))
            }) else {
                return Err(StoreError::Document(format!(
                    "migration asks to fill unknown column {name}"
                )));
            };
            let n = self.backfill_column(res, column).await?;
            let sql = query(
                self.dialect(),
                "DELETE FROM column_backfills WHERE name = ?",
                vec![Param::Text(name.clone())],
            );
            let mut tx = self.begin().await?;
            tx.execute(sql).await?;
            tx.commit().await?;
            tracing::info!(column = %name, rows = n, "typed column filled from the documents");
            filled += n;
        }
        Ok(filled)
    }

    async fn backfill_column(&self, res: &Resource, name: &str) -> Result<u64, StoreError> {
        let col = res
            .columns
            .iter()
            .find(|c| c.name == name && !c.computed)
            .ok_or_else(|| StoreError::Document(format!("{} has no column {name}", res.table)))?;
        let segs: Vec<&str> = col.path.split('.').collect();
        let value = match self.dialect() {
            Dialect::Sqlite => format!(
                "json_extract(doc, '$.{}')",
                segs.iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(".")
            ),
            Dialect::Postgres => format!("doc #>> '{{{}}}'", segs.join(",")),
        };
        let select = format!(
            "SELECT id, {value} FROM {table} WHERE id > ? AND {value} IS NOT NULL ORDER BY id LIMIT ?",
            table = res.table
        );
        let update = format!("UPDATE {} SET {} = ? WHERE id = ?", res.table, col.name);
        let (mut after, mut filled) = (String::new(), 0u64);
        loop {
            let mut tx = self.begin().await?;
            let rows = tx
                .cells(
                    query(
                        self.dialect(),
                        &select,
                        vec![Param::Text(after.clone()), Param::Int(BATCH)],
                    ),
                    &[Ty::Text, Ty::Text],
                )
                .await?;
            let Some(last) = rows.last().and_then(|r| r[0].text()) else {
                tx.commit().await?;
                return Ok(filled);
            };
            after = last.to_string();
            for r in &rows {
                let (Some(id), Some(raw)) = (r[0].text(), r[1].text()) else {
                    continue;
                };
                let v = match col.kind {
                    ColumnKind::Date => Param::Int(
                        HttpDate::parse_lenient(raw)
                            .map_err(|_| {
                                StoreError::Document(format!(
                                    "{} of {id} is not a date: {raw}",
                                    col.path
                                ))
                            })?
                            .unix(),
                    ),
                    ColumnKind::Folded => Param::Text(raw.to_lowercase()),
                    ColumnKind::Text | ColumnKind::ObjectId => Param::Text(raw.to_string()),
                };
                tx.execute(query(
                    self.dialect(),
                    &update,
                    vec![v, Param::Text(id.to_string())],
                ))
                .await?;
                filled += 1;
            }
            tx.commit().await?;
        }
    }
}
