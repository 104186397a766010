//! The API's OpenAPI 3.1 document against the real server (issue 17 part
//! 13): every documented operation is exercised here in a working order,
//! answers its documented status, and its JSON validates against its
//! documented schema with no undocumented keys; the test's list and the
//! document must name the same operations. Every operation also refuses a
//! missing token (401), a token without the scope (403), an unknown
//! object (404) and a malformed body (400).

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::{Value, json};

const CONFIG_EXTRA: &str = "\n[[team]]\nname = \"Network\"\n[[view]]\nname = \"Urgent\"\nquery = \"priority:urgent\"\n\
                            [[status]]\nname = \"Waiting for vendor\"\nbase = \"on_hold\"\ncolour = \"#8a4baf\"\n";

/// Checks `v` against `schema` (the subset the document uses); the path
/// says where a mismatch is.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or("");
        return check(doc, &doc["components"]["schemas"][name], v, at);
    }
    if let Some(any) = schema["anyOf"].as_array() {
        return if any.iter().any(|s| check(doc, s, v, at).is_ok()) { Ok(()) } else { Err(format!("{at}: {v} matches none of {any:?}")) };
    }
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![kind],
    };
    if !allowed.contains(&kind) {
        return Err(format!("{at}: {kind} where the document says {allowed:?}"));
    }
    if let (Some(options), Some(s)) = (schema["enum"].as_array(), v.as_str())
        && !options.iter().any(|o| o == s)
    {
        return Err(format!("{at}: {s:?} is not one of {options:?}"));
    }
    if let (Value::Array(items), Some(item)) = (v, schema.get("items")) {
        for (i, x) in items.iter().enumerate() {
            check(doc, item, x, &format!("{at}[{i}]"))?;
        }
    }
    if let (Value::Object(o), Some(props)) = (v, schema["properties"].as_object()) {
        for req in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !o.contains_key(req) {
                return Err(format!("{at}: required key {req:?} is missing"));
            }
        }
        for (k, x) in o {
            match props.get(k) {
                Some(s) => check(doc, s, x, &format!("{at}.{k}"))?,
                None => return Err(format!("{at}: key {k:?} is not documented")),
            }
        }
    }
    Ok(())
}

