//! frontdesk: a help desk in one binary. See ARCHITECTURE.md for the map.

pub mod app;
pub mod backup;
pub mod clock;
pub mod config;
pub mod control;
pub mod desk;
pub mod doctor;
pub mod domain;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod search;
pub mod store;
pub mod tls;
pub mod web;
