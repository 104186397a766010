//! frontdesk: a help desk in one binary. See DESIGN.md for the map.

pub mod clock;
pub mod config;
pub mod domain;
pub mod store;
pub mod desk;
pub mod web;
pub mod app;
pub mod bench;
