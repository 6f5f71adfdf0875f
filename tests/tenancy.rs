//! Accounts, creditors, users, customers and access groups (issue 4 §3–§4): Eve's write
//! semantics (422 `_issues`, `If-Match` → 428/412), Amili's creditor activation rule, and
//! scoping — a foreign or out-of-scope id is a 404 on reads and a 422 on writes, and nothing
//! is written.

use crate::common;

use axum::http::StatusCode;
use common::{insert_account, Api, Resp};
use indriva::domain::{Clock, ObjectId};
use indriva::resources::{ACCESS_GROUPS, CREDITORS, USERS};
use serde_json::{json, Value};

const SANDBOX_ACCOUNT: &str = "674dbeaf08847b9501cc9132";
const SANDBOX_CREDITOR: &str = "674dbeb208847b9501cc9138";

fn ok(r: &Resp, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

/// The creditor POST example of amili-api.md §4.12 (creditor-user examples).
fn creditor_body() -> Value {
    let address = json!({"address_line_1": "Storgatan 1", "zip_code": "11122",
                         "city": "Stockholm", "country": "SE"});
    json!({
        "account": SANDBOX_ACCOUNT,
        "name": "Nya Bolaget AB",
        "organization_no": "556026-9986",
        "is_active": true,
        "standard_debt_description": "Obetald faktura",
        "description": "Skapad via API",
        "sender_address": address,
        "invoice_address": address,
        "payout_details": {"sek": {"bankgiro": "5050-1055"}},
    })
}

fn insertion_failure(issues: Value) -> Value {
    json!({"_status": "ERR", "_issues": issues, "_error": {"code": 422,
           "message": "Insertion failure: 1 document(s) contain(s) error(s)"}})
}

async fn creditor_count(api: &Api) -> i64 {
    api.db.store.count_all(&CREDITORS).await.unwrap()
}

#[tokio::test]
async fn a_creditor_is_created_active_numbered_and_with_its_access_groups() {
    let api = Api::new().await;
    let r = api.post("/creditors", &creditor_body()).await;
    let meta = ok(&r, StatusCode::CREATED);
    assert_eq!(meta["_status"], "OK");
    let id = meta["_id"].as_str().unwrap().to_string();
    assert_eq!(meta["_etag"].as_str().unwrap().len(), 40);
    let now = api.clock.now().to_string();
    assert_eq!(meta["_created"], now);
    assert_eq!(meta["_updated"], now);

    let c = ok(&api.get(&format!("/creditors/{id}")).await, StatusCode::OK);
    assert_eq!(c["is_active"], true);
    assert_eq!(
        c["organization_no"], "5560269986",
        "stored without the hyphen"
    );
    assert_eq!(c["account"], SANDBOX_ACCOUNT);
    assert_eq!(c["default_letter_locale"], "sv");
    assert_eq!(c["added_to_erp_system"], false);
    assert!(c["creditor_number"].as_i64().unwrap() >= 2_001_000);
    assert_eq!(c["_etag"], meta["_etag"]);

    let groups = ok(
        &api.get_q(
            "/access--groups",
            &[("where", &json!({"creditor": id}).to_string())],
        )
        .await,
        StatusCode::OK,
    );
    let mut kinds: Vec<&str> = groups["_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["admin", "user"]);

    // A second creditor gets the next number.
    let mut body = creditor_body();
    body["name"] = json!("Andra Bolaget AB");
    let id2 = ok(&api.post("/creditors", &body).await, StatusCode::CREATED)["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let c2 = ok(&api.get(&format!("/creditors/{id2}")).await, StatusCode::OK);
    assert_eq!(
        c2["creditor_number"].as_i64().unwrap(),
        c["creditor_number"].as_i64().unwrap() + 1
    );
}

#[tokio::test]
async fn the_account_access_groups_exist_for_the_sandbox() {
    let api = Api::new().await;
    let r = api
        .get_q(
            "/access--groups",
            &[("where", &json!({"account": SANDBOX_ACCOUNT}).to_string())],
        )
        .await;
    let items = ok(&r, StatusCode::OK)["_items"].as_array().unwrap().clone();
    let mut kinds: Vec<(String, Option<String>)> = items
        .iter()
        .map(|g| {
            (
                g["type"].as_str().unwrap().to_string(),
                g["creditor"].as_str().map(str::to_string),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("account_admin".to_string(), None),
            ("admin".to_string(), Some(SANDBOX_CREDITOR.to_string())),
            ("api_user".to_string(), None),
            ("user".to_string(), Some(SANDBOX_CREDITOR.to_string())),
        ]
    );
}

#[tokio::test]
async fn creditor_validation_reports_every_problem_in_eve_shape_and_writes_nothing() {
    let api = Api::new().await;
    let before = creditor_count(&api).await;
    let r = api
        .post(
            "/creditors",
            &json!({"account": SANDBOX_ACCOUNT, "name": 5, "colour": "red",
                    "creditor_number": 1, "default_letter_locale": "fi",
                    "sender_address": {"zip_code": "1", "city": "X", "country": "Sverige"}}),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY),
        insertion_failure(json!({
            "name": "must be of string type",
            "colour": "unknown field",
            "creditor_number": "field is read-only",
            "default_letter_locale": "unallowed value fi",
            "sender_address": {
                "address_line_1": "required field",
                "country": "must be an ISO 3166-1 alpha-2 country code (e.g. SE)",
            },
        }))
    );
    // Domain rules: one organisation number, a valid one, and the activation rule.
    let r = api
        .post(
            "/creditors",
            &json!({"account": SANDBOX_ACCOUNT, "name": "X", "organization_no": "1122334455",
                    "is_active": true}),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY),
        insertion_failure(json!({
            "organization_no": "must be a valid Swedish organisationsnummer (10 digits)",
            "standard_debt_description": "required field when is_active is true",
            "sender_address": "required field when is_active is true",
            "invoice_address": "required field when is_active is true",
            "payout_details": "an active creditor needs a payout account (bankgiro, plusgiro, account_number or iban) in at least one currency",
        }))
    );
    let r = api
        .post(
            "/creditors",
            &json!({"account": SANDBOX_ACCOUNT, "name": "X", "organization_no": "5560269986",
                    "non_swedish_organization_no": "NO 123"}),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"organization_no": "'organization_no' must not be present with 'non_swedish_organization_no'"})
    );
    let r = api
        .post(
            "/creditors",
            &json!({"account": SANDBOX_ACCOUNT, "name": "X"}),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"organization_no": "required field"})
    );
    assert_eq!(creditor_count(&api).await, before);

    // An inactive creditor needs none of the activation data (Amili's onboarding option A).
    let r = api
        .post(
            "/creditors",
            &json!({"account": SANDBOX_ACCOUNT, "name": "Halvfärdig AB",
                    "non_swedish_organization_no": "NO 987654321"}),
        )
        .await;
    let id = ok(&r, StatusCode::CREATED)["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = ok(&api.get(&format!("/creditors/{id}")).await, StatusCode::OK);
    assert_eq!(c["is_active"], false);
}

