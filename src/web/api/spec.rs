//! The API's one list of endpoints: each handler with its method, path,
//! summary, query parameters and the schemas of its body and answer. The
//! router is built from this list and `/api/v1/openapi.json` (OpenAPI 3.1)
//! is generated from it, so no route exists undocumented; a test checks
//! every documented route and its answers against the real server.

use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use serde_json::{Map, Value, json};

use crate::web::AppState;

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn key(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// A JSON object of the named schema.
    Json(&'static str),
    /// Bytes of a media type (a raw message).
    Raw(&'static str),
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy)]
pub enum Output {
    Json(&'static str),
    /// A file's bytes, with its own content type.
    Binary,
    /// No body.
    Empty,
}

/// One documented route.
pub struct Endpoint {
    pub verb: Verb,
    pub path: &'static str,
    pub summary: &'static str,
    /// (name, description) of each query parameter.
    pub query: &'static [(&'static str, &'static str)],
    pub input: Option<Input>,
    pub status: u16,
    pub output: Output,
    router: MethodRouter<AppState>,
}

/// The query parameters of every paged listing.
pub const PAGED: &[(&str, &str)] =
    &[("cursor", "The `next` of the previous page; absent for the first"), ("limit", "Items per page (1-500)")];

/// An endpoint answering 200 with a JSON object of schema `output`.
pub fn ep<H, T>(verb: Verb, path: &'static str, summary: &'static str, output: &'static str, handler: H) -> Endpoint
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let router = match verb {
        Verb::Get => get(handler),
        Verb::Post => post(handler),
        Verb::Put => put(handler),
        Verb::Patch => patch(handler),
        Verb::Delete => delete(handler),
    };
    Endpoint { verb, path, summary, query: &[], input: None, status: 200, output: Output::Json(output), router }
}

impl Endpoint {
    pub fn query(mut self, q: &'static [(&'static str, &'static str)]) -> Self {
        self.query = q;
        self
    }

    pub fn json(mut self, schema: &'static str) -> Self {
        self.input = Some(Input::Json(schema));
        self
    }

    pub fn raw(mut self, media: &'static str) -> Self {
        self.input = Some(Input::Raw(media));
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn output(mut self, output: Output) -> Self {
        self.output = output;
        self
    }
}

/// The router of `endpoints`, plus `GET /openapi.json` describing them.
pub fn router(mut endpoints: Vec<Endpoint>) -> Router<AppState> {
    let doc_ep = ep(Verb::Get, "/openapi.json", "This document (OpenAPI 3.1); needs no token", "OpenApi", || async { "" });
    endpoints.push(doc_ep);
    let doc = document(&endpoints);
    let mut r = Router::new();
    for e in endpoints {
        if e.path == "/openapi.json" {
            let doc = doc.clone();
            r = r.route(e.path, get(move || std::future::ready(axum::Json(doc))));
        } else {
            r = r.route(e.path, e.router);
        }
    }
    r
}

/// The OpenAPI 3.1 document of `endpoints`.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut paths = Map::new();
    for e in endpoints {
        let mut params: Vec<Value> = path_params(e.path)
            .into_iter()
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        params.extend(
            e.query
                .iter()
                .map(|(n, d)| json!({"name": n, "in": "query", "required": false, "description": d, "schema": {"type": "string"}})),
        );
        let ok = match e.output {
            Output::Json(s) => {
                json!({"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{s}")}}}})
            }
            Output::Binary => {
                json!({"description": "The file", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}})
            }
            Output::Empty => json!({"description": "Done"}),
        };
        let mut op = json!({
            "summary": e.summary,
            "operationId": operation_id(e),
            "parameters": params,
            "responses": {
                e.status.to_string(): ok,
                "4XX": {"description": "Refused: the error says why (and which field)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if e.path == "/openapi.json" {
            op["security"] = json!([]);
        }
        match e.input {
            Some(Input::Json(s)) => {
                op["requestBody"] =
                    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{s}")}}}})
            }
            Some(Input::Raw(media)) => {
                op["requestBody"] = json!({"required": true, "content": {media: {"schema": {"type": "string", "format": "binary"}}}})
            }
            None => {}
        }
        if let Some(item) = paths.entry(e.path.to_string()).or_insert_with(|| json!({})).as_object_mut() {
            item.insert(e.verb.key().to_string(), op);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "frontdesk API",
            "version": "1",
            "description": "The help desk's JSON API. Every request but this document's carries `Authorization: Bearer <token>`; a token has scopes (tickets:read, tickets:write, people:read, people:write, admin) and acts with its owner's role. Listings are paged with `cursor`/`limit` and answer `next` (null on the last page).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": super::schemas::all(),
        },
    })
}

/// `{name}` segments of a path.
pub fn path_params(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

fn operation_id(e: &Endpoint) -> String {
    let mut out = e.verb.key().to_string();
    for part in e.path.split(['/', '.']).filter(|p| !p.is_empty()) {
        let word = part.trim_start_matches('{').trim_end_matches('}');
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.replace('_', "")
}
