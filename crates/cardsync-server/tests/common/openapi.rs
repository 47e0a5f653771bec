//! Real HTTP answers checked against `docs/openapi.json`: each request's status must be one
//! the operation documents, its body must validate against that response's JSON Schema (with
//! the `jsonschema` crate), and an error's code must be one the response lists. Shared by
//! the HTTP API's tests (`http_api.rs`, `history.rs`).

use std::net::SocketAddr;

use serde_json::{Value as Json, json};

/// One answer: status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Json,
}

pub fn openapi() -> Json {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Sends a request (blocking: called through `spawn_blocking`), then checks the answer
/// against the OpenAPI document: the operation (`route`, `method`) lists the status, and the
/// body validates against that response's schema; an error's code is one the response
/// lists.
pub fn request(
    addr: SocketAddr,
    method: &str,
    route: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://{addr}{path}");
    let mut response = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(&url);
            if let Some(token) = token {
                r = r.header("Authorization", &format!("Bearer {token}"));
            }
            r.call()
        }
        ("POST", body) => {
            let mut r = agent.post(&url).header("Content-Type", "application/json");
            if let Some(token) = token {
                r = r.header("Authorization", &format!("Bearer {token}"));
            }
            r.send(&body.unwrap_or_default()[..])
        }
        _ => unreachable!(),
    }
    .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let body: Json = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("{method} {path}: {status} with a body that is not JSON ({e}): {text}")
    });
    conforms(method, route, status, &body);
    Answer { status, body }
}

/// Checks an answer against the OpenAPI document's response for it.
pub fn conforms(method: &str, route: &str, status: u16, body: &Json) {
    let spec = openapi();
    let operation = &spec["paths"][route][method.to_lowercase()];
    assert!(
        operation.is_object(),
        "{method} {route} is not in the OpenAPI document"
    );
    let response = &operation["responses"][status.to_string()];
    assert!(
        response.is_object(),
        "{method} {route}: status {status} is not documented ({body})"
    );
    let schema = &response["content"]["application/json"]["schema"];
    let reference = schema["$ref"].as_str().expect("a schema reference");
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": reference,
        "components": spec["components"],
    });
    let validator = jsonschema::validator_for(&root).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {route} {status}: the body does not match {reference}: {errors:?}\n{body}"
    );
    if let Some(code) = body.get("code").and_then(Json::as_str) {
        let listed = response["description"].as_str().unwrap_or_default();
        assert!(
            listed.contains(&format!("`{code}`")),
            "{method} {route} {status}: code {code} is not documented there"
        );
    }
}

pub async fn call(
    addr: SocketAddr,
    method: &'static str,
    route: &'static str,
    path: String,
    token: Option<String>,
    body: Option<Vec<u8>>,
) -> Answer {
    tokio::task::spawn_blocking(move || request(addr, method, route, &path, token.as_deref(), body))
        .await
        .unwrap()
}
