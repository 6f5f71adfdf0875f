//! The route table: every path the server answers, with its handlers and what they take and
//! answer. The router ([`super::app`]) and the OpenAPI document (`/openapi.json`,
//! [`super::openapi`]) are both built from it, so neither can list a route the other lacks.
//! Request bodies are described from the same validation rules the handlers enforce, and
//! documents from the typed models they are stored as (`schemars`).

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use schemars::{JsonSchema, Schema as JsonSchemaDoc, SchemaGenerator};
use serde_json::{json, Value};

use super::routes as r;
use super::AppState;
use crate::domain::action::{CaseRespite, CreditorAction};
use crate::domain::bank::{BankFile, UnmatchedPayment};
use crate::domain::case::Case;
use crate::domain::finance::{Payout, PayoutSpecification};
use crate::domain::letter::CaseLetter;
use crate::domain::party::{AccessGroup, Account, Creditor, Customer, User};
use crate::domain::registration::CaseRegistration;
use crate::domain::webhook::{Webhook, WebhookDelivery};
use crate::eve::validate::{Mode, Schema};

/// One path and what each of its methods does.
pub struct Endpoint {
    pub path: &'static str,
    pub ops: Vec<Op>,
    router: MethodRouter<AppState>,
}

/// How a schema is found: from validation rules, from a typed model, or written here (for the
/// few answers that are not stored documents; the examples test checks those against the
/// server's real answers).
#[derive(Clone, Copy)]
pub enum Shape {
    Rules(Schema, Mode),
    Model(fn(&mut SchemaGenerator) -> JsonSchemaDoc),
    Inline(fn() -> Value),
}

fn model<T: JsonSchema>(g: &mut SchemaGenerator) -> JsonSchemaDoc {
    g.subschema_for::<T>()
}

/// A request body.
#[derive(Clone)]
pub enum Body {
    Json {
        shape: Shape,
        example: Option<Value>,
    },
    /// `multipart/form-data` with these fields: (name, is a file, required, description).
    Multipart(&'static [(&'static str, bool, bool, &'static str)]),
}

/// What an answer carries.
#[derive(Clone, Copy)]
pub enum Content {
    Empty,
    Json(Shape),
    /// An Eve list page of documents of this shape.
    Page(Shape),
    /// The error envelope (`_status: ERR`, `_error`).
    Error,
    /// The error envelope with `_issues`.
    Issues,
    /// Bytes of the stored file's type.
    File,
    Html,
}

/// A parameter beyond the path's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    Where,
    Projection,
    Sort,
    Page,
    MaxResults,
    IfMatch,
    IfNoneMatch,
    IdempotencyKey,
    /// `X-API-Key: <JWT>` on the token exchange.
    Jwt,
    /// The signed-URL query (`expires`, `content_type`, `signature`).
    SignedUrl,
}

/// One method on one path.
#[derive(Clone)]
pub struct Op {
    pub method: Method,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    /// Answered without an access token.
    pub public: bool,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub responses: Vec<(u16, &'static str, Content)>,
}

const LIST_PARAMS: [Param; 5] = [
    Param::Where,
    Param::Projection,
    Param::Sort,
    Param::Page,
    Param::MaxResults,
];

impl Op {
    fn new(id: &'static str, tag: &'static str, summary: &'static str) -> Op {
        Op {
            method: Method::GET,
            id,
            tag,
            summary,
            description: "",
            public: false,
            params: Vec::new(),
            body: None,
            responses: Vec::new(),
        }
    }

    /// An Eve list (`GET /things`): query parameters, a page of documents.
    fn list(id: &'static str, tag: &'static str, summary: &'static str, item: Shape) -> Op {
        Op::new(id, tag, summary)
            .params(&LIST_PARAMS)
            .answer(200, "A page of documents", Content::Page(item))
            .answer(
                400,
                "A malformed `where`, `sort` or `projection`",
                Content::Error,
            )
    }

    /// An Eve item (`GET /things/{id}`).
    fn item(id: &'static str, tag: &'static str, summary: &'static str, doc: Shape) -> Op {
        Op::new(id, tag, summary)
            .params(&[Param::Projection, Param::IfNoneMatch])
            .answer(
                200,
                "The document; its `ETag` header is `_etag`",
                Content::Json(doc),
            )
            .answer(
                304,
                "Unchanged since the `If-None-Match` etag",
                Content::Empty,
            )
            .answer(
                404,
                "No such document in the caller's scope",
                Content::Error,
            )
    }

    /// An Eve insert (`POST /things`).
    fn insert(id: &'static str, tag: &'static str, summary: &'static str, rules: Schema) -> Op {
        Op::new(id, tag, summary)
            .body(Shape::Rules(rules, Mode::Insert), None)
            .answer(201, "Created", Content::Json(Shape::Inline(meta_answer)))
            .answer(
                400,
                "Not a JSON object, or the wrong Content-Type",
                Content::Error,
            )
            .answer(
                422,
                "Validation failed: `_issues` by field",
                Content::Issues,
            )
    }

