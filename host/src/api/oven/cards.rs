//! `/kidlisp-og.png`, `/kidlisp-og`, `/kidlisp-og/status`, `/og-preview` and `/notepat-og.png`
//! (shared/OVEN.md §5.4, §6).

use super::{
    Answer, artifact, cached, finished_at, may_force, render, render_in_background, report_field,
    spec, today_utc, yesterday_utc,
};
use crate::api::error::ApiError;
use crate::queue::JobRecord;
use crate::service::Service;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// The `kidlisp-og` layouts, in the oven's order.
const LAYOUTS: [&str; 4] = ["featured", "mosaic", "filmstrip", "code-split"];

/// The layout the query names, or `default`; any other is a 400 listing the valid ones.
fn layout(
    query: &HashMap<String, String>,
    default: &'static str,
) -> Result<&'static str, ApiError> {
    match query.get("layout").map(String::as_str) {
        None | Some("") => Ok(default),
        Some(given) => LAYOUTS
            .iter()
            .copied()
            .find(|l| *l == given)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "invalid layout {given:?}: the layouts are {}",
                    LAYOUTS.join(", ")
                ))
            }),
    }
}

/// Today's (or `date`'s) card of `layout`: the pieces come from the host's piece sources.
fn card_spec(layout: &str, date: &str) -> crate::jobs::JobSpec {
    spec(
        "kidlisp-og",
        serde_json::json!({"layout": layout, "date": date}),
    )
}

/// `X-OG-Layout`, `X-OG-Generated` and `X-OG-Featured` for a finished card job.
async fn card_headers(
    service: &Service,
    record: &JobRecord,
    layout: &str,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![("x-og-layout", layout.to_string())];
    if let Some(ms) = record.finished_at
        && let Some(at) = chrono::DateTime::from_timestamp_millis(ms as i64)
    {
        headers.push((
            "x-og-generated",
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ));
    }
    if let Some(featured) = featured(service, record).await {
        headers.push(("x-og-featured", featured));
    }
    headers
}

/// The featured piece a card job reported in its `card.json`.
async fn featured(service: &Service, record: &JobRecord) -> Option<String> {
    report_field(service, record, "card.json", "featured").await
}

/// `GET /kidlisp-og.png?layout=` (default `mosaic`), for `og:image` tags: never slow when it
/// can help it. Today's card from the cache → 301 to it (or its bytes); else today's is queued
/// and yesterday's answers meanwhile (302, cached 5 min); with neither, today's is rendered
/// while the request waits.
#[utoipa::path(
    get,
    path = "/kidlisp-og.png",
    tag = "oven",
    params(("layout" = Option<String>, Query, description = "featured, mosaic (default), filmstrip or code-split")),
    responses(
        (status = 200, description = "The card's PNG (a store without a public URL)", content_type = "image/png"),
        (status = 301, description = "Today's card, at its public URL"),
        (status = 302, description = "Yesterday's card while today's renders, or today's fresh one"),
        (status = 400, description = "An unknown layout; the message lists the four"),
        (status = 500, description = "The card job failed; the message says why"),
        (status = 503, description = "Today's card is still rendering and there is no yesterday's"),
    ),
)]
pub async fn kidlisp_og_png(
    State(service): State<Arc<Service>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let layout = layout(&query, "mosaic")?;
    let today = card_spec(layout, &today_utc());
    if let Some(record) = cached(&service, &today).await? {
        let card = artifact(&record, "card.png", "the KidLisp OG card")?;
        return Answer {
            redirect: StatusCode::MOVED_PERMANENTLY,
            always_bytes: false,
            cache_control: Some("public, max-age=3600"),
            x_cache: "CDN",
            headers: vec![("x-og-layout", layout.to_string())],
        }
        .send(&service, card)
        .await;
    }
    if let Some(record) = cached(&service, &card_spec(layout, &yesterday_utc())).await? {
        render_in_background(&service, today).await;
        let card = artifact(&record, "card.png", "the KidLisp OG card")?;
        return Answer {
            redirect: StatusCode::FOUND,
            always_bytes: false,
            cache_control: Some("public, max-age=300"),
            x_cache: "STALE",
            headers: vec![("x-og-layout", layout.to_string())],
        }
        .send(&service, card)
        .await;
    }
    fresh_card(&service, today, layout, false, StatusCode::FOUND).await
}

