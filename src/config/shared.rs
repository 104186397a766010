//! The config a running desk reads: one value that `SIGHUP` (or
//! `systemctl reload`) can replace while the server runs. Readers take a
//! snapshot (`get`) and keep it for the work at hand, so one request or one
//! transaction never sees half of an old config and half of a new one.

use std::sync::{Arc, RwLock};

use super::Config;

/// A config shared by the desk, the SMTP sessions and the store's hooks.
#[derive(Clone)]
pub struct SharedConfig(Arc<RwLock<Arc<Config>>>);

impl SharedConfig {
    pub fn new(cfg: Arc<Config>) -> SharedConfig {
        SharedConfig(Arc::new(RwLock::new(cfg)))
    }

    /// The config now.
    pub fn get(&self) -> Arc<Config> {
        // A writer only swaps an Arc; a poisoned lock still holds a whole config.
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Puts `cfg` in place for every later `get`.
    pub fn replace(&self, cfg: Arc<Config>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = cfg;
    }
}
