//! Notes operators write on a case (`case_notes`): who wrote what, when. Written once, never
//! changed; deleted only with their case's data (a sandbox reset, the retention purge).

use super::exec::Ty;
use super::{Store, StoreError, Tx};
use crate::domain::ObjectId;

/// One note on a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseNote {
    pub id: ObjectId,
    pub account: ObjectId,
    pub case: ObjectId,
    /// Who wrote it: the operator's email (or the API user, the command).
    pub author: String,
    pub text: String,
    pub created: i64,
}

impl Tx<'_> {
    /// Adds a note (its case's account's write is audited by the caller).
    pub async fn insert_case_note(&mut self, note: &CaseNote) -> Result<(), StoreError> {
        let mut st = self.statement();
        st.push("INSERT INTO case_notes (id, account, case_id, author, text, created) VALUES (")
            .text(note.id.to_hex())
            .push(", ")
            .text(note.account.to_hex())
            .push(", ")
            .text(note.case.to_hex())
            .push(", ")
            .text(note.author.clone())
            .push(", ")
            .text(note.text.clone())
            .push(", ")
            .int(note.created)
            .push(")");
        self.execute(st.finish()).await?;
        Ok(())
    }

    /// Deletes the notes of these cases (or only counts them); how many.
    pub async fn delete_case_notes(
        &mut self,
        cases: &[ObjectId],
        count_only: bool,
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        for chunk in cases.chunks(500) {
            let mut st = self.statement();
            st.push(if count_only {
                "SELECT COUNT(*) FROM case_notes WHERE case_id IN ("
            } else {
                "DELETE FROM case_notes WHERE case_id IN ("
            });
            for (i, c) in chunk.iter().enumerate() {
                if i > 0 {
                    st.push(", ");
                }
                st.text(c.to_hex());
            }
            st.push(")");
            n += if count_only {
                self.cells(st.finish(), &[Ty::Int])
                    .await?
                    .first()
                    .and_then(|r| r[0].int())
                    .unwrap_or(0) as u64
            } else {
                self.execute(st.finish()).await?
            };
        }
        Ok(n)
    }
}

impl Store {
    /// A case's notes, oldest first.
    pub async fn case_notes(
        &self,
        account: &ObjectId,
        case: &ObjectId,
    ) -> Result<Vec<CaseNote>, StoreError> {
        let mut st = self.statement();
        st.push("SELECT id, author, text, created FROM case_notes WHERE account = ")
            .text(account.to_hex())
            .push(" AND case_id = ")
            .text(case.to_hex())
            .push(" ORDER BY created, id");
        let rows = self
            .cells(st.finish(), &[Ty::Text, Ty::Text, Ty::Text, Ty::Int])
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(CaseNote {
                    id: ObjectId::parse(r[0].text().unwrap_or_default())
                        .map_err(|_| StoreError::Document("a note without an id".into()))?,
                    account: *account,
                    case: *case,
                    author: r[1].text().unwrap_or_default().to_string(),
                    text: r[2].text().unwrap_or_default().to_string(),
                    created: r[3].int().unwrap_or_default(),
                })
            })
            .collect()
    }
}
