//! The clinician web form (`GET /`, `docs/serve.md`, "Web form"): one hand-written
//! HTML page, one script and one style sheet, embedded in the binary with
//! `include_str!` and served by carelevel itself (nothing is fetched from anywhere
//! else at run time). The page reads the served rulesets, their questions and answer
//! scales from the JSON API and calls `POST /v1/rulesets/{id}/assess` as answers
//! change; every ruleset text is put into the page as text (`textContent`), never as
//! markup.
//!
//! Every response carries a strict `Content-Security-Policy` (no inline script or
//! style, connections to this origin only, no framing), `X-Content-Type-Options:
//! nosniff`, `Referrer-Policy: no-referrer`, `Cache-Control: no-cache` and an `ETag`
//! (a hash of the asset computed at compile time), so a browser revalidates and gets
//! `304 Not Modified` until the binary changes. The page itself is public; the API
//! calls it makes need whatever auth the server has.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The `Content-Security-Policy` of every web form response: scripts, styles, images
/// and connections from this origin only; nothing inline, no plugins, no framing, no
/// form submission anywhere, no `<base>`.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// One embedded file of the web form.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The route it is served at.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its text.
    pub body: &'static str,
    /// Its `ETag` value (quoted), from a hash of `body`.
    pub etag: &'static str,
}

/// 64-bit FNV-1a of `bytes`: a change detector for the `ETag` (not a security hash).
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        // `i < bytes.len()` was just checked; const fns cannot use iterators.
        #[allow(
            clippy::indexing_slicing,
            reason = "the loop condition bounds the index"
        )]
        let byte = bytes[i];
        hash ^= byte as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The quoted `ETag` text of a hash: `"` + 16 hex digits + `"`.
const fn etag_text(hash: u64) -> [u8; 18] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        let nibble = (hash >> (60 - 4 * i)) & 0xf;
        // `nibble` < 16 and `i + 1` < 17 < 18: both indices are in bounds.
        #[allow(
            clippy::indexing_slicing,
            clippy::cast_possible_truncation,
            reason = "nibble is masked to 0..16 and i + 1 is at most 16"
        )]
        {
            out[i + 1] = HEX[nibble as usize];
        }
        i += 1;
    }
    out
}

/// Declares an embedded asset with its compile-time `ETag`.
macro_rules! asset {
    ($path:literal, $type:literal, $file:literal) => {{
        const BODY: &str = include_str!($file);
        const TAG: [u8; 18] = etag_text(fnv1a(BODY.as_bytes()));
        const ETAG: &str = match std::str::from_utf8(&TAG) {
            Ok(s) => s,
            // Unreachable: the tag is quotes and hex digits. A const cannot fail
            // otherwise; this only keeps the match total.
            Err(_) => "\"0\"",
        };
        Asset {
            path: $path,
            content_type: $type,
            body: BODY,
            etag: ETAG,
        }
    }};
}

/// The page (`GET /`).
pub const PAGE: Asset = asset!("/", "text/html; charset=utf-8", "../web/index.html");
/// The script (`GET /web/carelevel.js`).
pub const SCRIPT: Asset = asset!(
    "/web/carelevel.js",
    "text/javascript; charset=utf-8",
    "../web/carelevel.js"
);
/// The style sheet, screen and print (`GET /web/carelevel.css`).
pub const STYLE: Asset = asset!(
    "/web/carelevel.css",
    "text/css; charset=utf-8",
    "../web/carelevel.css"
);
/// The icon (`GET /web/icon.svg`), so a browser does not ask for `/favicon.ico`.
pub const ICON: Asset = asset!("/web/icon.svg", "image/svg+xml", "../web/icon.svg");

/// Every asset, for tests and docs.
pub const ASSETS: [Asset; 4] = [PAGE, SCRIPT, STYLE, ICON];

/// Serve `asset`: 200 with the body, or 304 when `If-None-Match` names its `ETag`.
fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag == asset.etag || tag.strip_prefix("W/") == Some(asset.etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    response
}

/// `GET /`: the web form.
pub async fn page(request: HeaderMap) -> Response {
    serve(&PAGE, &request)
}

/// `GET /web/carelevel.js`.
pub async fn script(request: HeaderMap) -> Response {
    serve(&SCRIPT, &request)
}

/// `GET /web/carelevel.css`.
pub async fn style(request: HeaderMap) -> Response {
    serve(&STYLE, &request)
}

/// `GET /web/icon.svg`.
pub async fn icon(request: HeaderMap) -> Response {
    serve(&ICON, &request)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;

    #[test]
    fn etags_are_quoted_hex_and_differ_between_assets() {
        let tags: Vec<&str> = ASSETS.iter().map(|a| a.etag).collect();
        for tag in &tags {
            assert_eq!(tag.len(), 18, "{tag}");
            assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
            assert!(tag[1..17].bytes().all(|b| b.is_ascii_hexdigit()), "{tag}");
        }
        let mut unique = tags.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), tags.len(), "{tags:?}");
        // FNV-1a 64 of the empty input is its offset basis; of "a", the published value.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(&etag_text(0x0123_4567_89ab_cdef), b"\"0123456789abcdef\"");
    }

    #[test]
    fn the_page_loads_only_its_own_assets_and_has_no_inline_script_or_style() {
        let html = PAGE.body;
        assert!(html.contains(r#"<script src="/web/carelevel.js" defer></script>"#));
        assert!(html.contains(r#"href="/web/carelevel.css""#));
        assert!(html.contains(r#"href="/web/icon.svg""#));
        // Exactly one script element, and it has a src: no inline script.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("<style"), "inline style element");
        assert!(!html.contains(" style="), "inline style attribute");
        // No inline event handler attribute (`onclick=` and the like) in any tag.
        for tag in html.split('<').skip(1) {
            let head = tag.split('>').next().unwrap_or("");
            for word in head.split_whitespace().skip(1) {
                assert!(!word.starts_with("on"), "inline handler in <{head}>");
            }
        }
        for text in [html, SCRIPT.body, STYLE.body] {
            assert!(!text.contains("http://"), "an absolute URL");
            assert!(!text.contains("https://"), "an absolute URL");
        }
        assert!(html.contains("Decision support"));
    }

    #[test]
    fn the_script_never_writes_markup() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!SCRIPT.body.contains(sink), "carelevel.js uses {sink}");
        }
    }

    #[test]
    fn the_csp_forbids_inline_script_and_foreign_origins() {
        assert!(!CSP.contains("unsafe"));
        assert!(CSP.starts_with("default-src 'none';"));
        for directive in [
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(CSP.contains(directive), "{directive}");
        }
    }
}
