//! The bindings tested from Rust, compiled to wasm and run by `wasm-bindgen-test` twice: in
//! Node (`cargo xtask test`, step `wasm-test`) and in headless Chromium through chromedriver
//! (step `wasm-test-browser`, `WASM_BINDGEN_USE_BROWSER=1`). One test binary serves both:
//! the runner picks the host from the environment, so nothing here is host-specific except
//! [`runs_in_the_host_it_was_built_for`], which makes a run meant for Chromium fail if it
//! ran anywhere else. They see what JavaScript sees: `JsValue`s, errors with a `code`, and
//! no trap on bad input. The package's own behaviour through its public entry points is
//! tested in JavaScript (`pkg/test/`, and `pkg/test/browser/` in Chromium).

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::CardDoc;
use crate::types::{JsAttributes, JsDocOptions, JsSchema, JsValueType};

fn parse<T: JsCast>(json: &str) -> T {
    js_sys::JSON::parse(json)
        .expect("test JSON")
        .unchecked_into()
}

fn schema() -> JsSchema {
    parse(
        r#"{"version": 1, "cards": {"task": {"fields": {
            "title": {"kind": "register", "value_type": "string", "required": true},
            "status": {"kind": "register", "value_type": "string",
                       "transitions": {"todo": ["done"], "done": []}},
            "votes": {"kind": "counter"}}}}}"#,
    )
}

