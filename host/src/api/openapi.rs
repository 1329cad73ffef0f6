//! `GET /openapi.json`: the API described as OpenAPI 3.1. A test checks every route is in it.

use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } })
}

/// The document.
pub fn spec() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Kiln", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Renders creative code through sandboxed WebAssembly plugins. See docs/api.md." },
        "paths": {
            "/jobs": { "post": {
                "summary": "Submit a job",
                "parameters": [
                    { "name": "wait", "in": "query", "schema": { "type": "integer", "minimum": 0 },
                      "description": "Hold the request up to this many seconds (at most service.max_wait_s) for the job to finish" },
                    { "name": "lane", "in": "query", "schema": { "enum": ["interactive", "bulk"] } },
                    { "name": "force", "in": "query", "schema": { "type": "boolean" },
                      "description": "Render even if the result cache holds a succeeded job of the same type, plugin version and input" },
                    { "name": "Idempotency-Key", "in": "header", "schema": { "type": "string", "minLength": 1, "maxLength": 255 },
                      "description": "A second submission of the same request with the same key gets the first job back (header Idempotent-Replayed: true); another request with the key is 422" }
                ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/JobEnvelope" } } } },
                "responses": {
                    "200": { "description": "Finished within `wait`, or answered from the result cache (header Kiln-Cache: hit)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Job" } } } },
                    "401": error_response("Submit tokens are configured and the request carries none of them"),
                    "202": { "description": "Accepted", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Accepted" } } } },
                    "400": error_response("Malformed JSON or envelope"),
                    "403": error_response("Host or Origin not in service.allowed_hosts"),
                    "408": error_response("Body not received within service.body_read_timeout_ms"),
                    "413": error_response("Body over service.max_body_bytes"),
                    "415": error_response("Content-Type is not application/json"),
                    "422": error_response("Unknown type, input against the plugin's schema or this host's job limits, a taken id, or an Idempotency-Key used for another request"),
                    "429": error_response("Queue full; see Retry-After"),
                    "503": error_response("Queue unavailable; nothing was written")
                }
            }},
            "/jobs/batch": { "post": {
                "summary": "Submit many jobs (lane bulk by default)",
                "requestBody": { "required": true, "content": { "application/json": { "schema": {
                    "type": "object", "required": ["jobs"], "additionalProperties": false,
                    "properties": { "jobs": { "type": "array", "items": { "$ref": "#/components/schemas/JobEnvelope" } },
                                    "lane": { "enum": ["interactive", "bulk"] } } } } } },
                "responses": { "202": { "description": "Each job accepted or refused on its own" }, "400": error_response("Malformed batch"),
                               "415": error_response("Content-Type is not application/json") }
            }},
            "/jobs/{id}": {
                "get": { "summary": "A job's status, attempts, timings, artifacts and error", "parameters": [id_param()],
                         "responses": { "200": { "description": "The job", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Job" } } } },
                                        "404": error_response("No such job") } },
                "delete": { "summary": "Cancel: a queued job is removed, a running one stopped", "parameters": [id_param()],
                            "responses": { "200": { "description": "Cancelled" }, "202": { "description": "Stopping" },
                                           "404": error_response("No such job"), "409": error_response("Already ended") } }
            },
            "/jobs/{id}/events": { "get": {
                "summary": "Server-Sent Events: queued, started, progress, then succeeded, failed or cancelled",
                "parameters": [id_param()],
                "responses": { "200": { "description": "text/event-stream" }, "404": error_response("No such job") }
            }},
            "/jobs/{id}/artifacts/{name}": { "get": {
                "summary": "An artifact's bytes, or a redirect to its public URL",
                "parameters": [id_param(), { "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": { "200": { "description": "The bytes" }, "307": { "description": "Redirect to the public URL" }, "404": error_response("No such job or artifact") }
            }},
            "/render/{target}": {
                "get": {
                    "summary": "Answer with the file itself: /render/{type}.{ext}?<input as query parameters, typed by the plugin's schema>. From the result cache for anyone; a render only with a Kiln-Render header or Authorization",
                    "parameters": [
                        { "name": "target", "in": "path", "required": true, "schema": { "type": "string" }, "description": "`<type>.<ext>`, e.g. `p5.png`: the artifact whose name ends in `.<ext>` is returned" },
                        { "name": "force", "in": "query", "schema": { "type": "boolean" }, "description": "Render even on a cache hit" },
                        { "name": "wait", "in": "query", "schema": { "type": "integer" }, "description": "Seconds to wait (at most service.max_wait_s)" },
                        { "name": "Kiln-Render", "in": "header", "schema": { "type": "string" }, "description": "Any value: lets the request start a render (a web page elsewhere cannot send it)" }
                    ],
                    "responses": { "200": { "description": "The artifact's bytes; headers Kiln-Job and, from the cache, Kiln-Cache: hit" },
                                   "400": error_response("A query value does not match the schema's type"),
                                   "401": error_response("No submit token"),
                                   "404": error_response("The job made no artifact with that extension"),
                                   "422": error_response("Unknown type, or input against the schema or this host's job limits"),
                                   "428": error_response("Not in the cache, and the request carries neither Kiln-Render nor Authorization"),
                                   "504": error_response("Not finished within wait") }
                },
                "post": {
                    "summary": "Render and answer with the file itself; the input is the JSON body (query parameters add to it)",
                    "parameters": [
                        { "name": "target", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "force", "in": "query", "schema": { "type": "boolean" } },
                        { "name": "wait", "in": "query", "schema": { "type": "integer" } }
                    ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
                    "responses": { "200": { "description": "The artifact's bytes" },
                                   "400": error_response("The body is not a JSON object"),
                                   "415": error_response("Content-Type is not application/json"),
                                   "422": error_response("Unknown type, or input against the schema or this host's job limits"),
                                   "504": error_response("Not finished within wait") }
                }
            },
            "/dead-letters": { "get": {
                "summary": "Jobs that used up queue.max_attempts, newest first (admin)",
                "responses": { "200": { "description": "{jobs: [Job]}" }, "401": error_response("No or wrong token"), "403": error_response("Admin routes are off") }
            }},
            "/dead-letters/{id}/requeue": { "post": {
                "summary": "Queue a dead letter again with fresh attempts (admin)",
                "parameters": [id_param()],
                "responses": { "202": { "description": "Queued" }, "401": error_response("No or wrong token"),
                               "403": error_response("Admin routes are off"), "404": error_response("Not a dead letter") }
            }},
            "/plugins": { "get": { "summary": "Loaded plugins with their schemas and grants, and refused files", "responses": { "200": { "description": "Plugins" } } } },
            "/plugins/{name}": {
                "get": { "summary": "A plugin's loaded versions with schemas, and refusals of its files",
                         "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
                         "responses": { "200": { "description": "The plugin" }, "404": error_response("No such plugin") } },
                "put": { "summary": "Upload a component (admin: Authorization: Bearer service.admin_token); checked, then loaded without a restart",
                         "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
                         "requestBody": { "required": true, "content": { "application/wasm": {} } },
                         "responses": { "201": { "description": "Loaded" }, "401": error_response("No or wrong token"),
                                        "403": error_response("Admin routes are off"), "422": error_response("Refused, with the reason") } },
                "delete": { "summary": "Unload every version (admin)",
                            "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }],
                            "responses": { "200": { "description": "Unloaded" }, "401": error_response("No or wrong token"),
                                           "403": error_response("Admin routes are off"), "404": error_response("Not loaded") } }
            },
            "/health": { "get": { "summary": "Liveness", "responses": { "200": { "description": "The process answers" } } } },
            "/ready": { "get": { "summary": "Readiness: the queue answers and, in a process that runs jobs, a browser runs",
                                 "responses": { "200": { "description": "Ready" }, "503": error_response("Not ready") } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "text/plain" } } } },
            "/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3.1" } } } }
        },
        "components": { "schemas": {
            "JobEnvelope": { "type": "object", "required": ["type", "input"], "additionalProperties": false,
                "properties": { "id": { "type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$" },
                                "type": { "type": "string", "description": "A job type, optionally pinned: p5 or p5@0.1.0" },
                                "input": { "description": "Validated against the plugin's schema (GET /plugins)" },
                                "callback": { "type": "string", "format": "uri",
                                              "description": "POSTed the finished job, signed X-Kiln-Signature: sha256=HMAC(service.webhook_secret, body)" } } },
            "Accepted": { "type": "object", "properties": { "id": { "type": "string" }, "status": { "$ref": "#/components/schemas/Status" }, "links": { "type": "object" } } },
            "Status": { "enum": ["queued", "running", "succeeded", "failed", "cancelled"] },
            "Job": { "type": "object", "properties": {
                "id": { "type": "string" }, "type": { "type": "string" }, "input": {},
                "lane": { "enum": ["interactive", "bulk"] }, "status": { "$ref": "#/components/schemas/Status" },
                "attempts": { "type": "integer" }, "plugin": { "type": "string" },
                "worker": { "type": "string", "description": "Redis consumer name of the worker that ran the last attempt" },
                "cache_key": { "type": "string" }, "cached": { "type": "boolean", "description": "Answered from the result cache" },
                "cached_from": { "type": "string", "description": "For a job made from a cache hit under the id its client chose: the earlier job whose artifacts it has" },
                "log": { "type": "array", "description": "The job's log, capped by jobs.max_log_lines and jobs.max_log_bytes",
                         "items": { "type": "object", "properties": { "at_ms": { "type": "integer" }, "level": { "enum": ["debug", "info", "warn", "error"] },
                                                                      "source": { "enum": ["plugin", "page", "network", "host"] }, "message": { "type": "string" } } } },
                "submitted_at": { "type": "integer", "description": "Unix ms" }, "started_at": { "type": "integer" }, "finished_at": { "type": "integer" },
                "timings": { "type": "object", "properties": { "queued_ms": { "type": "number" }, "run_ms": { "type": "number" }, "total_ms": { "type": "number" } } },
                "artifacts": { "type": "array", "items": { "type": "object", "properties": {
                    "name": { "type": "string" }, "key": { "type": "string" }, "url": { "type": "string" },
                    "content_type": { "type": "string" }, "bytes": { "type": "integer" } } } },
                "error": { "$ref": "#/components/schemas/ErrorBody" }, "links": { "type": "object" } } },
            "ErrorBody": { "type": "object", "properties": {
                "kind": { "enum": ["invalid-input", "piece-failed", "timeout", "unavailable", "denied", "internal", "not-found"] },
                "message": { "type": "string" } } },
            "Error": { "type": "object", "properties": { "error": { "$ref": "#/components/schemas/ErrorBody" } } }
        }}
    })
}

pub async fn document() -> Response {
    axum::Json(spec()).into_response()
}