/// A raw request: (status, body as JSON or text).
async fn raw(base: &str, method: &str, path: &str, token: Option<&str>, body: Option<(&str, Vec<u8>)>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(m, format!("{base}/api/v1{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some((ctype, bytes)) = body {
        req = req.header("content-type", ctype).body(bytes);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// One operation as exercised: verb, documented path, concrete path, body.
struct Op {
    verb: &'static str,
    template: &'static str,
    path: String,
    body: Option<Value>,
    raw: Option<Vec<u8>>,
}

fn op(verb: &'static str, template: &'static str, path: impl Into<String>, body: Option<Value>) -> Op {
    Op { verb, template, path: path.into(), body, raw: None }
}

fn new_ticket(subject: &str, email: &str) -> Value {
    json!({"subject": subject, "body": "Details.", "requester": {"name": "Carol", "email": email}})
}

/// A new API token of the admin's with `scopes`, made on the settings page.
async fn token(web: &mut Browser, scopes: &[&str]) -> String {
    let mut fields = vec![("name".to_string(), scopes.join(" ")), ("_csrf".to_string(), web.csrf.clone())];
    fields.extend(scopes.iter().map(|s| ("scope".to_string(), s.to_string())));
    let made = web.post_raw("/settings/tokens", &fields).await;
    made.body.split("<code>").nth(1).and_then(|r| r.split("</code>").next()).expect("the new token").to_string()
}

#[tokio::test]
async fn every_documented_route_exists_answers_as_documented_and_refuses_as_documented() {
    let d = MailDesk::start_with_config(&(MAIL_CONFIG.to_string() + CONFIG_EXTRA));
    let base = d.server.base.clone();
    // The document needs no token and describes itself.
    let (code, doc) = raw(&base, "GET", "/openapi.json", None, None).await;
    assert_eq!(code, 200, "{doc}");
    assert_eq!(doc["openapi"], "3.1.0");
    // A token with every scope (admin too), and one that may only read tickets.
    let mut web = Browser::logged_in(&base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let full = token(&mut web, &["tickets:read", "tickets:write", "people:read", "people:write", "admin"]).await;
    let reader = token(&mut web, &["tickets:read"]).await;
    let api = Api::new(&base, &full);
    // Objects the operations work on.
    let mut refs = Vec::new();
    for (subject, email) in [
        ("VPN", "carol@customer.test"),
        ("Printer", "dan@customer.test"),
        ("VPN again", "carol@customer.test"),
        ("Spam", "eve@customer.test"),
    ] {
        let (code, t) = api.call("POST", "/tickets", Some(new_ticket(subject, email))).await;
        assert_eq!(code, 201, "{t}");
        refs.push(t["ref"].as_str().unwrap().to_string());
    }
    let (main, other, dup, bin) = (refs[0].clone(), refs[1].clone(), refs[2].clone(), refs[3].clone());
    let junk_mail = b"From: Robot <robot@customer.test>\r\nTo: support@example.test\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@customer.test>\r\n\r\nI am away.\r\n";
    let (code, _) = raw(&base, "POST", "/mail", Some(&full), Some(("message/rfc822", junk_mail.to_vec()))).await;
    assert_eq!(code, 202);
    let mut junk_id = 0;
    for _ in 0..100 {
        let (_, page) = api.call("GET", "/junk", None).await;
        if let Some(id) = page["junk"][0]["id"].as_u64() {
            junk_id = id;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(junk_id > 0, "the auto-reply handed over /mail is held in Junk");
    let (_, outbox) = api.call("GET", "/admin/outbox", None).await;
    let mail_id = outbox["mails"][0]["id"].as_u64().unwrap_or_else(|| panic!("a notification waits in the outbox: {outbox}"));
    let (_, person) = api.call("POST", "/people", Some(json!({"email": "fred@customer.test", "name": "Fred"}))).await;
    let pid = person["id"].as_u64().expect("a person");
    let (_, twin) = api.call("POST", "/people", Some(json!({"email": "fred.home@customer.test", "name": "Fred"}))).await;
    let twin = twin["id"].as_u64().expect("a second person");
    let upload = json!({"body": "Log attached.", "internal": true, "attachments": [{"filename": "vpn.log", "content_type": "text/plain", "data": base64(b"line 1\nline 2\n")}]});
    let good_mail = b"From: Gus <gus@customer.test>\r\nTo: sales@example.test\r\nSubject: Quote\r\nMessage-ID: <quote@customer.test>\r\n\r\nHow much?\r\n".to_vec();
    let ops = vec![
        op("get", "/tickets", "/tickets?limit=2", None),
        op("post", "/tickets", "/tickets", Some(new_ticket("Toner", "carol@customer.test"))),
        op("get", "/tickets/{reference}", format!("/tickets/{main}"), None),
        op(
            "patch",
            "/tickets/{reference}",
            format!("/tickets/{main}"),
            Some(json!({"status": "Waiting for vendor", "priority": "urgent"})),
        ),
        op("post", "/tickets/{reference}/entries", format!("/tickets/{main}/entries"), Some(upload)),
        op("get", "/tickets/{reference}/entries/{seq}/attachments/{index}", format!("/tickets/{main}/entries/SEQ/attachments/0"), None),
        op("post", "/tickets/{reference}/checklist", format!("/tickets/{main}/checklist"), Some(json!({"text": "Renew the licence"}))),
        op("patch", "/tickets/{reference}/checklist/{item}", format!("/tickets/{main}/checklist/ITEM"), Some(json!({"done": true}))),
        op("delete", "/tickets/{reference}/checklist/{item}", format!("/tickets/{main}/checklist/ITEM"), None),
        op(
            "post",
            "/tickets/{reference}/collaborators",
            format!("/tickets/{main}/collaborators"),
            Some(json!({"email": "boss@customer.test"})),
        ),
        op("delete", "/tickets/{reference}/collaborators/{email}", format!("/tickets/{main}/collaborators/boss@customer.test"), None),
        op(
            "put",
            "/tickets/{reference}/requester",
            format!("/tickets/{other}/requester"),
            Some(json!({"email": "dana@customer.test", "name": "Dana"})),
        ),
        op("post", "/tickets/{reference}/links", format!("/tickets/{main}/links"), Some(json!({"ref": other}))),
        op("delete", "/tickets/{reference}/links/{other}", format!("/tickets/{main}/links/{other}"), None),
        op("post", "/tickets/{reference}/merge", format!("/tickets/{dup}/merge"), Some(json!({"into": main}))),
        op("post", "/tickets/{reference}/trash", format!("/tickets/{bin}/trash"), None),
        op("get", "/trash", "/trash", None),
        op("delete", "/tickets/{reference}/trash", format!("/tickets/{bin}/trash"), None),
        op("get", "/junk", "/junk", None),
        op("post", "/junk/{id}/ticket", format!("/junk/{junk_id}/ticket"), None),
        op("get", "/views", "/views", None),
        op("get", "/views/{name}/tickets", "/views/Urgent/tickets", None),
        op("get", "/admin/outbox", "/admin/outbox?limit=1", None),
        op("post", "/admin/outbox/{id}/retry", format!("/admin/outbox/{mail_id}/retry"), None),
        Op { verb: "post", template: "/mail", path: "/mail".into(), body: None, raw: Some(good_mail) },
        op("get", "/people", "/people?q=fred&limit=5", None),
        op("post", "/people", "/people", Some(json!({"email": "gina@customer.test", "name": "Gina"}))),
        op("get", "/people/{id}", format!("/people/{pid}"), None),
        op("patch", "/people/{id}", format!("/people/{pid}"), Some(json!({"notes": "Prefers phone."}))),
        op("post", "/people/{id}/merge", format!("/people/{twin}/merge"), Some(json!({"into": "fred@customer.test"}))),
        op("post", "/organizations", "/organizations", Some(json!({"name": "Acme Ltd", "domains": ["acme.example"]}))),
        op("get", "/organizations", "/organizations?q=acme&limit=5", None),
        op("get", "/organizations/{id}", "/organizations/1", None),
        op("patch", "/organizations/{id}", "/organizations/1", Some(json!({"notes": "Key account.", "shared": true}))),
        op("post", "/organizations", "/organizations", Some(json!({"name": "Acme Group", "domains": ["acme-group.example"]}))),
        op("post", "/organizations/{id}/merge", "/organizations/2/merge", Some(json!({"into": 1}))),
        op("get", "/admin/audit", "/admin/audit?limit=5", None),
        op("get", "/agents", "/agents", None),
        op("get", "/teams", "/teams", None),
        op("get", "/statuses", "/statuses", None),
        op("get", "/fields", "/fields", None),
        op("get", "/openapi.json", "/openapi.json", None),
    ];
    // The test and the document name the same operations.
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |v| (v.clone(), p.clone())))
        .collect();
    let exercised: BTreeSet<(String, String)> = ops.iter().map(|o| (o.verb.to_string(), o.template.to_string())).collect();
    assert_eq!(documented, exercised, "documented vs exercised operations");
    // Every operation answers as documented.
    let (mut seq, mut item) = (String::new(), String::new());
    for o in &ops {
        let path = o.path.replace("SEQ", &seq).replace("ITEM", &item);
        let spec = &doc["paths"][o.template][o.verb];
        let (ok, answer) = spec["responses"].as_object().unwrap().iter().find(|(k, _)| !k.starts_with('4')).unwrap();
        let body = match (&o.body, &o.raw) {
            (Some(b), _) => Some(("application/json", serde_json::to_vec(b).unwrap())),
            (_, Some(r)) => Some(("message/rfc822", r.clone())),
            _ => None,
        };
        let (code, got) = raw(&base, &o.verb.to_uppercase(), &path, Some(&full), body).await;
        assert_eq!(code.to_string(), *ok, "{} {path}: {got}", o.verb);
        if let Some(schema) = answer["content"]["application/json"].get("schema") {
            check(&doc, schema, &got, &format!("{} {path}", o.verb)).unwrap_or_else(|e| panic!("{e}\n{got:#}"));
        }
        if o.template == "/tickets/{reference}/entries/{seq}/attachments/{index}" {
            assert_eq!(got, Value::String("line 1\nline 2\n".into()), "the uploaded file comes back");
        }
        if o.template == "/tickets/{reference}/entries" {
            let e = got["entries"].as_array().unwrap().iter().rev().find(|e| !e["attachments"].as_array().unwrap().is_empty()).unwrap();
            seq = e["seq"].to_string();
        }
        if o.template == "/tickets/{reference}/checklist" && o.verb == "post" {
            item = got["checklist"][0]["id"].to_string();
        }
    }
    // An upload's content type reaches mail headers only as type/subtype.
    let bad = json!({"body": "x", "internal": true, "attachments": [{"filename": "a.txt", "content_type": "text/plain\r\nX-Evil: 1", "data": base64(b"a")}]});
    let (code, v) = api.call("POST", &format!("/tickets/{main}/entries"), Some(bad)).await;
    assert_eq!(code, 201, "{v}");
    let last = v["entries"].as_array().unwrap().iter().rev().find(|e| !e["attachments"].as_array().unwrap().is_empty()).unwrap().clone();
    assert_eq!(last["attachments"][0]["content_type"], "application/octet-stream", "{last}");
    // The mail handed over became a ticket in the mailbox's department.
    let mut quote = Value::Null;
    for _ in 0..100 {
        let (_, page) = api.call("GET", "/tickets?department=Sales", None).await;
        quote = page["tickets"].as_array().and_then(|l| l.iter().find(|t| t["subject"] == "Quote").cloned()).unwrap_or(Value::Null);
        if !quote.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(quote["requester"]["email"], "gus@customer.test", "{quote}");
    // Refusals: no token; a token that may only read tickets; unknown
    // objects; malformed bodies.
    for o in ops.iter().filter(|o| o.template != "/openapi.json") {
        let path = o.path.replace("SEQ", &seq).replace("ITEM", &item);
        let (code, e) = raw(&base, &o.verb.to_uppercase(), &path, None, None).await;
        assert_eq!(code, 401, "{} {path} without a token: {e}", o.verb);
        check(&doc, &json!({"$ref": "#/components/schemas/Error"}), &e, &path).unwrap();
        if o.verb != "get" || o.template.starts_with("/admin") || o.template.starts_with("/people") {
            let (code, e) = raw(&base, &o.verb.to_uppercase(), &path, Some(&reader), None).await;
            assert_eq!(code, 403, "{} {path} with a tickets:read token: {e}", o.verb);
        }
        let unknown = o
            .template
            .replace("{reference}", "TKT-999999")
            .replace("{id}", "999999")
            .replace("{name}", "Nowhere")
            .replace("{seq}", "1")
            .replace("{index}", "0")
            .replace("{item}", "999999")
            .replace("{email}", "nobody@customer.test")
            .replace("{other}", &other);
        if unknown != o.template {
            let body = o.body.as_ref().map(|b| ("application/json", serde_json::to_vec(b).unwrap()));
            let (code, e) = raw(&base, &o.verb.to_uppercase(), &unknown, Some(&full), body).await;
            assert_eq!(code, 404, "{} {unknown}: {e}", o.verb);
        }
        let input = doc["paths"][o.template][o.verb]["requestBody"]["content"].as_object().and_then(|c| c.keys().next().cloned());
        if let Some(ctype) = input {
            let (code, e) = raw(&base, &o.verb.to_uppercase(), &path, Some(&full), Some((&ctype, b"{not json".to_vec()))).await;
            assert_eq!(code, 400, "{} {path} with a malformed body: {e}", o.verb);
            assert!(e["error"].is_string(), "{e}");
        }
    }
}