    fn method(mut self, m: Method) -> Op {
        self.method = m;
        self
    }

    fn describe(mut self, text: &'static str) -> Op {
        self.description = text;
        self
    }

    fn public(mut self) -> Op {
        self.public = true;
        self
    }

    fn params(mut self, params: &[Param]) -> Op {
        self.params.extend_from_slice(params);
        self
    }

    fn body(mut self, shape: Shape, example: Option<Value>) -> Op {
        self.body = Some(Body::Json { shape, example });
        self
    }

    fn multipart(mut self, fields: &'static [(&'static str, bool, bool, &'static str)]) -> Op {
        self.body = Some(Body::Multipart(fields));
        self
    }

    fn example(mut self, example: Value) -> Op {
        if let Some(Body::Json { example: e, .. }) = &mut self.body {
            *e = Some(example);
        }
        self
    }

    fn answer(mut self, status: u16, text: &'static str, content: Content) -> Op {
        self.responses.retain(|(s, _, _)| *s != status);
        self.responses.push((status, text, content));
        self
    }
}

impl Endpoint {
    fn at(path: &'static str) -> Endpoint {
        Endpoint {
            path,
            ops: Vec::new(),
            router: MethodRouter::new(),
        }
    }

    fn on<H, T>(mut self, method: Method, filter: MethodFilter, handler: H, op: Op) -> Endpoint
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.on(filter, handler);
        self.ops.push(op.method(method));
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, h: H, op: Op) -> Endpoint {
        self.on(Method::GET, MethodFilter::GET, h, op)
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, h: H, op: Op) -> Endpoint {
        self.on(Method::POST, MethodFilter::POST, h, op)
    }

    fn patch<H: Handler<T, AppState>, T: 'static>(self, h: H, op: Op) -> Endpoint {
        self.on(Method::PATCH, MethodFilter::PATCH, h, op)
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(self, h: H, op: Op) -> Endpoint {
        self.on(Method::DELETE, MethodFilter::DELETE, h, op)
    }

    /// A request body limit for every method of this path.
    fn body_limit(mut self, limit: axum::extract::DefaultBodyLimit) -> Endpoint {
        self.router = self.router.layer(limit);
        self
    }

    pub fn into_router(self) -> MethodRouter<AppState> {
        self.router
    }
}

/// The answer to an insert (`_id`, `_etag`, `_created`, `_updated`, `_status: OK`).
fn meta_answer() -> Value {
    json!({
        "type": "object",
        "required": ["_id", "_etag", "_created", "_updated", "_status"],
        "properties": {
            "_id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
            "_etag": {"type": "string"},
            "_created": {"type": "string"},
            "_updated": {"type": "string"},
            "_status": {"const": "OK"},
        },
    })
}

fn registration_answer() -> Value {
    let mut s = meta_answer();
    let ids = json!({"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{24}$"}});
    s["properties"]["_cases"] = ids.clone();
    s["properties"]["_ocr_numbers"] = ids;
    s["properties"]["_ocr_numbers_ocr"] =
        json!({"type": "array", "items": {"type": "string", "pattern": "^[0-9]+$"}});
    s["required"] = json!([
        "_id",
        "_etag",
        "_created",
        "_updated",
        "_status",
        "_cases",
        "_ocr_numbers",
        "_ocr_numbers_ocr"
    ]);
    s
}

fn action_answer() -> Value {
    let mut s = meta_answer();
    s["properties"]["_payment_status"] = json!({"enum": ["completed", "warning"]});
    s["properties"]["_cancellation_status"] = json!({"enum": ["completed", "warning"]});
    s["properties"]["_respite_status"] = json!({"enum": ["completed", "warning"]});
    s
}

fn token_answer() -> Value {
    json!({
        "type": "object",
        "required": ["_status", "token", "expires"],
        "properties": {
            "_status": {"const": "OK"},
            "token": {"type": "string", "description": "Send it as `X-API-Key` on every other request"},
            "expires": {"type": "string", "description": "RFC 1123"},
        },
    })
}

fn url_answer() -> Value {
    json!({
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri", "description": "A signed download URL, valid for one hour"},
        },
    })
}

