//! The generic Eve read endpoints, reused by every resource: a collection GET
//! (`_items` + `_meta`, `X-Total-Count`, `Last-Modified`) and an item GET (`ETag`,
//! `Last-Modified`, conditional requests → 304).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::AppState;
use crate::domain::{HttpDate, ObjectId};
use crate::eve::{Filter, Paging, Projection, Resource, Sort};
use crate::scope::Scope;
use crate::store::{ListQuery, Row, Search};

/// The query parameters Eve reads; the first occurrence of each wins (Werkzeug's MultiDict).
#[derive(Debug, Default)]
pub struct EveParams {
    pub where_: Option<String>,
    pub projection: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub max_results: Option<String>,
    pub pretty: bool,
}

impl EveParams {
    pub fn parse(raw: Option<&str>) -> EveParams {
        let mut p = EveParams::default();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let slot = match k.as_ref() {
                "where" => &mut p.where_,
                "projection" => &mut p.projection,
                "sort" => &mut p.sort,
                "page" => &mut p.page,
                "max_results" => &mut p.max_results,
                "pretty" => {
                    p.pretty = true;
                    continue;
                }
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(v.into_owned());
            }
        }
        p
    }
}

fn json_response(status: StatusCode, body: String, pretty: bool) -> Response {
    let body = if pretty {
        prettify(&body).unwrap_or(body)
    } else {
        body
    };
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// `?pretty`: indented by four spaces, as Eve does.
fn prettify(body: &str) -> Option<String> {
    use serde::Serialize;
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    v.serialize(&mut ser).ok()?;
    String::from_utf8(out).ok()
}

fn http_date(unix: i64) -> Option<HeaderValue> {
    HttpDate::from_unix(unix).and_then(|d| HeaderValue::from_str(&d.to_string()).ok())
}

/// `GET /<resource>`.
pub async fn list(
    state: &AppState,
    res: &Resource,
    scope: &Scope,
    raw_query: Option<&str>,
) -> Result<Response, ApiError> {
    list_searching(state, res, scope, raw_query, &[]).await
}

/// Changes a stored row before it is served (adds fields computed at read time, such as a
/// freshly signed URL); it must change the row's `etag` when it changes the document.
pub type Decorate<'a> = &'a (dyn Fn(&mut Row) + Send + Sync);

/// `GET /<resource>` with resource-specific search parameters ANDed to the `where`.
pub async fn list_searching(
    state: &AppState,
    res: &Resource,
    scope: &Scope,
    raw_query: Option<&str>,
    search: &[Search],
) -> Result<Response, ApiError> {
    list_decorated(state, res, scope, raw_query, search, &|_| {}).await
}

/// `GET /<resource>`, each row decorated before projection.
pub async fn list_decorated(
    state: &AppState,
    res: &Resource,
    scope: &Scope,
    raw_query: Option<&str>,
    search: &[Search],
    decorate: Decorate<'_>,
) -> Result<Response, ApiError> {
    let params = EveParams::parse(raw_query);
    let filter = Filter::parse(params.where_.as_deref().unwrap_or(""))?;
    let projection = Projection::parse(params.projection.as_deref())?;
    let sort = Sort::parse(params.sort.as_deref().unwrap_or(""))?;
    let paging = Paging::parse(params.page.as_deref(), params.max_results.as_deref());
    let mut page = state
        .app
        .store
        .list(
            res,
            &ListQuery {
                scope,
                filter: &filter,
                sort: &sort,
                paging,
                search,
            },
        )
        .await?;

    page.rows.iter_mut().for_each(decorate);
    let mut body = String::with_capacity(64 + page.rows.iter().map(|r| r.doc.len()).sum::<usize>());
    body.push_str("{\"_items\":[");
    for (i, row) in page.rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        projection
            .write(&row.doc, &mut body)
            .map_err(ApiError::internal)?;
    }
    body.push_str(&format!(
        "],\"_meta\":{{\"page\":{},\"max_results\":{},\"total\":{}}}}}",
        paging.page, paging.max_results, page.total
    ));
    let mut resp = json_response(StatusCode::OK, body, params.pretty);
    let headers = resp.headers_mut();
    headers.insert("x-total-count", HeaderValue::from(page.total));
    if let Some(lm) = page
        .rows
        .iter()
        .map(|r| r.updated)
        .max()
        .and_then(http_date)
    {
        headers.insert(header::LAST_MODIFIED, lm);
    }
    Ok(resp)
}

/// `GET /<resource>/<id>`: an id that is not 24 lowercase hex is as unknown as a missing one.
pub async fn item(
    state: &AppState,
    res: &Resource,
    scope: &Scope,
    id: &str,
    raw_query: Option<&str>,
    req_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    item_decorated(state, res, scope, id, raw_query, req_headers, &|_| {}).await
}

/// `GET /<resource>/<id>`, the row decorated before it is served.
pub async fn item_decorated(
    state: &AppState,
    res: &Resource,
    scope: &Scope,
    id: &str,
    raw_query: Option<&str>,
    req_headers: &HeaderMap,
    decorate: Decorate<'_>,
) -> Result<Response, ApiError> {
    let id = ObjectId::parse(id).map_err(|_| ApiError::not_found())?;
    // A bad projection is a 400 before anything is read.
    Projection::parse(EveParams::parse(raw_query).projection.as_deref())?;
    let mut row = state
        .app
        .store
        .get(res, scope, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    decorate(&mut row);
    item_from_row(row, raw_query, req_headers)
}

/// Answers an item GET with a row already read: projection, `ETag`, `Last-Modified`, 304.
pub fn item_from_row(
    row: Row,
    raw_query: Option<&str>,
    req_headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let params = EveParams::parse(raw_query);
    let projection = Projection::parse(params.projection.as_deref())?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", row.etag)).map_err(ApiError::internal)?;

    if not_modified(req_headers, &row.etag, row.updated) {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        resp.headers_mut().insert(header::ETAG, etag);
        return Ok(resp);
    }
    let mut body = String::with_capacity(row.doc.len());
    projection
        .write(&row.doc, &mut body)
        .map_err(ApiError::internal)?;
    let mut resp = json_response(StatusCode::OK, body, params.pretty);
    resp.headers_mut().insert(header::ETAG, etag);
    if let Some(lm) = http_date(row.updated) {
        resp.headers_mut().insert(header::LAST_MODIFIED, lm);
    }
    Ok(resp)
}

/// Eve's conditional GET: every validator present must match. `If-None-Match` is compared
/// after dropping a leading `W/` and all double quotes (no lists, no `*`);
/// `If-Modified-Since` matches when the document is not newer than it (a malformed date is
/// ignored rather than crashing, as Eve would).
fn not_modified(h: &HeaderMap, etag: &str, updated: i64) -> bool {
    let inm = h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let ims = h
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| HttpDate::parse_lenient(s).ok());
    if inm.is_none() && ims.is_none() {
        return false;
    }
    let inm_ok = inm.is_none_or(|v| v.trim().trim_start_matches("W/").replace('"', "") == etag);
    let ims_ok = ims.is_none_or(|d| updated <= d.unix() + 1);
    inm_ok && ims_ok
}
