//! The integration tests, one crate: the desk is driven as its users drive
//! it, over real HTTP and SMTP. Most tests run it inside this process
//! (`common::inproc`); the few that need a process of its own (signals, kills,
//! resource limits, fault injection, its output) spawn `frontdesk serve`. The
//! command line, crash and browser tests are crates of their own.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod api;
mod audit;
mod backup;
mod bounces;
mod checklist;
mod corpus;
mod drafts;
mod email_commands;
mod fields;
mod hardening;
mod hardening_smtp;
mod hardening_web;
mod https;
mod identity;
mod imap;
mod import;
mod index_burst;
mod inprocess;
mod kb;
mod languages;
mod layering;
mod legacy_charsets;
mod live;
mod mailauth;
mod mentions;
mod metrics;
mod notices;
mod openapi;
mod orgs;
mod outgoing;
mod pdf_scripts;
mod people_csv;
mod people_directory;
mod portal_files;
mod portal_requests;
mod portal_signin;
mod postfix;
mod profile;
mod properties;
mod queue_rows;
mod ratings;
mod recipients;
mod reload;
mod reports;
mod roles;
mod safety;
mod search;
mod sla;
mod smarthost;
mod smtp;
mod spam_engine;
mod sso;
mod statuses;
mod store;
mod strangers;
mod thread_view;
mod timers;
mod timespent;
mod triggers;
mod twofactor;
mod upgrade;
mod walls;
mod web;
mod webhooks;
mod widget;
mod workflow;
