//! The OpenAPI 3.1 document, built from the route table ([`super::api`]) at first use, and
//! Swagger UI (vendored in the binary: nothing is fetched at build or run time).

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use schemars::generate::{Contract, SchemaSettings};
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use super::api::{endpoints, Body, Content, Op, Param, Shape};
use super::error::ApiError;
use crate::eve::validate::schema_json;

/// The document, serialized once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| build().to_string());

pub async fn document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

const SWAGGER_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Indriva API</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<style>body { margin: 0; } .swagger-ui .topbar { display: none; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
"#;

/// Kept out of the page so a strict Content-Security-Policy (no inline script) can hold.
const SWAGGER_INIT: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  displayRequestDuration: true,
  tryItOutEnabled: false,
  // `/docs?expand=Tag/operation_id` opens one operation where it stands (a deep link,
  // `#/Tag/operation_id`, opens it and scrolls to it).
  onComplete: function () {
    var m = window.location.search.match(/[?&]expand=([^&]+)/);
    if (m) {
      var parts = decodeURIComponent(m[1]).split("/");
      window.ui.layoutActions.show(["operations", parts[0], parts[1]], true);
    }
  },
});
"##;

pub async fn swagger_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
            ),
        ],
        SWAGGER_PAGE,
    )
        .into_response()
}

pub async fn swagger_asset(Path(asset): Path<String>) -> Result<Response, ApiError> {
    let (bytes, content_type): (&'static [u8], &str) = match asset.as_str() {
        "swagger-ui-bundle.js" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
            "text/javascript; charset=utf-8",
        ),
        "swagger-ui.css" => (
            include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
            "text/css; charset=utf-8",
        ),
        "favicon-32x32.png" => (
            include_bytes!("../../assets/swagger-ui/favicon-32x32.png"),
            "image/png",
        ),
        "swagger-init.js" => (SWAGGER_INIT.as_bytes(), "text/javascript; charset=utf-8"),
        _ => return Err(ApiError::not_found()),
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

/// The OpenAPI 3.1 document of every route in the table.
pub fn build() -> Value {
    let mut gen = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.contract = Contract::Serialize;
            s.meta_schema = None;
        })
        .into_generator();
    let mut paths = Map::new();
    let mut tags: Vec<&str> = Vec::new();
    // In the order an integrator reads them (Swagger UI shows them so): signing in, cases,
    // what a creditor does to them, money, events, the sandbox, then the set-up and the
    // server's own endpoints.
    let rank = |tag: &str| {
        TAG_ORDER
            .iter()
            .position(|t| *t == tag)
            .unwrap_or(TAG_ORDER.len())
    };
    let mut endpoints = endpoints();
    endpoints.sort_by_key(|e| e.ops.first().map_or(TAG_ORDER.len(), |op| rank(op.tag)));
    for endpoint in endpoints {
        let (path, path_params) = openapi_path(endpoint.path);
        let mut item = Map::new();
        for op in &endpoint.ops {
            if !tags.contains(&op.tag) {
                tags.push(op.tag);
            }
            item.insert(
                op.method.as_str().to_ascii_lowercase(),
                operation(op, &path_params, &mut gen),
            );
        }
        paths.insert(path, Value::Object(item));
    }
    tags.sort_by_key(|t| rank(t));
    let mut schemas = gen.take_definitions(true);
    // Documents come back as Eve answers them: with a `projection`, only the fields asked for
    // and the meta fields. So no field of a document is required but those (a client
    // generated from this document must not fail on a projected read).
    for schema in schemas.values_mut() {
        only_meta_required(schema);
    }
    schemas.insert("Error".into(), error_schema(false));
    schemas.insert("ValidationError".into(), error_schema(true));
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Indriva",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Debt-collection case management, wire-compatible with Amili's creditor API",
            "description": INTRO,
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/"}],
        "security": [{"ApiKey": []}],
        "tags": tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "paths": paths,
        "webhooks": outgoing_webhooks(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "The access token from `/authenticates/api-code`.",
                },
            },
        },
    })
}