fn forecast_answer(g: &mut SchemaGenerator) -> JsonSchemaDoc {
    let step = g.subschema_for::<crate::domain::forecast::ForecastStep>();
    let schema = json!({
        "type": "object",
        "required": ["case", "as_of", "state", "status", "closed", "steps"],
        "properties": {
            "case": {"type": "string"},
            "as_of": {"type": "string"},
            "state": {"type": "string"},
            "status": {"type": "string"},
            "closed": {"type": "boolean"},
            "total_remaining_transaction_amount": {"type": "number"},
            "steps": {"type": "array", "items": step},
        },
    });
    match schema {
        Value::Object(map) => JsonSchemaDoc::from(map),
        _ => JsonSchemaDoc::default(),
    }
}

fn clock_answer() -> Value {
    json!({
        "type": "object",
        "required": ["now"],
        "properties": {
            "_status": {"const": "OK"},
            "now": {"type": "string", "description": "The account's time, RFC 1123"},
            "follows_real_time": {"type": "boolean", "description": "True until the clock is first set"},
            "cases_changed": {"type": "integer"},
            "flow_items_run": {"type": "integer"},
            "interest_postings": {"type": "integer"},
            "letters_queued": {"type": "integer"},
        },
    })
}

fn reset_answer() -> Value {
    json!({
        "type": "object",
        "required": ["_status", "cases_deleted", "files_deleted"],
        "properties": {
            "_status": {"const": "OK"},
            "cases_deleted": {"type": "integer"},
            "files_deleted": {"type": "integer"},
        },
    })
}

fn match_answer() -> Value {
    json!({
        "type": "object",
        "required": ["_id", "_status", "status", "settled_amount", "amount"],
        "properties": {
            "_id": {"type": "string"},
            "_etag": {"type": "string"},
            "_updated": {"type": "string"},
            "_status": {"const": "OK"},
            "status": {"type": "string"},
            "settled_amount": {"type": "number"},
            "amount": {"type": "number"},
        },
    })
}

fn bank_file_answer() -> Value {
    json!({
        "allOf": [{"$ref": "#/components/schemas/BankFile"}],
        "properties": {
            "_status": {"const": "OK"},
            "_already_imported": {"type": "boolean"},
        },
        "required": ["_status", "_already_imported"],
    })
}

fn health_answer() -> Value {
    json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}})
}

fn ready_answer() -> Value {
    json!({
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"enum": ["ready", "unavailable"]},
            "database_ms": {"type": "integer"},
            "problems": {"type": "array", "items": {"type": "string"}},
        },
    })
}

/// Seed 002's registration body (the seeds' own example).
pub fn example_registration() -> Value {
    json!({
        "account": "674dbeaf08847b9501cc9132",
        "creditor": "674dbeb208847b9501cc9138",
        "first_action": "debt_collection",
        "currency": "SEK",
        "customer": {
            "name": "ACME Inc.",
            "id_number": "5560269986",
            "is_company": true,
            "address": {
                "address_line_1": "Storgatan 42",
                "zip_code": "12345",
                "city": "Stockholm",
                "country": "SE"
            }
        },
        "debts": [{
            "invoice_number": "INV-2025-003",
            "debt_description": "Services",
            "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT",
            "capital_to_claim": 2000.0,
            "invoice_due_days_after_invoice_date": 31
        }]
    })
}

/// Seed 002's creditor payment (its `case` is the registered case's `_id`).
pub fn example_payment() -> Value {
    json!({
        "account": "674dbeaf08847b9501cc9132",
        "creditor": "674dbeb208847b9501cc9138",
        "case": "68b7f49c7b02934caddab092",
        "currency": "SEK",
        "amount": 2000.0,
        "bank_transaction_date": "Wed, 03 Sep 2025 08:00:00 GMT",
        "creditor_payment_reference": "PAY-REF-001",
        "origin": "creditor_system"
    })
}

const MEDIA_FIELDS: &[(&str, bool, bool, &str)] = &[
    ("file", true, true, "The original invoice: PDF, JPEG, PNG, GIF or BMP (read from its bytes)"),
    ("domain", false, false, "`cases` (the file becomes the case's `original_invoice`); default `media--files`: stored, not attached"),
    ("dotted_path", false, false, "`original_invoice`; required with `cases`"),
];

const BANK_FILE_FIELDS: &[(&str, bool, bool, &str)] =
    &[("file", true, true, "A Bankgirot BgMax file (ISO-8859-1)")];