/// Renders (or joins the render of) a card and answers with it.
async fn fresh_card(
    service: &Service,
    spec: crate::jobs::JobSpec,
    layout: &str,
    force: bool,
    redirect: StatusCode,
) -> Result<Response, ApiError> {
    let Some((record, was_cached)) = render(service, spec, force).await? else {
        return Err(ApiError::unavailable(format!(
            "the {layout} card is still rendering; try again shortly"
        )));
    };
    let card = artifact(&record, "card.png", "the KidLisp OG card")?;
    let headers = card_headers(service, &record, layout).await;
    Answer {
        redirect,
        always_bytes: !was_cached,
        cache_control: Some(if was_cached {
            "public, max-age=3600"
        } else {
            "public, max-age=86400"
        }),
        x_cache: if was_cached { "HIT" } else { "MISS" },
        headers,
    }
    .send(service, card)
    .await
}

/// `GET /kidlisp-og?layout=&force=` (default `featured`): today's card; cached → 302 to it (or
/// its bytes) with `X-Cache: HIT`; fresh → the PNG with `X-Cache: MISS` and `X-OG-Layout`,
/// `X-OG-Generated`, `X-OG-Featured`. `force=true` renders again (a submit token when
/// `service.submit_tokens` are set).
#[utoipa::path(
    get,
    path = "/kidlisp-og",
    tag = "oven",
    params(
        ("layout" = Option<String>, Query, description = "featured (default), mosaic, filmstrip or code-split"),
        ("force" = Option<bool>, Query, description = "Render again even when today's card is cached"),
    ),
    responses(
        (status = 200, description = "The card's PNG", content_type = "image/png"),
        (status = 302, description = "Today's cached card, at its public URL"),
        (status = 400, description = "An unknown layout; the message lists the four"),
        (status = 401, description = "force without a submit token"),
        (status = 500, description = "The card job failed; the message says why"),
        (status = 503, description = "Still rendering after service.max_wait_s"),
    ),
)]
pub async fn kidlisp_og(
    State(service): State<Arc<Service>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let layout = layout(&query, "featured")?;
    let force = may_force(&service, query.get("force").map(String::as_str), &headers)?;
    fresh_card(
        &service,
        card_spec(layout, &today_utc()),
        layout,
        force,
        StatusCode::FOUND,
    )
    .await
}

/// `GET /kidlisp-og/status`: for each layout, whether today's card is cached, where, when it
/// was made and what it features. Never renders.
#[utoipa::path(
    get,
    path = "/kidlisp-og/status",
    tag = "oven",
    responses((status = 200, description = "Today's card of each layout", body = Object)),
)]
pub async fn kidlisp_og_status(State(service): State<Arc<Service>>) -> Result<Response, ApiError> {
    let date = today_utc();
    let mut layouts = serde_json::Map::new();
    for layout in LAYOUTS {
        let entry = match cached(&service, &card_spec(layout, &date)).await? {
            Some(record) => {
                let url = record
                    .artifacts
                    .iter()
                    .find(|a| a.name == "card.png")
                    .map(|a| a.url.clone());
                serde_json::json!({
                    "cached": true,
                    "url": url,
                    "job": record.id,
                    "generatedAt": finished_at(&record),
                    "featuredPiece": featured(&service, &record).await,
                })
            }
            None => serde_json::json!({"cached": false}),
        };
        layouts.insert(layout.to_string(), entry);
    }
    Ok(axum::Json(serde_json::json!({
        "date": date,
        "layouts": layouts,
        "availableLayouts": LAYOUTS,
        "usage": {
            "recommended": "/kidlisp-og.png",
            "withLayout": "/kidlisp-og.png?layout=featured",
            "dynamic": "/kidlisp-og?layout=featured",
            "forceRegenerate": "/kidlisp-og?layout=featured&force=true",
        },
        "note": "each layout and each day (UTC) is its own entry of the result cache",
    }))
    .into_response())
}

