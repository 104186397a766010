//! The JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of what the API
//! takes and answers: `components.schemas` of `/api/v1/openapi.json`.
//! Answers list every key they have (a test holds real answers to that).

use serde_json::{Map, Value, json};

fn s() -> Value {
    json!({"type": "string"})
}

fn ns() -> Value {
    json!({"type": ["string", "null"]})
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn boolean() -> Value {
    json!({"type": "boolean"})
}

fn list(of: Value) -> Value {
    json!({"type": "array", "items": of})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn nr(name: &str) -> Value {
    json!({"anyOf": [r(name), {"type": "null"}]})
}

/// An object with `required` keys and `optional` ones; `closed`: no others.
fn obj(required: &[(&str, Value)], optional: &[(&str, Value)], closed: bool) -> Value {
    let mut props = Map::new();
    for (k, v) in required.iter().chain(optional) {
        props.insert(k.to_string(), v.clone());
    }
    let names: Vec<&str> = required.iter().map(|(k, _)| *k).collect();
    let mut o = json!({"type": "object", "properties": props, "required": names});
    if closed {
        o["additionalProperties"] = json!(false);
    }
    o
}

/// A page of `key` items and the cursor of the next.
fn page(key: &str, item: Value) -> Value {
    obj(&[(key, list(item)), ("next", ns())], &[], false)
}

fn ticket_keys() -> Vec<(&'static str, Value)> {
    vec![
        ("ref", s()),
        ("id", int()),
        ("subject", s()),
        ("status", json!({"type": "string", "enum": ["open", "pending", "in_progress", "on_hold", "resolved", "closed", "snoozed"]})),
        ("status_name", s()),
        ("custom_status", ns()),
        ("priority", s()),
        ("category", s()),
        ("department", s()),
        ("channel", s()),
        ("assignee", nr("PersonRef")),
        ("team", ns()),
        ("requester", nr("PersonRef")),
        ("due", ns()),
        ("tags", list(s())),
        ("fields", json!({"type": "object", "additionalProperties": {"type": "string"}})),
        ("created_at", s()),
        ("updated_at", s()),
        ("url", s()),
    ]
}

/// Every schema, by name.
pub fn all() -> Value {
    let ticket = ticket_keys();
    let mut view = ticket_keys();
    view.extend([
        ("entries", list(r("Entry"))),
        ("collaborators", list(r("PersonRef"))),
        ("checklist", list(r("ChecklistItem"))),
        ("links", list(s())),
        ("trashed_at", ns()),
        ("snoozed_until", ns()),
        ("rating", nr("Rating")),
        ("sla", nr("Sla")),
        ("time_spent", int()),
        ("time_by_agent", list(obj(&[("agent", nr("PersonRef")), ("minutes", int())], &[], false))),
    ]);
    let who = obj(&[("email", s())], &[("name", s())], true);
    json!({
        "Error": obj(&[("error", s())], &[("field", s()), ("at", int()), ("token", s())], false),
        "PersonRef": obj(&[("name", s()), ("email", s())], &[], false),
        "Rating": obj(&[("score", json!({"type": "string", "enum": ["good", "bad"]})), ("comment", s()), ("at", s())], &[], true),
        "Sla": obj(
            &[
                ("policy", s()),
                ("first_response_due", ns()),
                ("next_response_due", ns()),
                ("resolution_due", ns()),
                ("breached", list(s())),
                (
                    "targets",
                    list(obj(
                        &[
                            ("target", s()),
                            ("minutes", int()),
                            ("running", json!({"type": "boolean"})),
                            ("due", ns()),
                            ("business_minutes_left", json!({"type": ["integer", "null"]})),
                            ("met_at", ns()),
                            ("breached_at", ns()),
                        ],
                        &[],
                        false,
                    )),
                ),
            ],
            &[],
            false,
        ),
        "Ticket": obj(&ticket, &[("snippet", s())], false),
        "TicketView": obj(&view, &[], false),
        "Entry": obj(
            &[
                ("seq", int()),
                ("kind", s()),
                ("author", nr("PersonRef")),
                ("body", s()),
                ("created_at", s()),
                ("time_spent", json!({"type": ["integer", "null"]})),
                ("attachments", list(r("Attachment"))),
            ],
            &[],
            false,
        ),
        "Attachment": obj(&[("filename", s()), ("size", int()), ("content_type", s()), ("url", s())], &[], false),
        "ChecklistItem": obj(&[("id", int()), ("text", s()), ("done", boolean()), ("assignee", nr("PersonRef")), ("due", ns())], &[], false),
        "TicketPage": obj(&[("tickets", list(r("Ticket"))), ("next", ns())], &[("total", int())], false),
        "Person": obj(
            &[("id", int()), ("name", s()), ("email", s()), ("role", s()), ("active", boolean()), ("created_at", s())],
            &[("notes", s()), ("organization", ns())],
            false,
        ),
        "PersonPage": page("people", r("Person")),
        "Organization": obj(
            &[
                ("id", int()),
                ("name", s()),
                ("domains", list(s())),
                ("notes", s()),
                ("shared", boolean()),
                ("people_count", int()),
                ("created_at", s()),
            ],
            &[("people", list(obj(&[("id", int()), ("name", s()), ("email", s())], &[], false)))],
            false,
        ),
        "OrganizationPage": page("organizations", r("Organization")),
        "AuditPage": page("entries", json!({"type": "object"})),
        "Agent": obj(
            &[("id", int()), ("name", s()), ("email", s()), ("role", s()), ("active", boolean()), ("departments", list(s())), ("teams", list(s()))],
            &[],
            false,
        ),
        "AgentPage": page("agents", r("Agent")),
        "TeamList": obj(&[("teams", list(obj(&[("name", s()), ("departments", list(s())), ("members", list(s()))], &[], false)))], &[], false),
        "StatusList": obj(
            &[("statuses", list(obj(&[("value", s()), ("name", s()), ("base", s()), ("colour", ns()), ("custom", boolean())], &[], false)))],
            &[],
            false,
        ),
        "ViewList": obj(&[("views", list(obj(&[("name", s()), ("query", s()), ("columns", s()), ("shared", boolean())], &[], false)))], &[], false),
        "JunkPage": page(
            "junk",
            obj(
                &[("id", int()), ("received_at", s()), ("from", s()), ("subject", s()), ("reason", s()), ("mail_from", s()), ("rcpt_to", list(s()))],
                &[],
                false,
            ),
        ),
        "OutboxPage": page(
            "mails",
            obj(
                &[
                    ("id", int()),
                    ("ticket", ns()),
                    ("kind", s()),
                    ("from", s()),
                    ("to", list(s())),
                    ("cc", list(s())),
                    ("pending", list(s())),
                    ("subject", s()),
                    ("created_at", s()),
                    ("attempts", int()),
                    ("next_attempt", s()),
                    ("failed", boolean()),
                    ("last_error", s()),
                ],
                &[],
                false,
            ),
        ),
        "TrashPage": page("trashed", obj(&[("ticket", r("Ticket")), ("trashed_at", s())], &[], false)),
        "FieldValues": json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "array", "null"]}}),
        "FieldList": obj(
            &[(
                "fields",
                list(obj(
                    &[
                        ("name", s()),
                        ("label", s()),
                        ("kind", json!({"type": "string", "enum": ["text", "long_text", "number", "date", "checkbox", "select", "multi_select"]})),
                        ("options", list(s())),
                        ("departments", list(s())),
                        ("required_to_resolve", boolean()),
                    ],
                    &[],
                    false,
                )),
            )],
            &[],
            false,
        ),
        "MailAccepted": obj(&[("spooled", int())], &[], false),
        "OpenApi": obj(
            &[("openapi", s()), ("info", json!({"type": "object"})), ("paths", json!({"type": "object"}))],
            &[("servers", json!({"type": "array"})), ("security", json!({"type": "array"})), ("components", json!({"type": "object"}))],
            false,
        ),
        "NewTicket": obj(
            &[("requester", json!({"anyOf": [s(), who.clone()]}))],
            &[
                ("subject", s()),
                ("body", s()),
                ("channel", s()),
                ("priority", s()),
                ("category", s()),
                ("department", s()),
                ("assignee", s()),
                ("due", ns()),
                ("tags", list(s())),
                ("notify_requester", boolean()),
                ("fields", r("FieldValues")),
            ],
            true,
        ),
        "TicketPatch": obj(
            &[],
            &[
                ("subject", s()),
                ("status", s()),
                ("priority", s()),
                ("category", s()),
                ("department", s()),
                ("assignee", ns()),
                ("due", ns()),
                ("tags", list(s())),
                ("team", ns()),
                ("fields", r("FieldValues")),
                ("snooze_until", s()),
            ],
            true,
        ),
        "NewEntry": obj(
            &[],
            &[
                ("body", s()),
                ("internal", boolean()),
                ("status", s()),
                ("mail", boolean()),
                ("attachments", list(r("Upload"))),
                ("time_spent", int()),
            ],
            true,
        ),
        "Upload": obj(&[("filename", s()), ("data", json!({"type": "string", "contentEncoding": "base64"}))], &[("content_type", s())], true),
        "Who": who,
        "NewChecklistItem": obj(&[("text", s())], &[("assignee", ns()), ("due", ns())], true),
        "ChecklistChange": obj(&[], &[("done", boolean()), ("assignee", ns()), ("due", ns())], true),
        "Merge": obj(&[("into", s())], &[], true),
        "Link": obj(&[("ref", s())], &[], true),
        "NewPerson": obj(&[("email", s())], &[("name", s())], true),
        "PersonPatch": obj(&[], &[("name", s()), ("notes", s()), ("organization", ns())], true),
        "NewOrganization": obj(&[("name", s())], &[("domains", list(s())), ("notes", s()), ("shared", boolean())], true),
        "OrganizationPatch": obj(&[], &[("name", s()), ("domains", list(s())), ("notes", s()), ("shared", boolean())], true),
        "OrgMerge": obj(&[("into", int())], &[], true),
    })
}
