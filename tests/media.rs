//! `POST /media--upload/{reference_id}` and the signed download URL (issue 5 §3): seed 001's
//! upload as Python's `requests` sends it, every documented error, replacement, and no file
//! left behind by a failed request.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::multipart;
use common::{insert_account, Api, Resp};
use futures_util::TryStreamExt;
use indriva::domain::Clock;
use object_store::ObjectStore;
use serde_json::{json, Value};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

fn ok(r: &Resp, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

async fn upload(
    api: &Api,
    token: &str,
    reference: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Resp {
    let (ct, body) = multipart(fields, file);
    api.send_as(
        Some(token),
        Request::post(format!("/media--upload/{reference}"))
            .header("content-type", ct)
            .header("host", "indriva.test")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

const INVOICE_FORM: &[(&str, &str)] = &[("domain", "cases"), ("dotted_path", "original_invoice")];

async fn registered_case(api: &Api) -> String {
    let body = json!({
        "account": "674dbeaf08847b9501cc9132", "creditor": "674dbeb208847b9501cc9138",
        "first_action": "debt_collection", "currency": "SEK",
        "customer": {"name": "ACME Inc.", "id_number": "5560269986", "is_company": true,
                     "address": {"address_line_1": "Storgatan 42", "zip_code": "12345",
                                 "city": "Stockholm", "country": "SE"}},
        "debts": [{"invoice_number": "INV-2025-003", "debt_description": "Services",
                   "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT", "capital_to_claim": 2050.0,
                   "invoice_due_days_after_invoice_date": 31}]
    });
    let v = ok(
        &api.post("/case--registrations", &body).await,
        StatusCode::CREATED,
    );
    v["_cases"][0].as_str().unwrap().to_string()
}

/// The path and query of a signed URL, to send to the test app.
fn local(url: &str) -> String {
    url.strip_prefix("http://indriva.test")
        .expect(url)
        .to_string()
}

async fn stored_objects(api: &Api) -> usize {
    api.media
        .store
        .list(None)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn the_original_invoice_is_stored_attached_and_served_by_signed_url() {
    let mut api = Api::new().await;
    let case_id = registered_case(&api).await;
    let token = api.token.clone();
    let r = upload(
        &api,
        &token,
        &case_id,
        INVOICE_FORM,
        Some(("original_invoice.pdf", "application/pdf", PDF)),
    )
    .await;
    let v = ok(&r, StatusCode::CREATED);
    // Exactly what seed 001 shows: the signed URL and nothing else.
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["url"],
        "{v}"
    );
    let url = v["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("http://indriva.test/media/cases/{case_id}-")),
        "{url}"
    );

    let case = ok(&api.get(&format!("/cases/{case_id}")).await, StatusCode::OK);
    let inv = &case["original_invoice"];
    assert_eq!(inv["filename"], "original_invoice.pdf");
    assert_eq!(inv["content_type"], "application/pdf");
    assert_eq!(inv["size"], PDF.len());
    assert!(inv["id"].as_str().unwrap().starts_with("cases/"));

    // No token needed: the signed URL is the credential.
    let got = api.get_as(None, &local(url)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, PDF);
    assert_eq!(got.headers["content-type"], "application/pdf");

    // A tampered URL, or one past its hour, is refused.
    let tampered = local(url).replace("content_type=application%2Fpdf", "content_type=text%2Fhtml");
    assert_eq!(
        api.get_as(None, &tampered).await.status,
        StatusCode::FORBIDDEN
    );
    let other_file = local(url).replace(&case_id, "000000000000000000000001");
    assert_eq!(
        api.get_as(None, &other_file).await.status,
        StatusCode::FORBIDDEN
    );
    let unsigned = local(url).split('?').next().unwrap().to_string();
    assert_eq!(
        ok(&api.get_as(None, &unsigned).await, StatusCode::FORBIDDEN)["_error"]["code"],
        403
    );
    api.clock.set(api.clock.now().plus_seconds(3601));
    assert_eq!(
        api.get_as(None, &local(url)).await.status,
        StatusCode::FORBIDDEN
    );

    // Uploading again (with a fresh token: an hour has passed) replaces the file; the old
    // object is deleted.
    api.token = api
        .token_for(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let token = api.token.clone();
    let r = upload(
        &api,
        &token,
        &case_id,
        INVOICE_FORM,
        Some(("scan.png", "image/png", PNG)),
    )
    .await;
    let url2 = ok(&r, StatusCode::CREATED)["url"]
        .as_str()
        .unwrap()
        .to_string();
    let case = ok(&api.get(&format!("/cases/{case_id}")).await, StatusCode::OK);
    assert_eq!(case["original_invoice"]["content_type"], "image/png");
    assert_eq!(case["original_invoice"]["filename"], "scan.png");
    // The replaced file is deleted by a job, after the commit.
    assert_eq!(stored_objects(&api).await, 2);
    let sender = indriva::webhooks::Sender::new(Default::default()).unwrap();
    let ran = api
        .job_runner(sender, indriva::worker::Jobs::Files)
        .drain(indriva::jobs::Priority::Backfill, None)
        .await
        .unwrap();
    assert_eq!(ran, 1);
    assert_eq!(stored_objects(&api).await, 1);
    let got = api.get_as(None, &local(&url2)).await;
    assert_eq!(got.body, PNG);
}

#[tokio::test]
async fn every_documented_error_and_no_file_left_behind() {
    let api = Api::new().await;
    let case_id = registered_case(&api).await;
    let token = api.token.clone();
    let pdf = Some(("invoice.pdf", "application/pdf", PDF));
    let message = |r: &Resp, status: StatusCode| -> String {
        ok(r, status)["_error"]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let r = upload(
        &api,
        &token,
        &case_id,
        &[("domain", "people"), ("dotted_path", "x")],
        pdf,
    )
    .await;
    assert_eq!(
        message(&r, StatusCode::BAD_REQUEST),
        "Domain 'people' is not valid."
    );
    let r = upload(&api, &token, &case_id, &[("domain", "cases")], pdf).await;
    assert_eq!(
        message(&r, StatusCode::BAD_REQUEST),
        "Dotted Path Not Found in request form"
    );
    let r = upload(
        &api,
        &token,
        &case_id,
        &[("domain", "cases"), ("dotted_path", "debt")],
        pdf,
    )
    .await;
    assert_eq!(
        message(&r, StatusCode::BAD_REQUEST),
        "Dotted Path is not valid"
    );
    let r = upload(&api, &token, &case_id, INVOICE_FORM, None).await;
    assert_eq!(
        message(&r, StatusCode::BAD_REQUEST),
        "File is a required attribute."
    );
    // Declared a PDF, but the bytes are an executable.
    let r = upload(
        &api,
        &token,
        &case_id,
        INVOICE_FORM,
        Some((
            "invoice.pdf",
            "application/pdf",
            b"MZ\x90\x00\x03 not a pdf",
        )),
    )
    .await;
    let m = message(&r, StatusCode::BAD_REQUEST);
    assert!(
        m.starts_with("The provided file's content type is not allowed."),
        "{m}"
    );
    assert!(
        m.contains("application/pdf, image/jpeg, image/png, image/gif, image/bmp"),
        "{m}"
    );
    let r = upload(&api, &token, "000000000000000000000001", INVOICE_FORM, pdf).await;
    assert_eq!(
        message(&r, StatusCode::NOT_FOUND),
        "Resource Document Not Found"
    );
    let r = upload(&api, &token, "not-an-id", INVOICE_FORM, pdf).await;
    assert_eq!(
        message(&r, StatusCode::NOT_FOUND),
        "Resource Document Not Found"
    );
    // Another account's case is as unknown as a missing one.
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    let other_token = api.token_for(other, None).await;
    let r = upload(&api, &other_token, &case_id, INVOICE_FORM, pdf).await;
    assert_eq!(
        message(&r, StatusCode::NOT_FOUND),
        "Resource Document Not Found"
    );
    // Not multipart at all.
    let r = api
        .send(
            Request::post(format!("/media--upload/{case_id}"))
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        message(&r, StatusCode::BAD_REQUEST),
        "No multipart/form-data supplied"
    );
    // Without a token.
    let (ct, body) = multipart(INVOICE_FORM, pdf);
    let r = api
        .send_as(
            None,
            Request::post(format!("/media--upload/{case_id}"))
                .header("content-type", ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    assert_eq!(stored_objects(&api).await, 0);
    let case = ok(&api.get(&format!("/cases/{case_id}")).await, StatusCode::OK);
    assert!(case.get("original_invoice").is_none());
}

#[tokio::test]
async fn files_over_the_limit_are_refused_with_413() {
    let mut api = Api::new().await;
    api.media = indriva::media::Media::in_memory(1024);
    let case_id = registered_case(&api).await;
    let token = api.token.clone();
    let mut big = PDF.to_vec();
    big.resize(2048, b' ');
    let r = upload(
        &api,
        &token,
        &case_id,
        INVOICE_FORM,
        Some(("big.pdf", "application/pdf", &big)),
    )
    .await;
    ok(&r, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(stored_objects(&api).await, 0);
    let r = upload(
        &api,
        &token,
        &case_id,
        INVOICE_FORM,
        Some(("small.pdf", "application/pdf", PDF)),
    )
    .await;
    ok(&r, StatusCode::CREATED);
}
