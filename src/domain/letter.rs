//! A letter the flow sent, as `/case--letters` serves it. The PDF is rendered after the
//! case's transaction commits; until then the letter is `queued` and has no `file`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::case::MediaRef;
use super::flow::LetterKind;
use super::{HttpDate, Money, ObjectId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LetterStatus {
    /// Sent by the flow; the PDF is being made.
    Queued,
    /// The PDF is in `file`.
    Rendered,
    /// Rendering failed (see the server log); it is retried.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseLetter {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub account: ObjectId,
    pub creditor: ObjectId,
    pub case: ObjectId,
    #[serde(rename = "type")]
    pub kind: LetterKind,
    /// When the flow sent it (the case's limitation break when the letter interrupts it).
    pub sent_date: HttpDate,
    /// The last day to pay or object.
    pub pay_by: HttpDate,
    /// The claim the letter states.
    pub total: Money,
    pub status: LetterStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<MediaRef>,
    #[serde(rename = "_created")]
    pub created: HttpDate,
    #[serde(rename = "_updated")]
    pub updated: HttpDate,
    #[serde(rename = "_etag", default)]
    pub etag: String,
}
