//! Authentication and tenant isolation (issue 4 §1, §2, §4, §8): every endpoint but
//! `/authenticates/api-code` needs a valid access token, and a token only ever reaches its own
//! account's (or creditor's) documents — by id, by `where`, by `projection`, or by listing.

use crate::common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use common::{sign_jwt, Api};
use indriva::domain::{HttpDate, ObjectId};
use serde_json::{json, Value};

const SANDBOX_CREDITOR: &str = "674dbeb208847b9501cc9138";

fn assert_401(r: &common::Resp) {
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.json(),
        json!({"_status": "ERR", "_error": {"code": 401, "message": "Please provide proper credentials"}})
    );
}

#[tokio::test]
async fn the_jwt_method_answers_a_token_with_its_expiry() {
    let api = Api::new().await;
    let (code, sk) = api
        .api_user(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let r = api
        .authenticate(&sign_jwt(
            &sk,
            &json!({"api_code": code, "exp": api.now() + 600}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["_status"], "OK");
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 43, "at least 256 bits");
    let expires = HttpDate::parse_lenient(body["expires"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires.unix(),
        api.now() + 3600,
        "valid for 60 minutes by default"
    );
    // The token works, under any spelling of the header name.
    for name in ["X-API-Key", "x-api-key", "X-Api-Key"] {
        let r = api
            .send_as(
                None,
                Request::get("/cases")
                    .header(name, token)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // Only a hash is stored.
    assert!(api.db.store.token(token).await.unwrap().is_none());
    assert!(api
        .db
        .store
        .token(&indriva::auth::keys::token_hash(token))
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn every_other_endpoint_needs_a_valid_unexpired_token() {
    let api = Api::new().await;
    for uri in ["/cases", "/cases/674dbeb208847b9501cc9138"] {
        assert_401(&api.get_as(None, uri).await);
        assert_401(&api.get_as(Some("not-a-token"), uri).await);
    }
    assert_eq!(api.get("/cases").await.status, StatusCode::OK);
    // An hour and a bit later the token has expired.
    api.clock
        .set(HttpDate::from_unix(api.now() + 3601).unwrap());
    assert_401(&api.get("/cases").await);
}

#[tokio::test]
async fn forged_none_expired_and_far_future_jwts_are_refused() {
    let api = Api::new().await;
    let (code, sk) = api
        .api_user(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let now = api.now();
    let (_, other_key) = api
        .api_user(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let b64 = |v: &[u8]| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
    };
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(json!({"api_code": code, "exp": now + 600})
            .to_string()
            .as_bytes())
    );
    let cases = [
        sign_jwt(&other_key, &json!({"api_code": code, "exp": now + 600})), // wrong key
        none,
        sign_jwt(&sk, &json!({"api_code": code, "exp": now - 61})), // expired past the skew
        sign_jwt(&sk, &json!({"api_code": code})),                  // no exp
        sign_jwt(&sk, &json!({"api_code": code, "exp": now + 86_400})), // far future
        sign_jwt(&sk, &json!({"api_code": "unknown", "exp": now + 600})), // unknown code
        "garbage".to_string(),
    ];
    for jwt in &cases {
        assert_401(&api.authenticate(jwt).await);
    }
    assert_401(
        &api.send_as(
            None,
            Request::get("/authenticates/api-code")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
    );
    // Still fine with a good one (fewer than 10 failures for this code).
    let good = api
        .authenticate(&sign_jwt(&sk, &json!({"api_code": code, "exp": now + 600})))
        .await;
    assert_eq!(good.status, StatusCode::OK);
    // docs/api.md promises a minute of clock skew: an exp 10 s ago is from a client whose
    // clock is behind, not an expired token.
    let skewed = api
        .authenticate(&sign_jwt(&sk, &json!({"api_code": code, "exp": now - 10})))
        .await;
    assert_eq!(skewed.status, StatusCode::OK);
}

#[tokio::test]
async fn failed_attempts_are_rate_limited_per_code_and_per_address() {
    let api = Api::new().await;
    let (code, sk) = api
        .api_user(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let now = api.now();
    let (_, wrong) = api
        .api_user(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let bad = sign_jwt(&wrong, &json!({"api_code": code, "exp": now + 600}));
    let from = |ip: [u8; 4]| {
        let mut req = Request::get("/authenticates/api-code")
            .header("x-api-key", bad.clone())
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 5000))));
        req
    };
    for i in 0..10u8 {
        assert_eq!(
            api.send_as(None, from([10, 0, 0, i])).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // The code's failures are now limited: a wrong signature from a fresh address is 429.
    let r = api.send_as(None, from([10, 9, 9, 8])).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["_error"]["message"], "Rate limit exceeded");
    // A valid signature is never locked out by failures someone else caused (issue 23 item
    // 11: anyone who knows a code could lock its owner out).
    let good = sign_jwt(&sk, &json!({"api_code": code, "exp": now + 600}));
    let signed_in = |ip: [u8; 4]| {
        let mut req = Request::get("/authenticates/api-code")
            .header("x-api-key", good.clone())
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 5000))));
        req
    };
    let r = api.send_as(None, signed_in([10, 9, 9, 9])).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // An address that keeps failing is limited whatever code it tries…
    for _ in 0..10 {
        api.send_as(
            None,
            Request::get("/authenticates/api-code")
                .header("x-api-key", "x.y.z")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    }
    let r = api.get_as(None, "/authenticates/api-code").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // …but another client behind the same address with a valid key still signs in.
    let r = api.send_as(None, signed_in([127, 0, 0, 1])).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn the_plain_api_code_method_only_works_from_allowed_networks() {
    let api = Api::new().await;
    let (code, _) = api
        .api_user(indriva::sandbox::sandbox_account_id(), None)
        .await;
    let post = |body: String, ip: [u8; 4], ct: Option<&str>| {
        let mut b = Request::post("/authenticates/api-code");
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        let mut req = b.body(Body::from(body)).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 5000))));
        req
    };
    let ok = api
        .send_as(
            None,
            post(
                json!({"api_code": code}).to_string(),
                [127, 0, 0, 1],
                Some("application/json"),
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let token = ok.json()["token"].as_str().unwrap().to_string();
    assert_eq!(
        api.get_as(Some(&token), "/cases").await.status,
        StatusCode::OK
    );
    assert_401(
        &api.send_as(
            None,
            post(
                json!({"api_code": code}).to_string(),
                [192, 0, 2, 7],
                Some("application/json"),
            ),
        )
        .await,
    );
    assert_401(
        &api.send_as(
            None,
            post(
                json!({"api_code": "nope"}).to_string(),
                [127, 0, 0, 1],
                Some("application/json"),
            ),
        )
        .await,
    );
    let r = api
        .send_as(
            None,
            post(json!({"api_code": code}).to_string(), [127, 0, 0, 1], None),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["_error"]["message"],
        "Unknown or no Content-Type header supplied"
    );
    let r = api
        .send_as(
            None,
            post("{".into(), [127, 0, 0, 1], Some("application/json")),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Ten wrong codes from loopback: the next wrong one is 429, the right one still signs in.
    let from_loopback = |c: &str| {
        post(
            json!({"api_code": c}).to_string(),
            [127, 0, 0, 1],
            Some("application/json"),
        )
    };
    for i in 0..9 {
        assert_401(
            &api.send_as(None, from_loopback(&format!("wrong-{i}")))
                .await,
        );
    }
    let r = api.send_as(None, from_loopback("wrong-10")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        api.send_as(None, from_loopback(&code)).await.status,
        StatusCode::OK
    );

    // Proxy headers are not trusted: a client elsewhere cannot claim to be on loopback.
    for header in ["x-forwarded-for", "x-real-ip", "forwarded"] {
        let mut req = post(
            json!({"api_code": code}).to_string(),
            [192, 0, 2, 7],
            Some("application/json"),
        );
        let value = if header == "forwarded" {
            "for=127.0.0.1"
        } else {
            "127.0.0.1"
        };
        req.headers_mut().insert(header, value.parse().unwrap());
        assert_401(&api.send_as(None, req).await);
    }

    // `--static-ip-networks` decides: with 192.0.2.0/24 allowed, that client may, and
    // loopback (no longer listed) may not.
    let mut api = api;
    api.auth = std::sync::Arc::new(indriva::auth::Auth::new(indriva::auth::AuthSettings {
        static_ip_networks: vec!["192.0.2.0/24".parse().unwrap()],
        ..Default::default()
    }));
    let r = api
        .send_as(
            None,
            post(
                json!({"api_code": code}).to_string(),
                [192, 0, 2, 7],
                Some("application/json"),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_401(
        &api.send_as(
            None,
            post(
                json!({"api_code": code}).to_string(),
                [127, 0, 0, 1],
                Some("application/json"),
            ),
        )
        .await,
    );
}

/// Two accounts with cases each; returns (api, other account, its creditor, other token).
async fn two_tenants() -> (Api, Vec<Value>, ObjectId, String) {
    let api = Api::new().await;
    common::seed_cases(&api.db.store, 40).await;
    let now = HttpDate::from_unix(api.now()).unwrap();
    let other = common::insert_account(&api.db.store, "Other AB", now).await;
    indriva::seed::run(&api.db.store, &api.clock, 25, Some(other), false, None)
        .await
        .unwrap();
    let token = api.token_for(other, None).await;
    let all = common::all_cases(&api.db.store).await;
    let foreign: Vec<Value> = all
        .into_iter()
        .filter(|c| c["account"] == other.to_hex())
        .collect();
    (api, foreign, other, token)
}

#[tokio::test]
async fn another_accounts_cases_are_unreachable() {
    let (api, foreign, other, other_token) = two_tenants().await;
    assert_eq!(foreign.len(), 25);
    let total = |r: common::Resp| r.json()["_meta"]["total"].as_i64().unwrap();
    // list endpoints
    assert_eq!(total(api.get("/cases").await), 40);
    assert_eq!(total(api.get_as(Some(&other_token), "/cases").await), 25);
    // by id: 404, as for an id that does not exist
    let fid = foreign[0]["_id"].as_str().unwrap();
    let r = api.get(&format!("/cases/{fid}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get_as(Some(&other_token), &format!("/cases/{fid}"))
            .await
            .status,
        StatusCode::OK
    );
    // by where: naming the other account, its creditor, its ids, or trying to escape with $or
    let fcred = foreign[0]["creditor"].as_str().unwrap();
    for w in [
        json!({"account": other.to_hex()}),
        json!({"creditor": fcred}),
        json!({"_id": fid}),
        json!({"$or": [{"account": other.to_hex()}, {"account": {"$ne": "x"}}]}),
        json!({"account": {"$exists": true}, "_id": {"$in": [fid]}}),
    ] {
        let r = api.get_q("/cases", &[("where", &w.to_string())]).await;
        let items = r.json()["_items"].as_array().unwrap().clone();
        assert!(
            items
                .iter()
                .all(|i| i["account"] == indriva::sandbox::SANDBOX_ACCOUNT),
            "{w}"
        );
        assert!(items.iter().all(|i| i["_id"] != fid), "{w}");
    }
    // by projection: only own documents, whatever is projected
    let r = api
        .get_q(
            "/cases",
            &[
                ("projection", r#"{"account": 1, "customer_id_number": 1}"#),
                ("max_results", "100"),
            ],
        )
        .await;
    let items = r.json()["_items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 40);
    assert!(items
        .iter()
        .all(|i| i["account"] == indriva::sandbox::SANDBOX_ACCOUNT));
    let foreign_ids: Vec<&str> = foreign
        .iter()
        .map(|c| c["customer_id_number"].as_str().unwrap())
        .collect();
    assert!(items
        .iter()
        .all(|i| !foreign_ids.contains(&i["customer_id_number"].as_str().unwrap())));
}

#[tokio::test]
async fn a_creditor_bound_api_user_sees_only_that_creditor() {
    let api = Api::new().await;
    let all = common::seed_cases(&api.db.store, 60).await;
    let creditor = ObjectId::parse(SANDBOX_CREDITOR).unwrap();
    let token = api
        .token_for(indriva::sandbox::sandbox_account_id(), Some(creditor))
        .await;
    let mine: Vec<&Value> = all
        .iter()
        .filter(|c| c["creditor"] == SANDBOX_CREDITOR)
        .collect();
    assert!(!mine.is_empty() && mine.len() < all.len());
    let r = api
        .get_q_as(&token, "/cases", &[("max_results", "100")])
        .await;
    assert_eq!(r.json()["_meta"]["total"], mine.len());
    assert!(r.json()["_items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["creditor"] == SANDBOX_CREDITOR));
    let theirs = all
        .iter()
        .find(|c| c["creditor"] != SANDBOX_CREDITOR)
        .unwrap();
    let r = api
        .get_as(
            Some(&token),
            &format!("/cases/{}", theirs["_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .get_q_as(
            &token,
            "/cases",
            &[(
                "where",
                &json!({"creditor": theirs["creditor"]}).to_string(),
            )],
        )
        .await;
    assert_eq!(r.json()["_meta"]["total"], 0);
}