#[tokio::test]
async fn writes_need_json_and_the_callers_own_account() {
    let api = Api::new().await;
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    let before = creditor_count(&api).await;
    let mut body = creditor_body();
    body["account"] = json!(other.to_hex());
    let r = api.post("/creditors", &body).await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"account": format!("value '{}' must exist in resource 'accounts', field '_id'.", other.to_hex())})
    );
    assert_eq!(creditor_count(&api).await, before);

    let r = api
        .send(
            axum::http::Request::post("/creditors")
                .header("content-type", "text/plain")
                .body(axum::body::Body::from(creditor_body().to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::BAD_REQUEST)["_error"]["message"],
        "Unknown or no Content-Type header supplied"
    );
    let r = api
        .send(
            axum::http::Request::post("/creditors")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"name\": "))
                .unwrap(),
        )
        .await;
    ok(&r, StatusCode::BAD_REQUEST);
    assert_eq!(creditor_count(&api).await, before);
}

#[tokio::test]
async fn patch_needs_the_current_etag_and_merges_nested_documents() {
    let api = Api::new().await;
    let uri = format!("/creditors/{SANDBOX_CREDITOR}");
    let c = ok(&api.get(&uri).await, StatusCode::OK);
    let etag = c["_etag"].as_str().unwrap().to_string();
    let patch = json!({"description": "Ändrad", "sender_address": {"city": "Lund"}});

    let r = api.write("PATCH", &uri, &patch, None).await;
    assert_eq!(
        ok(&r, StatusCode::PRECONDITION_REQUIRED),
        json!({"_status": "ERR", "_error": {"code": 428,
               "message": "To edit a document its etag must be provided using the If-Match header"}})
    );
    let r = api.write("PATCH", &uri, &patch, Some("\"0000\"")).await;
    assert_eq!(
        ok(&r, StatusCode::PRECONDITION_FAILED),
        json!({"_status": "ERR", "_error": {"code": 412, "message": "Client and server etags don't match"}})
    );

    api.clock.set(api.clock.now().plus_seconds(60));
    let r = api
        .write("PATCH", &uri, &patch, Some(&format!("\"{etag}\"")))
        .await;
    let meta = ok(&r, StatusCode::OK);
    assert_ne!(meta["_etag"], json!(etag));
    assert_eq!(
        r.headers["etag"].to_str().unwrap(),
        format!("\"{}\"", meta["_etag"].as_str().unwrap())
    );
    assert_eq!(meta["_updated"], api.clock.now().to_string());
    assert_eq!(meta["_created"], c["_created"]);
    let after = ok(&api.get(&uri).await, StatusCode::OK);
    assert_eq!(after["description"], "Ändrad");
    assert_eq!(after["sender_address"]["city"], "Lund");
    assert_eq!(
        after["sender_address"]["address_line_1"],
        c["sender_address"]["address_line_1"]
    );
    assert_eq!(after["_etag"], meta["_etag"]);

    // The old etag is now stale.
    let r = api
        .write("PATCH", &uri, &json!({"description": "x"}), Some(&etag))
        .await;
    ok(&r, StatusCode::PRECONDITION_FAILED);

    // Immutable and read-only fields, and the activation rule on the merged document: a
    // PATCH 422 has no `_error` (eve-wire.md §4.2).
    let new_etag = meta["_etag"].as_str().unwrap();
    let r = api
        .write(
            "PATCH",
            &uri,
            &json!({"account": SANDBOX_ACCOUNT, "creditor_number": 5}),
            Some(new_etag),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY),
        json!({"_status": "ERR", "_issues": {"account": "field is read-only",
                                              "creditor_number": "field is read-only"}})
    );
    let r = api
        .write(
            "PATCH",
            &uri,
            &json!({"standard_debt_description": " "}),
            Some(new_etag),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"standard_debt_description": "required field when is_active is true"})
    );
    // Deactivating is always allowed, and then the description may go.
    let r = api
        .write(
            "PATCH",
            &uri,
            &json!({"is_active": false, "standard_debt_description": ""}),
            Some(new_etag),
        )
        .await;
    ok(&r, StatusCode::OK);
    let after = ok(&api.get(&uri).await, StatusCode::OK);
    assert_eq!(after["is_active"], false);
}

