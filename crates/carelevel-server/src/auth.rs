//! Bearer JWT verification ("trusting CDS clients", CDS Hooks 2.0), for the CDS
//! Hooks routes and, when auth is on, the JSON API (`docs/serve.md`, "Security").
//!
//! A token is accepted only when all of these hold, checked in this order:
//! the header reads, `alg` is one of [`ALLOWED_ALGORITHMS`] (so `none` and HMAC are
//! refused), `kid` is present, `iss` is a configured issuer, that issuer's static
//! JWKS has the `kid` (with a matching `alg` when the key names one), the signature
//! verifies, `aud` equals the exact URL called, `exp` is present and not past (with
//! the leeway), `iat` is present and not in the future beyond the leeway,
//! `exp - iat` is at most the configured lifetime, and `jti` is present and not seen
//! before (remembered until the token expires; the cache is bounded and a full cache
//! refuses new tokens rather than forgetting old ones).
//!
//! A refusal is a 401 with a `WWW-Authenticate: Bearer` challenge; its message says
//! which check failed and never echoes the token.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use axum::http::StatusCode;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::config::Auth;
use crate::error::ApiError;

/// The signature algorithms accepted.
pub const ALLOWED_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::PS256,
    Algorithm::PS384,
];

/// Who called, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `iss`.
    pub iss: String,
    /// The issuer's configured tenant label.
    pub tenant: Option<String>,
    /// The token's `sub`, when present.
    pub sub: Option<String>,
}

/// A JWKS file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JWKS file `{file}` (issuer `{iss}`): {message}")]
pub struct JwksError {
    /// The file.
    pub file: String,
    /// The issuer it is configured for.
    pub iss: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug)]
struct Trusted {
    keys: JwkSet,
    tenant: Option<String>,
}

/// Replay cache: `(iss, jti)` until the token's expiry.
#[derive(Debug, Default)]
struct Seen {
    by_id: HashMap<(String, String), u64>,
    by_expiry: BTreeSet<(u64, String, String)>,
}

/// Verifies bearer tokens against the configured issuers.
#[derive(Debug)]
pub struct Verifier {
    issuers: BTreeMap<String, Trusted>,
    max_lifetime: u64,
    leeway: u64,
    cache_size: usize,
    seen: Mutex<Seen>,
}

#[derive(Deserialize)]
struct Unverified {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    exp: u64,
    iat: Option<u64>,
    jti: Option<String>,
    sub: Option<String>,
}

/// A 401 refusal for reason `why`.
fn refuse(why: impl Into<String>) -> ApiError {
    let message = why.into();
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message.clone())
        .at("header Authorization");
    let description: String = message
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .filter(|c| *c != '"' && *c != '\\')
        .take(200)
        .collect();
    e.challenge = Some(format!(
        "Bearer realm=\"carelevel\", error=\"invalid_token\", error_description=\"{description}\""
    ));
    e
}

impl Verifier {
    /// Read every issuer's JWKS file.
    pub fn load(auth: &Auth) -> Result<Verifier, JwksError> {
        let mut issuers = BTreeMap::new();
        for issuer in &auth.issuers {
            let file = issuer.jwks.display().to_string();
            let fail = |message: String| JwksError {
                file: carelevel::text::Shown::full(&file).to_string(),
                iss: carelevel::text::Shown::excerpt(&issuer.iss).to_string(),
                message,
            };
            let text = std::fs::read_to_string(&issuer.jwks)
                .map_err(|e| fail(format!("cannot read it: {e}")))?;
            let keys: JwkSet = serde_json::from_str(&text).map_err(|e| {
                fail(format!(
                    "not a JWKS (a JSON object with `keys`, each a public JWK): {e}"
                ))
            })?;
            for key in &keys.keys {
                let Some(kid) = &key.common.key_id else {
                    return Err(fail("a key has no `kid`; every key needs one".to_owned()));
                };
                let decoding = DecodingKey::from_jwk(key)
                    .map_err(|e| fail(format!("key `{kid}` cannot be used: {e}")))?;
                if decoding.family() == jsonwebtoken::AlgorithmFamily::Hmac {
                    return Err(fail(format!(
                        "key `{kid}` is a shared secret (`oct`); only public keys (EC, RSA) are trusted"
                    )));
                }
            }
            issuers.insert(
                issuer.iss.clone(),
                Trusted {
                    keys,
                    tenant: issuer.tenant.clone(),
                },
            );
        }
        Ok(Verifier {
            issuers,
            max_lifetime: auth.max_token_lifetime_secs,
            leeway: auth.leeway_secs,
            cache_size: auth.jti_cache_size,
            seen: Mutex::new(Seen::default()),
        })
    }

