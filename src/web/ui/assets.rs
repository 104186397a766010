//! Static assets (CSS, JS, icons) embedded in the binary with rust-embed, so the
//! UI works offline and needs no CDN.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/"]
struct Assets;

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

pub fn routes() -> axum::Router<crate::web::AppState> {
    axum::Router::new().route("/assets/{*path}", axum::routing::get(serve)).route("/statuses.css", axum::routing::get(statuses))
}

/// The colours of the desk's custom statuses.
async fn statuses(axum::extract::State(st): axum::extract::State<crate::web::AppState>) -> Response {
    let css = super::statuses_css(&st.desk.config());
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")], css).into_response()
}

pub async fn serve(Path(path): Path<String>) -> Response {
    match Assets::get(&path) {
        Some(file) => {
            ([(header::CONTENT_TYPE, content_type(&path)), (header::CACHE_CONTROL, "public, max-age=3600")], file.data.into_owned())
                .into_response()
        }
        None => crate::web::WebError::new(StatusCode::NOT_FOUND, "Not found", "no such asset").into_response(),
    }
}