#[tokio::test]
async fn delete_only_removes_a_creditor_without_cases() {
    let api = Api::new().await;
    common::seed_cases(&api.db.store, 20).await;
    let uri = format!("/creditors/{SANDBOX_CREDITOR}");
    let etag = ok(&api.get(&uri).await, StatusCode::OK)["_etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api.write("DELETE", &uri, &json!({}), None).await;
    ok(&r, StatusCode::PRECONDITION_REQUIRED);
    let r = api.write("DELETE", &uri, &json!({}), Some(&etag)).await;
    assert_eq!(
        ok(&r, StatusCode::CONFLICT)["_error"]["message"],
        "The creditor has cases and cannot be deleted; set is_active to false instead"
    );
    ok(&api.get(&uri).await, StatusCode::OK);

    let id = ok(
        &api.post("/creditors", &creditor_body()).await,
        StatusCode::CREATED,
    )["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let groups_before = api.db.store.count_all(&ACCESS_GROUPS).await.unwrap();
    let uri = format!("/creditors/{id}");
    let etag = ok(&api.get(&uri).await, StatusCode::OK)["_etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api.write("DELETE", &uri, &json!({}), Some(&etag)).await;
    ok(&r, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    ok(&api.get(&uri).await, StatusCode::NOT_FOUND);
    assert_eq!(
        api.db.store.count_all(&ACCESS_GROUPS).await.unwrap(),
        groups_before - 2
    );
    // As in Eve, deleting what is not there is a 204.
    let r = api.write("DELETE", &uri, &json!({}), Some(&etag)).await;
    ok(&r, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_creditor_bound_user_sees_and_changes_only_its_creditor() {
    let api = Api::new().await;
    let other = ok(
        &api.post("/creditors", &creditor_body()).await,
        StatusCode::CREATED,
    )["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let bound = api
        .token_for(
            indriva::sandbox::sandbox_account_id(),
            Some(ObjectId::parse(SANDBOX_CREDITOR).unwrap()),
        )
        .await;
    let list = ok(
        &api.get_as(Some(&bound), "/creditors").await,
        StatusCode::OK,
    );
    let ids: Vec<&str> = list["_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [SANDBOX_CREDITOR]);
    assert_eq!(list["_meta"]["total"], 1);
    ok(
        &api.get_as(Some(&bound), &format!("/creditors/{other}"))
            .await,
        StatusCode::NOT_FOUND,
    );
    // Its access groups: its creditor's only.
    let groups = ok(
        &api.get_as(Some(&bound), "/access--groups").await,
        StatusCode::OK,
    );
    assert!(groups["_items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["creditor"] == SANDBOX_CREDITOR));
    assert_eq!(groups["_meta"]["total"], 2);

    // It may update its own creditor, not another, and may not create or delete creditors.
    let etag = ok(
        &api.get_as(Some(&bound), &format!("/creditors/{SANDBOX_CREDITOR}"))
            .await,
        StatusCode::OK,
    )["_etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .write_as(
            &bound,
            "PATCH",
            &format!("/creditors/{SANDBOX_CREDITOR}"),
            &json!({"description": "egen"}),
            Some(&etag),
        )
        .await;
    ok(&r, StatusCode::OK);
    let other_etag = ok(
        &api.get(&format!("/creditors/{other}")).await,
        StatusCode::OK,
    )["_etag"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .write_as(
            &bound,
            "PATCH",
            &format!("/creditors/{other}"),
            &json!({"description": "inte min"}),
            Some(&other_etag),
        )
        .await;
    ok(&r, StatusCode::NOT_FOUND);
    let r = api
        .write_as(&bound, "POST", "/creditors", &creditor_body(), None)
        .await;
    ok(&r, StatusCode::FORBIDDEN);
    let r = api
        .write_as(
            &bound,
            "DELETE",
            &format!("/creditors/{other}"),
            &json!({}),
            Some(&other_etag),
        )
        .await;
    ok(&r, StatusCode::FORBIDDEN);
    ok(
        &api.get(&format!("/creditors/{other}")).await,
        StatusCode::OK,
    );
}

#[tokio::test]
async fn another_accounts_documents_are_404_on_every_resource_and_writes_do_not_reach_them() {
    let api = Api::new().await;
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    let other_token = api.token_for(other, None).await;
    // The other account's own view: its account and groups, none of the sandbox's.
    let accounts = ok(
        &api.get_as(Some(&other_token), "/accounts").await,
        StatusCode::OK,
    );
    assert_eq!(accounts["_meta"]["total"], 1);
    assert_eq!(accounts["_items"][0]["_id"], other.to_hex());
    for path in ["/creditors", "/customers", "/users"] {
        let all = ok(&api.get_as(Some(&other_token), path).await, StatusCode::OK);
        assert!(
            all["_items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["account"] == other.to_hex()),
            "{path}"
        );
    }
    // Sandbox ids are unknown to it, by id and through where.
    let sandbox_user = ok(&api.get("/users").await, StatusCode::OK)["_items"][0]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let sandbox_group = ok(&api.get("/access--groups").await, StatusCode::OK)["_items"][0]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    for uri in [
        format!("/accounts/{SANDBOX_ACCOUNT}"),
        format!("/creditors/{SANDBOX_CREDITOR}"),
        format!("/users/{sandbox_user}"),
        format!("/access--groups/{sandbox_group}"),
    ] {
        ok(
            &api.get_as(Some(&other_token), &uri).await,
            StatusCode::NOT_FOUND,
        );
    }
    let r = api
        .get_q_as(
            &other_token,
            "/creditors",
            &[(
                "where",
                &json!({"$or": [{"_id": SANDBOX_CREDITOR}, {"account": SANDBOX_ACCOUNT}]})
                    .to_string(),
            )],
        )
        .await;
    assert_eq!(ok(&r, StatusCode::OK)["_meta"]["total"], 0);

    // Writes: PATCH of a foreign creditor or account is a 404 and changes nothing.
    let sandbox = ok(
        &api.get(&format!("/creditors/{SANDBOX_CREDITOR}")).await,
        StatusCode::OK,
    );
    let r = api
        .write_as(
            &other_token,
            "PATCH",
            &format!("/creditors/{SANDBOX_CREDITOR}"),
            &json!({"name": "Kapad"}),
            sandbox["_etag"].as_str(),
        )
        .await;
    ok(&r, StatusCode::NOT_FOUND);
    let account = ok(
        &api.get(&format!("/accounts/{SANDBOX_ACCOUNT}")).await,
        StatusCode::OK,
    );
    let r = api
        .write_as(
            &other_token,
            "PATCH",
            &format!("/accounts/{SANDBOX_ACCOUNT}"),
            &json!({"name": "Kapad"}),
            account["_etag"].as_str(),
        )
        .await;
    ok(&r, StatusCode::NOT_FOUND);
    let r = api
        .write_as(
            &other_token,
            "DELETE",
            &format!("/creditors/{SANDBOX_CREDITOR}"),
            &json!({}),
            sandbox["_etag"].as_str(),
        )
        .await;
    ok(&r, StatusCode::NO_CONTENT);
    assert_eq!(
        ok(
            &api.get(&format!("/creditors/{SANDBOX_CREDITOR}")).await,
            StatusCode::OK
        ),
        sandbox
    );
    // A user granted a foreign access group: 422, nothing written.
    let users = api.db.store.count_all(&USERS).await.unwrap();
    let r = api
        .write_as(
            &other_token,
            "POST",
            "/users",
            &json!({"account": other.to_hex(), "name": "Eve",
                    "data_access": [{"access_group": sandbox_group}]}),
            None,
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"data_access": {"0": {"access_group": format!("value '{sandbox_group}' must exist in resource 'access--groups', field '_id'.")}}})
    );
    assert_eq!(api.db.store.count_all(&USERS).await.unwrap(), users);
}

#[tokio::test]
async fn accounts_can_be_updated_but_not_created_through_the_api() {
    let api = Api::new().await;
    let uri = format!("/accounts/{SANDBOX_ACCOUNT}");
    let a = ok(&api.get(&uri).await, StatusCode::OK);
    let r = api
        .write(
            "PATCH",
            &uri,
            &json!({"description": "Ny", "case_settings": {"interest_rate": {"reference_rate": false}}}),
            a["_etag"].as_str(),
        )
        .await;
    ok(&r, StatusCode::OK);
    let after = ok(&api.get(&uri).await, StatusCode::OK);
    assert_eq!(after["description"], "Ny");
    assert_eq!(
        after["case_settings"]["interest_rate"]["reference_rate"],
        false
    );
    assert_eq!(after["name"], a["name"]);
    let r = api
        .write(
            "PATCH",
            &uri,
            &json!({"organization_no": "5560269986"}),
            after["_etag"].as_str(),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"organization_no": "field is read-only"})
    );
    let r = api
        .post(
            "/accounts",
            &json!({"name": "Ny AB", "organization_no": "5560269986"}),
        )
        .await;
    ok(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn users_are_created_with_access_to_the_accounts_groups() {
    let api = Api::new().await;
    let groups = ok(&api.get("/access--groups").await, StatusCode::OK)["_items"]
        .as_array()
        .unwrap()
        .clone();
    let group = |kind: &str| -> String {
        groups.iter().find(|g| g["type"] == kind).unwrap()["_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let r = api
        .post(
            "/users",
            &json!({"account": SANDBOX_ACCOUNT, "name": "Anna Andersson",
                    "email_data": {"email": "anna@example.se"}, "oauth_type": "microsoft",
                    "email_oauth": "anna@example.se",
                    "data_access": [{"access_group": group("user")}]}),
        )
        .await;
    let id = ok(&r, StatusCode::CREATED)["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let u = ok(&api.get(&format!("/users/{id}")).await, StatusCode::OK);
    assert_eq!(u["is_enabled"], true);
    assert_eq!(
        u["creditor"], SANDBOX_CREDITOR,
        "confined to the group's creditor"
    );
    assert_eq!(u["log_case_registrations"], false);

    let r = api
        .post(
            "/users",
            &json!({"account": SANDBOX_ACCOUNT, "name": "Bot", "oauth_type": "yahoo",
                    "email_data": {"email": "nope"},
                    "data_access": [{"access_group": group("api_user")}]}),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"oauth_type": "unallowed value yahoo",
               "email_data": {"email": "value does not match regex '^.+@.+$'"}})
    );
    let r = api
        .post(
            "/users",
            &json!({"account": SANDBOX_ACCOUNT, "name": "Bot",
                    "data_access": [{"access_group": group("api_user")}]}),
        )
        .await;
    assert_eq!(
        ok(&r, StatusCode::UNPROCESSABLE_ENTITY)["_issues"],
        json!({"data_access": {"0": {"access_group": "API users are created with `indriva admin api-user create` (they need a key pair)"}}})
    );
    // The sandbox's API user is listed, in the api_user and account_admin groups.
    let users = ok(&api.get("/users").await, StatusCode::OK);
    let api_user = users["_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Sandbox API user")
        .unwrap()
        .clone();
    let mut access: Vec<String> = api_user["data_access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["access_group"].as_str().unwrap().to_string())
        .collect();
    access.sort();
    let mut expected = vec![group("api_user"), group("account_admin")];
    expected.sort();
    assert_eq!(access, expected);
}

async fn insert_customer(api: &Api, account: ObjectId, name: &str, id_number: &str, email: &str) {
    use indriva::domain::party::{Address, Customer};
    use indriva::resources::CUSTOMERS;
    let now = api.clock.now();
    let c = Customer {
        id: ObjectId::at(now.unix()),
        account,
        name: name.into(),
        id_number: id_number.into(),
        is_person: true,
        customer_number: None,
        address: Address {
            address_line_1: "Gatan 1".into(),
            zip_code: "11122".into(),
            city: "Stockholm".into(),
            country: "SE".into(),
        },
        mobile_number: None,
        email: Some(email.into()),
        is_active: true,
        created: now,
        updated: now,
        etag: String::new(),
    };
    let mut tx = api.db.store.begin().await.unwrap();
    tx.insert(
        &CUSTOMERS,
        vec![indriva::store::prepare_document(&CUSTOMERS, &c).unwrap()],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn customers_are_searched_by_id_number_name_and_email_within_scope() {
    let api = Api::new().await;
    // A customer with a case at the sandbox creditor, registered as an integrator does.
    let r = api
        .post(
            "/case--registrations",
            &json!({
                "account": SANDBOX_ACCOUNT, "creditor": SANDBOX_CREDITOR,
                "first_action": "debt_collection", "currency": "SEK",
                "customer": {"name": "Anna 100% Svensson", "id_number": "202501012385",
                             "email": "anna@x.se",
                             "address": {"address_line_1": "Gatan 2", "zip_code": "11122",
                                         "city": "Stockholm", "country": "SE"}},
                "debts": [{"invoice_number": "A-1", "debt_description": "Services",
                           "invoice_date": "Mon, 07 Jul 2025 00:00:00 GMT",
                           "capital_to_claim": 100.0, "invoice_due_days_after_invoice_date": 10}]
            }),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let sandbox = indriva::sandbox::sandbox_account_id();
    insert_customer(
        &api,
        sandbox,
        "Jane Doe",
        "198112289874",
        "Jane.Doe@Domain.se",
    )
    .await;
    let other = insert_account(&api.db.store, "Other AB", api.clock.now()).await;
    insert_customer(
        &api,
        other,
        "Jane Doe",
        "198112289874",
        "jane.doe@domain.se",
    )
    .await;

    let names = |r: &Resp| -> Vec<String> {
        let v = ok(r, StatusCode::OK);
        assert_eq!(
            v["_meta"]["total"].as_u64().unwrap() as usize,
            v["_items"].as_array().unwrap().len()
        );
        v["_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    // Any written form of the identity number finds the canonical one.
    assert_eq!(
        names(
            &api.get_q("/customers", &[("id_number", "811228-9874")])
                .await
        ),
        ["Jane Doe"]
    );
    assert_eq!(
        names(&api.get_q("/customers", &[("name", "jane")]).await),
        ["Jane Doe"]
    );
    // `%` is a literal, not a wildcard.
    assert_eq!(
        names(&api.get_q("/customers", &[("name", "100%")]).await),
        ["Anna 100% Svensson"]
    );
    assert!(names(&api.get_q("/customers", &[("name", "%")]).await).len() == 1);
    assert_eq!(
        names(
            &api.get_q("/customers", &[("email", "JANE.doe@domain.SE")])
                .await
        ),
        ["Jane Doe"]
    );
    assert!(names(&api.get_q("/customers", &[("email", "jane")]).await).is_empty());
    // Search parameters combine with each other and with `where`.
    assert!(names(
        &api.get_q("/customers", &[("name", "jane"), ("email", "anna@x.se")])
            .await
    )
    .is_empty());
    assert_eq!(
        names(
            &api.get_q(
                "/customers",
                &[("where", r#"{"is_person": true}"#), ("name", "svensson")]
            )
            .await
        ),
        ["Anna 100% Svensson"]
    );
    // A creditor-bound user sees only customers with a case at its creditor.
    let bound = api
        .token_for(sandbox, Some(ObjectId::parse(SANDBOX_CREDITOR).unwrap()))
        .await;
    let r = api.get_as(Some(&bound), "/customers").await;
    assert_eq!(names(&r), ["Anna 100% Svensson"]);
}
