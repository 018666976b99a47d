//! The single wiremock responder: looks films up by `i=` or `t=`, checks the
//! API key, draws latency and faults from the seed.

use std::sync::{Arc, Mutex, PoisonError};

use movie_fixtures::Catalog;
use wiremock::{Request, Respond, ResponseTemplate};

use crate::body;
use crate::config::{Fault, StubConfig};
use crate::rng::Dice;

/// Header the responder sets to ask the front to reset the client connection.
pub const RESET_MARKER: &str = "x-oomguard-fault";
/// Value of [`RESET_MARKER`] asking for a reset.
pub const RESET_VALUE: &str = "reset";

const JSON: &str = "application/json; charset=utf-8";

/// Shared by both backends, so occurrences and draws continue across rotation.
#[derive(Clone)]
pub struct OmdbResponder {
    inner: Arc<Inner>,
}

struct Inner {
    config: StubConfig,
    catalog: Arc<Catalog>,
    dice: Mutex<Dice>,
}

impl OmdbResponder {
    /// A responder answering from `catalog` under `config`.
    pub fn new(config: StubConfig, catalog: Arc<Catalog>) -> Self {
        let dice = Mutex::new(Dice::new(config.seed));
        Self {
            inner: Arc::new(Inner {
                config,
                catalog,
                dice,
            }),
        }
    }
}

fn json(status: u16, body: impl Into<Vec<u8>>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.into(), JSON)
}

impl Respond for OmdbResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let cfg = &self.inner.config;
        let mut api_key = None;
        let mut id = None;
        let mut title = None;
        for (k, v) in request.url.query_pairs() {
            match k.as_ref() {
                "apikey" => api_key = Some(v.into_owned()),
                "i" => id = Some(v.into_owned()),
                "t" => title = Some(v.into_owned()),
                _ => {}
            }
        }
        if let Some(expected) = &cfg.api_key {
            match api_key.as_deref() {
                None | Some("") => return json(401, body::NO_KEY),
                Some(k) if k != expected => return json(401, body::INVALID_KEY),
                Some(_) => {}
            }
        }
        let key = match (&id, &title) {
            (Some(i), _) => format!("i:{i}"),
            (None, Some(t)) => format!("t:{}", t.to_lowercase()),
            (None, None) => return json(200, body::INCORRECT_ID),
        };
        let draw = self
            .inner
            .dice
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .draw(&key, &cfg.latency, &cfg.faults);
        let mut delay = draw.latency;
        let movie = match (&id, &title) {
            (Some(i), _) => self.inner.catalog.by_imdb_id(i),
            (None, Some(t)) => self.inner.catalog.by_title(t),
            (None, None) => None,
        };
        let template = match (draw.fault, movie) {
            (Some(Fault::NotFound), _) | (None | Some(Fault::Timeout), None) => {
                json(200, body::NOT_FOUND)
            }
            (Some(Fault::Http500), _) => ResponseTemplate::new(500).set_body_raw(
                b"Internal Server Error".to_vec(),
                "text/plain; charset=utf-8",
            ),
            (Some(Fault::RateLimit), _) => json(401, body::LIMIT_REACHED),
            (Some(Fault::MalformedJson), movie) => {
                let full =
                    movie.map_or_else(|| body::NOT_FOUND.to_string(), |m| body::movie_body(&m));
                let mut cut = full.len() / 2;
                while !full.is_char_boundary(cut) {
                    cut -= 1;
                }
                json(200, full[..cut].to_string())
            }
            (Some(Fault::Reset), _) => {
                ResponseTemplate::new(200).insert_header(RESET_MARKER, RESET_VALUE)
            }
            (None | Some(Fault::Timeout), Some(m)) => json(200, body::movie_body(&m)),
        };
        if draw.fault == Some(Fault::Timeout) {
            delay = std::time::Duration::from_millis(cfg.faults.timeout_delay_ms);
        }
        if delay.is_zero() {
            template
        } else {
            template.set_delay(delay)
        }
    }
}