fn doc(client_id: u32) -> CardDoc {
    let options: JsDocOptions = parse(&format!(r#"{{"clientId": {client_id}, "actor": "t"}}"#));
    CardDoc::new(schema(), Some(options)).expect("doc")
}

/// `object[key]`, or `undefined` when `object` has no properties.
fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn code(error: &JsValue) -> String {
    Reflect::get(error, &"code".into())
        .ok()
        .and_then(|code| code.as_string())
        .unwrap_or_default()
}

fn title(text: &str) -> Option<JsAttributes> {
    Some(parse(&format!(r#"{{"title": "{text}"}}"#)))
}

/// The host these tests run in, checked against `CARDSYNC_WASM_TEST_HOST` (`node` or
/// `chromium`), which `cargo xtask test` sets at build time for each of its two runs. Without
/// it (a hand-run `cargo test`), the host must still be one of the two.
#[wasm_bindgen_test]
fn runs_in_the_host_it_was_built_for() {
    let global: JsValue = js_sys::global().into();
    let agent = get(&get(&global, "navigator"), "userAgent").as_string();
    let node = get(&get(&get(&global, "process"), "versions"), "node").as_string();
    let chromium = agent
        .as_deref()
        .is_some_and(|a| a.contains("HeadlessChrome"));
    wasm_bindgen_test::console_log!("host: user agent {agent:?}, node {node:?}");
    match option_env!("CARDSYNC_WASM_TEST_HOST") {
        Some("chromium") => assert!(chromium && node.is_none(), "not Chromium: {agent:?}"),
        Some("node") => assert!(node.is_some() && !chromium, "not Node: {agent:?}"),
        Some(other) => panic!("CARDSYNC_WASM_TEST_HOST is `node` or `chromium`, not {other:?}"),
        None => assert!(
            chromium != node.is_some(),
            "unknown host: {agent:?}, {node:?}"
        ),
    }
}

#[wasm_bindgen_test]
fn writes_read_back_as_plain_objects() {
    let doc = doc(1);
    let card = doc.create_card("task".into(), title("Ship"), None).unwrap();
    doc.increment(&card, "votes", 2.0).unwrap();
    let read: JsValue = doc.card(&card).unwrap().into();
    assert!(read.is_instance_of::<Object>());
    let fields = Reflect::get(&read, &"fields".into()).unwrap();
    assert_eq!(Reflect::get(&fields, &"title".into()).unwrap(), "Ship");
    assert_eq!(Reflect::get(&fields, &"votes".into()).unwrap(), 2);
    let missing: JsValue = doc.card("00000000000000000000000000").unwrap().into();
    assert!(missing.is_undefined());
}

#[wasm_bindgen_test]
fn refused_writes_are_errors_with_codes() {
    let doc = doc(2);
    let card = doc.create_card("task".into(), title("A"), None).unwrap();
    let todo: JsValueType = JsValue::from("todo").unchecked_into();
    doc.set_field(&card, "status", todo).unwrap();
    let back: JsValueType = JsValue::from("todo").unchecked_into();
    doc.set_field(&card, "status", JsValue::from("done").unchecked_into())
        .unwrap();
    let error = doc.set_field(&card, "status", back).unwrap_err();
    assert!(error.is_instance_of::<js_sys::Error>());
    assert_eq!(code(&error), "invalid_transition");
    let error = doc
        .set_field(&card, "title", JsValue::from(1).unchecked_into())
        .unwrap_err();
    assert_eq!(code(&error), "schema_violation");
    let error = doc.increment("not-an-id", "votes", 1.0).unwrap_err();
    assert_eq!(code(&error), "invalid_id");
    let error = doc.increment(&card, "votes", 0.5).unwrap_err();
    assert_eq!(code(&error), "invalid_argument");
    let error = doc
        .increment("00000000000000000000000000", "votes", 1.0)
        .unwrap_err();
    assert_eq!(code(&error), "unknown_card");
    let error = doc.create_card("task".into(), None, None).unwrap_err();
    assert_eq!(code(&error), "schema_violation");
}

#[wasm_bindgen_test]
fn every_opening_error_has_its_code() {
    let reserved: JsSchema =
        parse(r#"{"version": 1, "cards": {"x": {"fields": {"$a": {"kind": "text"}}}}}"#);
    let error = CardDoc::new(reserved, None).err().unwrap();
    assert_eq!(code(&error), "invalid_schema");
    let too_big: JsDocOptions = parse(r#"{"clientId": 9007199254740992}"#);
    let error = CardDoc::new(schema(), Some(too_big)).err().unwrap();
    assert_eq!(code(&error), "invalid_client_id");
    let error = CardDoc::load_v1(schema(), &[0xff], None).err().unwrap();
    assert_eq!(code(&error), "decode_error");
    let error = CardDoc::load_v2(schema(), &[1, 2, 3], None).err().unwrap();
    assert_eq!(code(&error), "decode_error");
    let error = doc(6).card("0000000000000000000000000!").err().unwrap();
    assert_eq!(code(&error), "invalid_id");
}

#[wasm_bindgen_test]
fn malformed_updates_are_decode_errors() {
    let doc = doc(3);
    for bytes in [&[0xff_u8][..], &[1, 2, 3], &[0xab, 0x8e, 0xc5, 0x73, 0x76]] {
        let error = doc.apply_update_v1(bytes).unwrap_err();
        assert_eq!(code(&error), "decode_error", "{bytes:?}");
        let error = doc.apply_update_v2(bytes).unwrap_err();
        assert_eq!(code(&error), "decode_error", "{bytes:?}");
    }
    // Truncated or impossible state vectors are decode errors, not empty diffs.
    for bytes in [
        &[0xff_u8][..],
        &[],
        &[0xab, 0x8e, 0xc5, 0x73, 0x76],
        &[1, 0x80],
    ] {
        assert_eq!(code(&doc.diff_v1(bytes).unwrap_err()), "decode_error");
        assert_eq!(code(&doc.diff_v2(bytes).unwrap_err()), "decode_error");
    }
    // One client (2) at clock 3 is a valid state vector.
    assert!(doc.diff_v1(&[1, 2, 3]).is_ok());
    doc.create_card("task".into(), title("still fine"), None)
        .unwrap();
}

#[wasm_bindgen_test]
fn two_docs_converge() {
    let (a, b) = (doc(4), doc(5));
    let card = a.create_card("task".into(), title("X"), None).unwrap();
    b.apply_update_v1(&a.diff_v1(&b.state_vector().unwrap()).unwrap())
        .unwrap();
    a.increment(&card, "votes", 1.0).unwrap();
    b.increment(&card, "votes", 2.0).unwrap();
    a.apply_update_v2(&b.diff_v2(&a.state_vector().unwrap()).unwrap())
        .unwrap();
    b.apply_update_v2(&a.diff_v2(&b.state_vector().unwrap()).unwrap())
        .unwrap();
    assert_eq!(a.export_json().unwrap(), b.export_json().unwrap());
    let ids: JsValue = a.sequence_ids().unwrap().into();
    assert_eq!(Array::from(&ids).length(), 0);
}

/// The machine's pending actions, as plain objects.
fn actions(machine: &crate::SyncMachine) -> Vec<JsValue> {
    let polled = machine.poll_actions().unwrap();
    polled.into_iter().map(JsValue::from).collect()
}

/// A started machine with socket 1 open: the state a driver feeds server frames into.
fn open_machine() -> crate::SyncMachine {
    let machine =
        crate::SyncMachine::new(schema(), parse(r#"{"token": "t"}"#), None).expect("machine");
    machine.start().unwrap();
    let opened = actions(&machine);
    assert_eq!(get(&opened[0], "kind"), "open");
    machine.socket_opened(1.0).unwrap();
    machine
}

#[wasm_bindgen_test]
fn malformed_frames_into_the_sync_machine_are_decode_errors_and_drop_the_socket() {
    for bytes in [
        &[0xff_u8][..],
        &[],
        &[0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f],
        &[7, 7, 7],
    ] {
        let machine = open_machine();
        let error = machine.frame(1.0, bytes).unwrap_err();
        assert_eq!(code(&error), "decode_error", "{bytes:?}");
        let actions = actions(&machine);
        assert!(
            actions.iter().any(|a| get(a, "kind") == "close"),
            "a frame that does not decode drops the socket: {bytes:?}"
        );
        // The document still works.
        machine
            .doc()
            .create_card("task".into(), title("after"), None)
            .unwrap();
    }
}

#[wasm_bindgen_test]
fn a_write_through_the_synced_doc_asks_to_persist_before_it_sends() {
    let machine = open_machine();
    let _ = machine.poll_actions().unwrap();
    machine
        .doc()
        .create_card("task".into(), title("queued"), None)
        .unwrap();
    let actions = actions(&machine);
    assert_eq!(
        actions.len(),
        1,
        "only the persist op: nothing is sent before it is durable"
    );
    assert_eq!(get(&actions[0], "kind"), "persist");
    assert_eq!(get(&get(&actions[0], "op"), "kind"), "put_batch");
    let status: JsValue = machine.status().unwrap().into();
    assert_eq!(get(&get(&status, "session"), "pending"), 1);
    assert_eq!(
        code(&machine.doc().apply_update_v1(&[0, 0]).unwrap_err()),
        "synced_doc"
    );
}