/// `GET /og-preview`: every card on one page, with links to render each again and to its status.
#[utoipa::path(
    get,
    path = "/og-preview",
    tag = "oven",
    responses((status = 200, description = "An HTML page of every card", content_type = "text/html")),
)]
pub async fn og_preview() -> Html<String> {
    let mut cards = String::new();
    for layout in LAYOUTS {
        cards.push_str(&format!(
            "<figure><img src=\"/kidlisp-og?layout={layout}\" width=\"600\" height=\"315\" alt=\"KidLisp {layout} card\">\
             <figcaption>{layout} · <a href=\"/kidlisp-og?layout={layout}&amp;force=true\">Force Regenerate</a> · \
             <a href=\"/kidlisp-og/status\">Cache Status</a></figcaption></figure>\n"
        ));
    }
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OG previews</title>\
         <style>body{{font:14px monospace;background:#111;color:#ddd;margin:2em}}img{{border:1px solid #444}}\
         a{{color:#8f8}}figure{{margin:0 0 2em}}</style></head><body>\n\
         <h1>KidLisp</h1>\n{cards}<h1>Notepat</h1>\n\
         <figure><img src=\"/notepat-og.png\" width=\"600\" height=\"315\" alt=\"Notepat card\">\
         <figcaption><a href=\"/notepat-og.png?force=true\">Force Regenerate</a></figcaption></figure>\n\
         <h1>Production</h1><ul><li><a href=\"https://kidlisp.com\">kidlisp.com</a></li>\
         <li><a href=\"https://aesthetic.computer/kidlisp\">aesthetic.computer/kidlisp</a></li>\
         <li><a href=\"https://notepat.com\">notepat.com</a></li>\
         <li><a href=\"https://aesthetic.computer/notepat\">aesthetic.computer/notepat</a></li></ul>\n\
         </body></html>\n"
    ))
}

/// `GET /kidlisp-og/preview`: 302 to `/og-preview`.
#[utoipa::path(
    get,
    path = "/kidlisp-og/preview",
    tag = "oven",
    responses((status = 302, description = "To /og-preview")),
)]
pub async fn kidlisp_og_preview() -> Response {
    (StatusCode::FOUND, [(header::LOCATION, "/og-preview")]).into_response()
}

/// `GET /notepat-og.png?force=`: the Notepat card, always as bytes (iOS crawlers do not follow
/// redirects for og:image), `X-Cache: HIT` from the cache or `MISS` when just made.
#[utoipa::path(
    get,
    path = "/notepat-og.png",
    tag = "oven",
    params(("force" = Option<bool>, Query, description = "Render again (a submit token when service.submit_tokens are set)")),
    responses(
        (status = 200, description = "The card's PNG", content_type = "image/png"),
        (status = 401, description = "force without a submit token"),
        (status = 500, description = "The card job failed; the message says why"),
    ),
)]
pub async fn notepat_og_png(
    State(service): State<Arc<Service>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let force = may_force(&service, query.get("force").map(String::as_str), &headers)?;
    let Some((record, was_cached)) =
        render(&service, spec("notepat-og", serde_json::json!({})), force).await?
    else {
        return Err(ApiError::unavailable(
            "the Notepat card is still rendering; try again shortly",
        ));
    };
    let card = artifact(&record, "card.png", "the Notepat OG card")?;
    let mut response = Answer {
        redirect: StatusCode::FOUND,
        always_bytes: true,
        cache_control: Some("public, max-age=604800"),
        x_cache: if was_cached { "HIT" } else { "MISS" },
        headers: vec![],
    }
    .send(&service, card)
    .await?;
    response.headers_mut().remove(header::LOCATION);
    Ok(response)
}