/// Keeps in every `required` list of a document schema (and the objects inside it) only the
/// meta fields Eve returns whatever the projection.
fn only_meta_required(schema: &mut Value) {
    const META: [&str; 4] = ["_id", "_etag", "_created", "_updated"];
    match schema {
        Value::Object(o) => {
            if let Some(Value::Array(required)) = o.get_mut("required") {
                required.retain(|f| f.as_str().is_some_and(|f| META.contains(&f)));
                if required.is_empty() {
                    o.remove("required");
                }
            }
            for v in o.values_mut() {
                only_meta_required(v);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(only_meta_required),
        _ => {}
    }
}

/// The order of the document's tags.
pub const TAG_ORDER: &[&str] = &[
    "Authentication",
    "Cases",
    "Creditor actions",
    "Finance",
    "Bank files and payments",
    "Webhooks",
    "Sandbox",
    "Accounts and users",
    "Audit trail",
    "Operations",
];

const INTRO: &str = "Python Eve underneath: lists take `where` (MongoDB JSON or Python \
    expressions), `projection`, `sort`, `page` and `max_results`; every error is \
    `{\"_status\": \"ERR\", \"_error\": {\"code\", \"message\"}}`, with `_issues` by field when \
    validation fails. Dates are RFC 1123 (`Mon, 07 Jul 2025 00:00:00 GMT`), amounts are \
    kronor with at most two decimals, ids 24 hex characters. Get a token from \
    `/authenticates/api-code` and send it as `X-API-Key`.";

/// `/media/{*key}` → `/media/{key}`, and the path's parameter names.
fn openapi_path(path: &str) -> (String, Vec<String>) {
    let mut names = Vec::new();
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').map_or(rest.len(), |e| start + e);
        let name = rest[start + 1..end].trim_start_matches('*').to_string();
        out.push_str(&rest[..start]);
        out.push_str(&format!("{{{name}}}"));
        names.push(name);
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    (out, names)
}

fn shape_schema(shape: Shape, gen: &mut SchemaGenerator) -> Value {
    match shape {
        Shape::Rules(rules, mode) => schema_json(rules, mode),
        Shape::Model(f) => f(gen).to_value(),
        Shape::Inline(f) => f(),
    }
}

fn error_schema(with_issues: bool) -> Value {
    let mut s = json!({
        "type": "object",
        "required": ["_status", "_error"],
        "properties": {
            "_status": {"const": "ERR"},
            "_error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            },
        },
    });
    if with_issues {
        s["required"] = json!(["_status", "_error", "_issues"]);
        s["properties"]["_issues"] = json!({
            "type": "object",
            "description": "By field: a message, a list of messages, or nested issues",
        });
    }
    s
}

fn param(p: Param) -> Value {
    let q = |name: &str, text: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": text, "schema": schema});
    let h = |name: &str, text: &str, required: bool| json!({"name": name, "in": "header", "required": required, "description": text, "schema": {"type": "string"}});
    match p {
        Param::Where => q(
            "where",
            "A filter: MongoDB JSON (`{\"state\": \"debt_collection\"}`) or a Python expression (`state == \"debt_collection\"`)",
            json!({"type": "string"}),
        ),
        Param::Projection => q(
            "projection",
            "Fields to include (`{\"state\": 1}`) or exclude (`{\"transactions\": 0}`)",
            json!({"type": "string"}),
        ),
        Param::Sort => q(
            "sort",
            "`[(\"_created\", -1)]`, `-_created,state` or a JSON list of pairs",
            json!({"type": "string"}),
        ),
        Param::Page => q("page", "Page number, from 1", json!({"type": "integer", "minimum": 1})),
        Param::MaxResults => q(
            "max_results",
            "Documents per page (default 25, at most 1000)",
            json!({"type": "integer", "minimum": 1}),
        ),
        Param::IfMatch => h("If-Match", "The document's current `_etag`", true),
        Param::IfNoneMatch => h("If-None-Match", "An `_etag`: 304 when unchanged", false),
        Param::IdempotencyKey => h(
            "Idempotency-Key",
            "Printable ASCII, at most 255 characters: the same key and body again answers the first answer and writes nothing",
            false,
        ),
        Param::Jwt => h("X-API-Key", "A JWT signed with the API user's key", true),
        Param::SignedUrl => q(
            "signature",
            "With `expires` and `content_type`: the signed URL's query, as handed out",
            json!({"type": "string"}),
        ),
    }
}

fn operation(op: &Op, path_params: &[String], gen: &mut SchemaGenerator) -> Value {
    let mut params: Vec<Value> = path_params
        .iter()
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect();
    params.extend(op.params.iter().map(|p| param(*p)));
    let mut o = json!({
        "operationId": op.id,
        "tags": [op.tag],
        "summary": op.summary,
    });
    if !op.description.is_empty() {
        o["description"] = json!(op.description);
    }
    if !params.is_empty() {
        o["parameters"] = json!(params);
    }
    if op.public {
        o["security"] = json!([]);
    }
    match &op.body {
        Some(Body::Json { shape, example }) => {
            let mut media = json!({"schema": shape_schema(*shape, gen)});
            if let Some(example) = example {
                media["example"] = example.clone();
            }
            o["requestBody"] = json!({"required": true, "content": {"application/json": media}});
        }
        Some(Body::Multipart(fields)) => {
            let properties: Map<String, Value> = fields
                .iter()
                .map(|(name, file, _, text)| {
                    let schema = if *file {
                        json!({"type": "string", "contentMediaType": "application/octet-stream", "description": text})
                    } else {
                        json!({"type": "string", "description": text})
                    };
                    (name.to_string(), schema)
                })
                .collect();
            let required: Vec<&str> = fields.iter().filter(|f| f.2).map(|f| f.0).collect();
            o["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {
                "schema": {"type": "object", "properties": properties, "required": required},
            }}});
        }
        None => {}
    }
    let mut responses = Map::new();
    for (status, text, content) in &op.responses {
        let mut r = json!({"description": text});
        let json_content = |schema: Value| json!({"application/json": {"schema": schema}});
        match content {
            Content::Empty => {}
            Content::Json(shape) => r["content"] = json_content(shape_schema(*shape, gen)),
            Content::Page(shape) => {
                r["content"] = json_content(json!({
                    "type": "object",
                    "required": ["_items", "_meta"],
                    "properties": {
                        "_items": {"type": "array", "items": shape_schema(*shape, gen)},
                        "_meta": {
                            "type": "object",
                            "required": ["page", "max_results", "total"],
                            "properties": {
                                "page": {"type": "integer"},
                                "max_results": {"type": "integer"},
                                "total": {"type": "integer"},
                            },
                        },
                    },
                }))
            }
            Content::Error => {
                r["content"] = json_content(json!({"$ref": "#/components/schemas/Error"}))
            }
            Content::Issues => {
                r["content"] = json_content(json!({"$ref": "#/components/schemas/ValidationError"}))
            }
            Content::File => {
                r["content"] = json!({"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}})
            }
            Content::Html => r["content"] = json!({"text/html": {"schema": {"type": "string"}}}),
        }
        responses.insert(status.to_string(), r);
    }
    if !op.public && !responses.contains_key("401") {
        responses.insert(
            "401".into(),
            json!({"description": "No valid access token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    if !op.public && !responses.contains_key("403") {
        responses.insert(
            "403".into(),
            json!({"description": "Outside the caller's scope: another account or creditor, or an operator's resource", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    // What every operation of its kind can answer, where the operation says nothing more
    // particular: the generic request handling's refusals.
    let error = |text: &str| json!({"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut generic = |status: &str, text: &str| {
        responses.entry(status).or_insert_with(|| error(text));
    };
    if op.params.contains(&Param::Projection) {
        generic("400", "A malformed `projection`");
    }
    match &op.body {
        Some(Body::Json { .. }) => {
            generic(
                "400",
                "Not a JSON object, or a missing or wrong Content-Type",
            );
        }
        Some(Body::Multipart(_)) => {
            generic("400", "Not multipart/form-data, or a malformed form");
        }
        None => {}
    }
    if op.body.is_some() {
        generic("408", "The body was not received in time");
        generic("413", "The body is larger than the server takes");
    }
    if !path_params.is_empty() {
        generic("404", "No such document in the caller's scope");
    }
    o["responses"] = Value::Object(responses);
    o
}

/// What the server sends to a subscribed URL (OpenAPI 3.1's `webhooks`).
fn outgoing_webhooks() -> Value {
    let header = |name: &str, text: &str| json!({"name": name, "in": "header", "required": true, "description": text, "schema": {"type": "string"}});
    let data = json!({
        "type": "object",
        "required": ["account"],
        "properties": {
            "account": {"type": "string"},
            "creditor": {"type": "string"},
            "case": {"type": "string"},
            "state": {"type": "string"},
            "previous_state": {"type": ["string", "null"]},
            "status": {"type": "string"},
            "close_reason": {"type": "string"},
            "letter": {"type": "string"},
            "letter_type": {"type": "string"},
            "amount": {"type": "number"},
            "paid_to": {"enum": ["creditor", "debtor"]},
            "creditor_payment": {"type": "string"},
            "unmatched_payment": {"type": "string"},
            "bank_file": {"type": "string"},
            "reason": {"type": "string"},
            "payout": {"type": "string"},
            "payout_reference": {"type": "string"},
            "total_amount": {"type": "number"},
            "line_count": {"type": "integer"},
        },
    });
    json!({
        "event": {
            "post": {
                "operationId": "webhook_event",
                "tags": ["Webhooks"],
                "summary": "An event, POSTed to each webhook that subscribed to its type",
                "description": "Signed as Standard Webhooks prescribes: verify `webhook-signature` before trusting the body. `data` holds ids, states and amounts, never personal data.",
                "security": [],
                "parameters": [
                    header("webhook-id", "`msg_` + the delivery's id: the same on every attempt"),
                    header("webhook-timestamp", "Unix seconds, real time, of this attempt"),
                    header("webhook-signature", "`v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the secret's bytes after `whsec_`"),
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["type", "timestamp", "data"],
                    "properties": {
                        "type": {"enum": crate::domain::webhook::EVENTS},
                        "timestamp": {"type": "string", "format": "date-time", "description": "When it happened, in the account's time"},
                        "data": data,
                    },
                }}}},
                "responses": {
                    "2XX": {"description": "Delivered"},
                    "default": {"description": "Not delivered: tried again on the schedule (about three days)"},
                },
            },
        },
    })
}