    /// Verify the `Authorization` header value for a call to `audience` (the exact
    /// URL called) at `now` (seconds since the Unix epoch).
    pub fn verify(
        &self,
        authorization: Option<&str>,
        audience: &str,
        now: u64,
    ) -> Result<Caller, ApiError> {
        let Some(value) = authorization else {
            let mut e = refuse("a bearer token is required: send `Authorization: Bearer <JWT>`");
            e.challenge = Some("Bearer realm=\"carelevel\"".to_owned());
            return Err(e);
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| refuse("the Authorization header is not `Bearer <JWT>`"))?
            .trim();
        let header = jsonwebtoken::decode_header(token).map_err(|e| {
            refuse(format!(
                "the token header cannot be read ({e}); expected a signed JWT with alg one of ES256, ES384, RS256, RS384, PS256, PS384 (`none` and HMAC are refused)"
            ))
        })?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(refuse(format!(
                "alg {:?} is not accepted; expected one of ES256, ES384, RS256, RS384, PS256, PS384",
                header.alg
            )));
        }
        let Some(kid) = header.kid.as_deref() else {
            return Err(refuse("the token header has no `kid`"));
        };
        let unverified = jsonwebtoken::dangerous::insecure_decode::<Unverified>(token)
            .map_err(|e| refuse(format!("the token claims cannot be read: {e}")))?;
        let Some(iss) = unverified.claims.iss else {
            return Err(refuse("the token has no `iss`"));
        };
        let Some(trusted) = self.issuers.get(&iss) else {
            return Err(refuse(format!(
                "issuer `{}` is not trusted",
                carelevel::text::Shown::excerpt(&iss)
            )));
        };
        let Some(jwk) = trusted.keys.find(kid) else {
            return Err(refuse(format!(
                "issuer `{}` has no key `{}`",
                carelevel::text::Shown::excerpt(&iss),
                carelevel::text::Shown::excerpt(kid)
            )));
        };
        if let Some(key_alg) = jwk.common.key_algorithm {
            if format!("{key_alg:?}") != format!("{:?}", header.alg) {
                return Err(refuse(format!(
                    "key `{}` is for {key_alg:?}, the token is signed with {:?}",
                    carelevel::text::Shown::excerpt(kid),
                    header.alg
                )));
            }
        }
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| refuse(format!("key `{kid}` cannot be used: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.set_audience(&[audience]);
        validation.set_issuer(&[&iss]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            refuse(match e.kind() {
                K::InvalidSignature => "the signature does not verify".to_owned(),
                K::ExpiredSignature => "the token has expired (`exp` is past)".to_owned(),
                K::InvalidAudience => format!(
                    "`aud` is not the URL called; expected exactly `{}`",
                    carelevel::text::Shown::excerpt(audience)
                ),
                K::ImmatureSignature => "the token is not valid yet (`nbf`)".to_owned(),
                K::MissingRequiredClaim(c) => format!("the token has no `{c}`"),
                other => format!("the token is refused: {other:?}"),
            })
        })?;
        let claims = data.claims;
        let Some(iat) = claims.iat else {
            return Err(refuse("the token has no `iat`"));
        };
        if iat > now.saturating_add(self.leeway) {
            return Err(refuse(format!(
                "`iat` is {} s in the future (more than the {} s leeway)",
                iat - now,
                self.leeway
            )));
        }
        if claims.exp.saturating_sub(iat) > self.max_lifetime {
            return Err(refuse(format!(
                "`exp - iat` is {} s; at most {} s is accepted",
                claims.exp.saturating_sub(iat),
                self.max_lifetime
            )));
        }
        let Some(jti) = claims.jti else {
            return Err(refuse("the token has no `jti`"));
        };
        self.remember(&iss, &jti, claims.exp.saturating_add(self.leeway), now)?;
        Ok(Caller {
            iss,
            tenant: trusted.tenant.clone(),
            sub: claims.sub,
        })
    }

    /// Record `(iss, jti)` until `until`; a replay is refused.
    fn remember(&self, iss: &str, jti: &str, until: u64, now: u64) -> Result<(), ApiError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(first) = seen.by_expiry.first().cloned() {
            if first.0 >= now {
                break;
            }
            seen.by_expiry.remove(&first);
            seen.by_id.remove(&(first.1, first.2));
        }
        let key = (iss.to_owned(), jti.to_owned());
        if seen.by_id.contains_key(&key) {
            return Err(refuse(
                "this token (`jti`) was already used; send a new token per call",
            ));
        }
        if seen.by_id.len() >= self.cache_size {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "replay_cache_full",
                "too many unexpired tokens are remembered to check for replays; try again later",
            );
            e.at = Some("header Authorization".to_owned());
            return Err(e);
        }
        seen.by_expiry.insert((until, key.0.clone(), key.1.clone()));
        seen.by_id.insert(key, until);
        Ok(())
    }
}