/// Every path the server answers.
pub fn endpoints() -> Vec<Endpoint> {
    use crate::http::routes::creditor_actions::Kind;
    const AUTH: &str = "Authentication";
    const CASES: &str = "Cases";
    const ACTIONS: &str = "Creditor actions";
    const BANK: &str = "Bank files and payments";
    const FINANCE: &str = "Finance";
    const SANDBOX: &str = "Sandbox";
    const TENANCY: &str = "Accounts and users";
    const OPS: &str = "Operations";
    let action = |kind: Kind, id, summary, text| {
        Op::insert(
            id,
            ACTIONS,
            summary,
            crate::http::routes::creditor_actions::schema(kind),
        )
        .describe(text)
        .params(&[Param::IdempotencyKey])
        .answer(201, "Recorded", Content::Json(Shape::Inline(action_answer)))
        .answer(409, "The case kept changing; send it again", Content::Error)
    };
    vec![
        Endpoint::at("/healthz").get(
            crate::http::routes::health::healthz,
            Op::new("healthz", OPS, "The process is up").public()
                .answer(200, "`{\"status\": \"ok\"}`", Content::Json(Shape::Inline(health_answer))),
        ),
        Endpoint::at("/readyz").get(
            crate::http::routes::health::readyz,
            Op::new("readyz", OPS, "Database reachable, migrations applied, worker alive")
                .public()
                .answer(200, "Ready", Content::Json(Shape::Inline(ready_answer)))
                .answer(503, "Not ready; `problems` says why", Content::Json(Shape::Inline(ready_answer))),
        ),
        Endpoint::at("/openapi.json").get(
            super::openapi::document,
            Op::new("openapi", OPS, "This document (OpenAPI 3.1)").public()
                .answer(200, "The OpenAPI document", Content::Json(Shape::Inline(|| json!({"type": "object"})))),
        ),
        Endpoint::at("/docs").get(
            super::openapi::swagger_page,
            Op::new("docs", OPS, "Swagger UI for this document").public()
                .answer(200, "An HTML page", Content::Html),
        ),
        Endpoint::at("/docs/{asset}").get(
            super::openapi::swagger_asset,
            Op::new("docs_asset", OPS, "Swagger UI's script and style sheet").public()
                .answer(200, "The file", Content::File)
                .answer(404, "No such file", Content::Error),
        ),
        Endpoint::at("/authenticates/api-code")
            .get(
                r::authenticates::get::handler,
                Op::new("authenticate_jwt", AUTH, "Exchange a signed JWT for an access token")
                    .describe("`X-API-Key` carries a JWT with the claims `api_code` and `exp` (at most 10 minutes ahead), signed with the API user's registered key (ES256/384/512, RS256/384/512).")
                    .public()
                    .params(&[Param::Jwt])
                    .answer(200, "An access token, valid for 60 minutes", Content::Json(Shape::Inline(token_answer)))
                    .answer(401, "A bad, expired or unknown JWT", Content::Error)
                    .answer(429, "Too many failures for this api code or address in a minute", Content::Error),
            )
            .post(
                r::authenticates::post::handler,
                Op::new("authenticate_api_code", AUTH, "Exchange an api code for an access token (allowed networks only)")
                    .public()
                    .body(Shape::Inline(|| json!({"type": "object", "required": ["api_code"], "properties": {"api_code": {"type": "string"}}})), None)
                    .answer(200, "An access token", Content::Json(Shape::Inline(token_answer)))
                    .answer(400, "Not JSON", Content::Error)
                    .answer(401, "Not from an allowed network, or an unknown api code", Content::Error)
                    .answer(429, "Too many failures", Content::Error),
            ),
        Endpoint::at("/case--registrations")
            .get(
                r::case_registrations::list::handler,
                Op::list("list_case_registrations", CASES, "Case registrations", Shape::Model(model::<CaseRegistration>)),
            )
            .post(
                r::case_registrations::post::handler,
                Op::insert("register_case", CASES, "Register an overdue invoice as a case", r::case_registrations::SCHEMA)
                    .describe("Up to 100 debts of one debtor. `_cases` holds the id of the case made, used for everything after (upload its original invoice to `/media--upload/{case id}`), and `_ocr_numbers_ocr` its OCR reference for the debtor's payments; `_id` is the registration's.")
                    .params(&[Param::IdempotencyKey])
                    .answer(201, "Registered", Content::Json(Shape::Inline(registration_answer)))
                    .example(example_registration()),
            ),
        Endpoint::at("/case--registrations/{id}").get(
            r::case_registrations::get::handler,
            Op::item("get_case_registration", CASES, "One case registration", Shape::Model(model::<CaseRegistration>)),
        ),
        Endpoint::at("/media--upload/{reference_id}")
            .post(
                r::media::upload::handler,
                Op::new("upload_media", CASES, "Upload a case's original invoice")
                    .describe("`reference_id` is the case's `_id` (from the registration's `_cases`). The same upload again replaces the file.")
                    .multipart(MEDIA_FIELDS)
                    .answer(201, "Stored; `url` is a signed download link", Content::Json(Shape::Inline(url_answer)))
                    .answer(400, "Not multipart, no file, an unknown `domain` or `dotted_path`, or a file that is not a document or image", Content::Error)
                    .answer(404, "No such case", Content::Error)
                    .answer(413, "Larger than `--max-upload-mb`", Content::Error)
                    .answer(422, "A field is missing or wrong", Content::Issues),
            )
            // The handler counts the bytes itself, against the media limit.
            .body_limit(axum::extract::DefaultBodyLimit::disable()),
        Endpoint::at("/media/{*key}").get(
            r::media::download::handler,
            Op::new("download_media", CASES, "A stored file, by the signed URL the server handed out")
                .public()
                .params(&[Param::SignedUrl])
                .answer(200, "The file", Content::File)
                .answer(403, "A tampered or expired URL", Content::Error)
                .answer(404, "No such file", Content::Error),
        ),
        Endpoint::at("/cases").get(
            r::cases::list::handler,
            Op::list("list_cases", CASES, "Cases", Shape::Model(model::<Case>))
                .describe("Seed 003's queries: open cases `where={\"closed\": {\"$exists\": false}}`, closed since a day `where={\"closed.close_date\": {\"$gte\": \"…\"}}`."),
        ),
        Endpoint::at("/cases/{id}").get(
            r::cases::get::handler,
            Op::item("get_case", CASES, "One case: state, history, transactions, letters", Shape::Model(model::<Case>)),
        ),
        Endpoint::at("/cases/{id}/forecast").get(
            r::cases::forecast::handler,
            Op::new("forecast_case", CASES, "What the case will do if nothing is paid")
                .answer(200, "The steps ahead", Content::Json(Shape::Model(forecast_answer)))
                .answer(404, "No such case", Content::Error),
        ),
        Endpoint::at("/creditor--payments")
            .get(
                r::creditor_actions::payments::list,
                Op::list("list_creditor_payments", ACTIONS, "Payments the creditor reported", Shape::Model(model::<CreditorAction>)),
            )
            .post(
                r::creditor_actions::payments::post,
                action(Kind::Payment, "report_creditor_payment", "Report a payment the debtor made to the creditor",
                    "Name the case by `case` (its `_id`) or by `invoice_number`. `_payment_status` is `warning` when the payment is larger than what was owed.")
                    .example(example_payment()),
            ),
        Endpoint::at("/creditor--payments/{id}").get(
            r::creditor_actions::payments::get,
            Op::item("get_creditor_payment", ACTIONS, "One reported payment", Shape::Model(model::<CreditorAction>)),
        ),
        Endpoint::at("/creditor--creditings")
            .get(
                r::creditor_actions::creditings::list,
                Op::list("list_creditor_creditings", ACTIONS, "Credit notes the creditor reported", Shape::Model(model::<CreditorAction>)),
            )
            .post(
                r::creditor_actions::creditings::post,
                action(Kind::Crediting, "report_creditor_crediting", "Report a credit note on the invoice", "Reduces the capital claimed."),
            ),
        Endpoint::at("/creditor--creditings/{id}").get(
            r::creditor_actions::creditings::get,
            Op::item("get_creditor_crediting", ACTIONS, "One reported crediting", Shape::Model(model::<CreditorAction>)),
        ),
        Endpoint::at("/creditor--cancellations")
            .get(
                r::creditor_actions::cancellations::list,
                Op::list("list_creditor_cancellations", ACTIONS, "Cancellations the creditor asked for", Shape::Model(model::<CreditorAction>)),
            )
            .post(
                r::creditor_actions::cancellations::post,
                action(Kind::Cancellation, "cancel_case", "Withdraw a case", "Closes the case; fees already charged follow the creditor's policy."),
            ),
        Endpoint::at("/creditor--cancellations/{id}").get(
            r::creditor_actions::cancellations::get,
            Op::item("get_creditor_cancellation", ACTIONS, "One cancellation", Shape::Model(model::<CreditorAction>)),
        ),
        Endpoint::at("/case--respites").get(
            r::case_respites::list,
            Op::list("list_case_respites", ACTIONS, "Respites given", Shape::Model(model::<CaseRespite>)),
        ),
        Endpoint::at("/case--respites/{id}")
            .get(
                r::case_respites::get,
                Op::item("get_case_respite", ACTIONS, "One respite", Shape::Model(model::<CaseRespite>)),
            )
            .post(
                r::case_respites::post,
                Op::insert("give_respite", ACTIONS, "Give the debtor more days on the case `{id}`", r::case_respites::SCHEMA)
                    .answer(201, "Given", Content::Json(Shape::Inline(action_answer)))
                    .answer(404, "No such case", Content::Error)
                    .answer(409, "The case kept changing; send it again", Content::Error)
                    .example(json!({"days": 14, "origin": "creditor_system"})),
            ),
        Endpoint::at("/case--letters").get(
            r::case_letters::list::handler,
            Op::list("list_case_letters", CASES, "Letters the flow sent", Shape::Model(model::<CaseLetter>)),
        ),
        Endpoint::at("/case--letters/{id}").get(
            r::case_letters::get::handler,
            Op::item("get_case_letter", CASES, "One letter, with a signed `url` to its PDF", Shape::Model(model::<CaseLetter>)),
        ),
        Endpoint::at("/bank--files")
            .get(
                r::bank_files::list,
                Op::list("list_bank_files", BANK, "Imported bank files (operators)", Shape::Model(model::<BankFile>)),
            )
            .post(
                r::bank_files::post,
                Op::new("import_bank_file", BANK, "Import a BgMax file (operators)")
                    .describe("The same file again answers 200 with the first import's report and adds nothing.")
                    .multipart(BANK_FILE_FIELDS)
                    .answer(201, "Imported; the report", Content::Json(Shape::Inline(bank_file_answer)))
                    .answer(200, "Imported before; the first report", Content::Json(Shape::Inline(bank_file_answer)))
                    .answer(403, "Not an operator", Content::Error)
                    .answer(409, "The same file is being imported", Content::Error)
                    .answer(413, "Too large", Content::Error)
                    .answer(422, "Malformed, or not paid to the agency's bankgiro", Content::Issues),
            )
            .body_limit(axum::extract::DefaultBodyLimit::max(
                r::bank_files::MAX_FILE_BYTES + 64 * 1024,
            )),
        Endpoint::at("/bank--files/{id}").get(
            r::bank_files::get,
            Op::item("get_bank_file", BANK, "One bank file's import report", Shape::Model(model::<BankFile>)),
        ),
        Endpoint::at("/payments--unmatched").get(
            r::unmatched_payments::list,
            Op::list("list_unmatched_payments", BANK, "Bank payments no case could be found for (operators)", Shape::Model(model::<UnmatchedPayment>)),
        ),
        Endpoint::at("/payments--unmatched/{id}").get(
            r::unmatched_payments::get,
            Op::item("get_unmatched_payment", BANK, "One unmatched payment", Shape::Model(model::<UnmatchedPayment>)),
        ),
        Endpoint::at("/payments--unmatched/{id}/match").post(
            r::unmatched_payments::match_to_case,
            Op::new("match_payment", BANK, "Settle an unmatched payment on a case (operators)")
                .body(Shape::Rules(r::unmatched_payments::MATCH, Mode::Insert), None)
                .answer(200, "Settled", Content::Json(Shape::Inline(match_answer)))
                .answer(404, "No such payment", Content::Error)
                .answer(409, "The case kept changing; send it again", Content::Error)
                .answer(422, "No such case, already matched, or the case is closed", Content::Issues),
        ),
        Endpoint::at("/finance--payout-specifications").get(
            r::finance::specifications,
            Op::list("list_payout_specifications", FINANCE, "What each payout is made of, line by line", Shape::Model(model::<PayoutSpecification>)),
        ),
        Endpoint::at("/finance--payout-specifications/{id}").get(
            r::finance::specification,
            Op::item("get_payout_specification", FINANCE, "One specification line", Shape::Model(model::<PayoutSpecification>)),
        ),
        Endpoint::at("/finance--payouts").get(
            r::finance::payouts,
            Op::list("list_payouts", FINANCE, "Payouts to creditors", Shape::Model(model::<Payout>)),
        ),
        Endpoint::at("/finance--payouts/{id}").get(
            r::finance::payout,
            Op::item("get_payout", FINANCE, "One payout", Shape::Model(model::<Payout>)),
        ),
        Endpoint::at("/sandbox/clock")
            .get(
                r::sandbox::clock::get,
                Op::new("get_sandbox_clock", SANDBOX, "The sandbox account's time")
                    .answer(200, "The time", Content::Json(Shape::Inline(clock_answer)))
                    .answer(404, "Not a sandbox account", Content::Error),
            )
            .post(
                r::sandbox::clock::post,
                Op::new("set_sandbox_clock", SANDBOX, "Move the sandbox account's time forward and run what fell due")
                    .body(Shape::Rules(r::sandbox::clock::SCHEMA, Mode::Insert), Some(json!({"now": "Wed, 03 Sep 2025 07:56:11 GMT"})))
                    .answer(200, "Moved; what ran", Content::Json(Shape::Inline(clock_answer)))
                    .answer(404, "Not a sandbox account", Content::Error)
                    .answer(409, "More than 10,000 of the account's letters wait to be typeset; send it again later", Content::Error)
                    .answer(422, "Backwards, or more than ten years ahead, while the account has cases", Content::Issues),
            ),
        Endpoint::at("/sandbox/reset").post(
            r::sandbox::reset::post,
            Op::new("reset_sandbox", SANDBOX, "Delete the sandbox account's cases")
                .answer(200, "Deleted", Content::Json(Shape::Inline(reset_answer)))
                .answer(404, "Not a sandbox account", Content::Error),
        ),
        Endpoint::at("/accounts")
            .get(
                r::accounts::list::handler,
                Op::list("list_accounts", TENANCY, "The caller's account", Shape::Model(model::<Account>)),
            )
            .post(
                r::accounts::post,
                Op::new("create_account", TENANCY, "Not available: accounts are created by the operator")
                    .public()
                    .answer(403, "Always", Content::Error),
            ),
        Endpoint::at("/accounts/{id}")
            .get(
                r::accounts::get::handler,
                Op::item("get_account", TENANCY, "The account", Shape::Model(model::<Account>)),
            )
            .patch(
                r::accounts::patch::handler,
                patch("update_account", TENANCY, "Change the account", r::accounts::SCHEMA),
            ),
        Endpoint::at("/access--groups").get(
            r::access_groups::list::handler,
            Op::list("list_access_groups", TENANCY, "Access groups", Shape::Model(model::<AccessGroup>)),
        ),
        Endpoint::at("/access--groups/{id}").get(
            r::access_groups::get::handler,
            Op::item("get_access_group", TENANCY, "One access group", Shape::Model(model::<AccessGroup>)),
        ),
        Endpoint::at("/customers").get(
            r::customers::list::handler,
            Op::list("list_customers", CASES, "Debtors", Shape::Model(model::<Customer>)),
        ),
        Endpoint::at("/customers/{id}").get(
            r::customers::get::handler,
            Op::item("get_customer", CASES, "One debtor", Shape::Model(model::<Customer>)),
        ),
        Endpoint::at("/users")
            .get(
                r::users::list::handler,
                Op::list("list_users", TENANCY, "Users", Shape::Model(model::<User>)),
            )
            .post(
                r::users::post::handler,
                Op::insert("create_user", TENANCY, "Add a user", r::users::SCHEMA),
            ),
        Endpoint::at("/users/{id}").get(
            r::users::get::handler,
            Op::item("get_user", TENANCY, "One user", Shape::Model(model::<User>)),
        ),
        Endpoint::at("/creditors")
            .get(
                r::creditors::list::handler,
                Op::list("list_creditors", TENANCY, "Creditors", Shape::Model(model::<Creditor>)),
            )
            .post(
                r::creditors::post::handler,
                Op::insert("create_creditor", TENANCY, "Add a creditor", crate::tenancy::creditors::SCHEMA),
            ),
        Endpoint::at("/creditors/{id}")
            .get(
                r::creditors::get::handler,
                Op::item("get_creditor", TENANCY, "One creditor", Shape::Model(model::<Creditor>)),
            )
            .patch(
                r::creditors::patch::handler,
                patch("update_creditor", TENANCY, "Change a creditor", crate::tenancy::creditors::SCHEMA),
            )
            .delete(
                r::creditors::delete::handler,
                Op::new("delete_creditor", TENANCY, "Remove a creditor and revoke its users' tokens")
                    .params(&[Param::IfMatch])
                    .answer(204, "Deleted", Content::Empty)
                    .answer(404, "No such creditor", Content::Error)
                    .answer(412, "The `If-Match` etag is not the current one", Content::Error)
                    .answer(428, "No `If-Match`", Content::Error),
            ),
    ]
    .into_iter()
    .chain(webhook_endpoints())
    .chain(audit_endpoints())
    .collect()
}

