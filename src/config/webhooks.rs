//! `[[webhook]]`: where the desk posts ticket events (Zammad, FreeScout),
//! which events, the secret that signs them, and whether the URL may be a
//! private address; and their checks.

use super::Config;
use crate::domain::webhook::WebhookEvent;

/// One webhook receiver.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Shown in the delivery log.
    pub name: String,
    /// `https://…` (or `http://…`).
    pub url: String,
    /// Event names; empty = every event.
    #[serde(default)]
    pub events: Vec<String>,
    /// File holding the signing secret (kept out of the config file).
    #[serde(default)]
    pub secret_file: String,
    /// Allow a URL whose host is loopback or a private network (an
    /// internal service); refused otherwise, so a webhook cannot be aimed
    /// at the desk's own network by mistake or malice.
    #[serde(default)]
    pub allow_private: bool,
    /// Seconds before each retry of a failed delivery; the last repeats,
    /// until a day has passed.
    #[serde(default = "default_retry")]
    pub retry_secs: Vec<u64>,
}

fn default_retry() -> Vec<u64> {
    vec![10, 60, 300, 1800, 3600, 7200]
}

impl WebhookConfig {
    /// Its commented example in `config.example.toml`.
    pub const EXAMPLE: &'static str = "\
# Webhooks (one [[webhook]] each): the desk POSTs each ticket event as JSON,
# signed with HMAC-SHA256 in X-Frontdesk-Signature (sha256=<hex> of
# \"<X-Frontdesk-Timestamp>.<body>\"), from a durable queue with retries.
# Events: ticket.created, ticket.replied, ticket.note, ticket.status_changed,
# ticket.updated (empty = all). A URL on loopback or a private network needs
# allow_private = true.
# [[webhook]]
# name = \"chat\"
# url = \"https://hooks.example.com/frontdesk\"
# events = [\"ticket.created\", \"ticket.replied\"]
# secret_file = \"/etc/frontdesk/webhook.secret\"
# allow_private = false
# retry_secs = [10, 60, 300, 1800, 3600, 7200]
";

    /// Whether it wants `e`.
    pub fn wants(&self, e: WebhookEvent) -> bool {
        self.events.is_empty() || self.events.iter().any(|k| WebhookEvent::parse(k) == Some(e))
    }

    /// The signing secret (empty when none is configured).
    pub fn secret(&self) -> std::io::Result<Vec<u8>> {
        if self.secret_file.is_empty() {
            return Ok(Vec::new());
        }
        Ok(std::fs::read_to_string(&self.secret_file)?.trim().as_bytes().to_vec())
    }
}

impl Config {
    /// The webhook of that name.
    pub fn webhook(&self, name: &str) -> Option<&WebhookConfig> {
        self.webhook.iter().find(|w| w.name == name)
    }

    /// `[[webhook]]`: unique names, http(s) URLs, known events, a readable
    /// secret, retries.
    pub(super) fn check_webhooks(&self) -> Result<(), (&'static str, &'static str, String)> {
        for (i, w) in self.webhook.iter().enumerate() {
            let n = w.name.trim();
            if n.is_empty() || n.chars().count() > 40 {
                return Err(("webhook", "name", format!("webhook {}: a name of 1-40 characters is needed", i + 1)));
            }
            if self.webhook[..i].iter().any(|o| o.name.trim() == n) {
                return Err(("webhook", "name", format!("{n:?} is listed twice")));
            }
            let rest = w.url.strip_prefix("https://").or_else(|| w.url.strip_prefix("http://"));
            let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
            if host.is_none_or(|h| h.is_empty() || h.contains(['@', ' '])) {
                return Err(("webhook", "url", format!("webhook {n:?}: {:?} is not an http:// or https:// URL with a host", w.url)));
            }
            if let Some(bad) = w.events.iter().find(|e| WebhookEvent::parse(e).is_none()) {
                let known: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.key()).collect();
                return Err(("webhook", "events", format!("webhook {n:?}: {bad:?} is no event; known: {}", known.join(", "))));
            }
            match w.secret() {
                Ok(s) if s.is_empty() && !w.secret_file.is_empty() => {
                    return Err(("webhook", "secret_file", format!("webhook {n:?}: {:?} is empty", w.secret_file)));
                }
                Err(e) => return Err(("webhook", "secret_file", format!("webhook {n:?}: cannot read {:?}: {e}", w.secret_file))),
                Ok(_) => {}
            }
            if w.retry_secs.is_empty() || w.retry_secs.iter().any(|&s| s == 0 || s > 86_400) {
                return Err(("webhook", "retry_secs", format!("webhook {n:?}: each wait must be 1 to 86400 seconds")));
            }
        }
        Ok(())
    }
}
