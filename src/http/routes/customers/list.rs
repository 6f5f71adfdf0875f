//! `GET /customers`, with Amili's search parameters (amili-api.md §4.15) besides `where`:
//! `id_number` (any written form of a Swedish identity number matches its canonical form),
//! `name` (case-insensitive substring) and `email` (case-insensitive, exact).

use axum::extract::{RawQuery, State};
use axum::response::Response;

use crate::domain::identity::parse_id_number;
use crate::http::error::ApiError;
use crate::http::scope::RequestScope;
use crate::http::{eve, AppState};
use crate::resources::CUSTOMERS;
use crate::store::Search;

pub async fn handler(
    State(state): State<AppState>,
    RequestScope(scope): RequestScope,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let today = state.app.clocks.real().date();
    let mut search = vec![];
    let mut seen = [false; 3];
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()) {
        let (slot, s) = match k.as_ref() {
            "id_number" => (
                0,
                Search::Eq(
                    "id_number",
                    parse_id_number(&v, today)
                        .map(|n| n.canonical)
                        .unwrap_or_else(|_| v.trim().to_string()),
                ),
            ),
            "name" => (1, Search::Contains("name_lower", v.trim().to_string())),
            "email" => (2, Search::Eq("email_lower", v.trim().to_lowercase())),
            _ => continue,
        };
        // The first occurrence wins, as for Eve's own parameters.
        if !std::mem::replace(&mut seen[slot], true) {
            search.push(s);
        }
    }
    eve::list_searching(&state, &CUSTOMERS, &scope, query.as_deref(), &search).await
}