fn webhook_created_answer() -> Value {
    let mut s = meta_answer();
    s["properties"]["secret"] = json!({
        "type": "string",
        "pattern": "^whsec_[A-Za-z0-9+/]+=*$",
        "description": "The signing secret: keep it; it is not shown again",
    });
    s["required"] = json!(["_id", "_etag", "_created", "_updated", "_status", "secret"]);
    s
}

fn retry_answer() -> Value {
    json!({
        "type": "object",
        "required": ["_id", "_etag", "_status", "status", "next_attempt"],
        "properties": {
            "_id": {"type": "string"},
            "_etag": {"type": "string"},
            "_updated": {"type": "string"},
            "_status": {"const": "OK"},
            "status": {"const": "pending"},
            "next_attempt": {"type": "string"},
        },
    })
}

/// An example webhook.
pub fn example_webhook() -> Value {
    json!({
        "url": "https://erp.example.com/indriva/events",
        "events": ["case.state_changed", "case.closed", "payment.settled"],
        "description": "Our ERP"
    })
}

const WEBHOOKS_TEXT: &str = "Events are POSTed as `{\"type\", \"timestamp\", \"data\"}` with the \
    Standard Webhooks headers `webhook-id`, `webhook-timestamp` and `webhook-signature` \
    (`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the secret's bytes \
    after `whsec_`). `data` holds ids and states, never personal data: read the rest with \
    your token. Any 2xx answer delivers; anything else, or no answer within the timeout, is \
    tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (about three days).";

/// The webhook routes.
fn webhook_endpoints() -> Vec<Endpoint> {
    const HOOKS: &str = "Webhooks";
    vec![
        Endpoint::at("/webhooks")
            .get(
                r::webhooks::list,
                Op::list(
                    "list_webhooks",
                    HOOKS,
                    "Webhooks",
                    Shape::Model(model::<Webhook>),
                ),
            )
            .post(
                r::webhooks::post,
                Op::insert(
                    "create_webhook",
                    HOOKS,
                    "Subscribe a URL to events",
                    r::webhooks::SCHEMA,
                )
                .describe(WEBHOOKS_TEXT)
                .answer(
                    201,
                    "Created; `secret` is shown this once",
                    Content::Json(Shape::Inline(webhook_created_answer)),
                )
                .example(example_webhook()),
            ),
        Endpoint::at("/webhooks/{id}")
            .get(
                r::webhooks::get,
                Op::item(
                    "get_webhook",
                    HOOKS,
                    "One webhook (without its secret)",
                    Shape::Model(model::<Webhook>),
                ),
            )
            .patch(
                r::webhooks::patch,
                patch(
                    "update_webhook",
                    HOOKS,
                    "Change a webhook's URL, events, `active` or description",
                    r::webhooks::SCHEMA,
                ),
            )
            .delete(
                r::webhooks::delete,
                Op::new("delete_webhook", HOOKS, "Stop sending to a webhook")
                    .params(&[Param::IfMatch])
                    .answer(
                        204,
                        "Deleted (or there was no such webhook)",
                        Content::Empty,
                    )
                    .answer(
                        412,
                        "The `If-Match` etag is not the current one",
                        Content::Error,
                    )
                    .answer(428, "No `If-Match`", Content::Error),
            ),
        Endpoint::at("/webhook--deliveries").get(
            r::webhooks::deliveries,
            Op::list(
                "list_webhook_deliveries",
                HOOKS,
                "Each event sent to each webhook, with its attempts",
                Shape::Model(model::<WebhookDelivery>),
            )
            .describe("`where={\"status\": \"failed\"}` finds what never arrived."),
        ),
        Endpoint::at("/webhook--deliveries/{id}").get(
            r::webhooks::delivery,
            Op::item(
                "get_webhook_delivery",
                HOOKS,
                "One delivery: the payload, every attempt and answer",
                Shape::Model(model::<WebhookDelivery>),
            ),
        ),
        Endpoint::at("/webhook--deliveries/{id}/retry").post(
            r::webhooks::retry,
            Op::new(
                "retry_webhook_delivery",
                HOOKS,
                "Send a delivery again, now",
            )
            .answer(
                202,
                "Queued; sent within a second or so",
                Content::Json(Shape::Inline(retry_answer)),
            )
            .answer(404, "No such delivery", Content::Error)
            .answer(
                412,
                "The delivery changed meanwhile; ask again",
                Content::Error,
            ),
        ),
    ]
}

/// The audit trail.
fn audit_endpoints() -> Vec<Endpoint> {
    const AUDIT: &str = "Audit trail";
    const FORBIDDEN: &str = "An API user bound to one creditor";
    vec![
        Endpoint::at("/audit--events").get(
            r::audit::list,
            Op::list(
                "list_audit_events",
                AUDIT,
                "Who wrote what, when: one event per account and author per transaction",
                Shape::Model(model::<crate::audit::AuditEvent>),
            )
            .describe("Appended in the transaction of each write, never changed. `where={\"writes.item\": \"<case id>\"}` gives one case's history; `actor.type` tells API users, operators, commands and the worker apart.")
            .answer(403, FORBIDDEN, Content::Error),
        ),
        Endpoint::at("/audit--events/{id}").get(
            r::audit::get,
            Op::item(
                "get_audit_event",
                AUDIT,
                "One audit event",
                Shape::Model(model::<crate::audit::AuditEvent>),
            )
            .answer(403, FORBIDDEN, Content::Error),
        ),
    ]
}

/// An Eve PATCH with `If-Match`.
fn patch(id: &'static str, tag: &'static str, summary: &'static str, rules: Schema) -> Op {
    Op::new(id, tag, summary)
        .params(&[Param::IfMatch])
        .body(Shape::Rules(rules, Mode::Update), None)
        .answer(
            200,
            "Changed; the new `_etag`",
            Content::Json(Shape::Inline(meta_answer)),
        )
        .answer(404, "No such document", Content::Error)
        .answer(
            412,
            "The `If-Match` etag is not the current one",
            Content::Error,
        )
        .answer(422, "Validation failed", Content::Issues)
        .answer(428, "No `If-Match`", Content::Error)
}
