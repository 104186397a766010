//! The `frontdesk` command line: serve, user, token, check-config, ingest,
//! reindex, mail test (benchmarks are the `frontdesk-bench` binary).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use frontdesk::clock::SystemClock;
use frontdesk::config::Config;
use frontdesk::desk::auth::NewAgent;
use frontdesk::domain::Role;

/// `frontdesk --version`: the release, the commit and the build date.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("FRONTDESK_COMMIT"), ", built ", env!("FRONTDESK_BUILD_DATE"), ")");

#[derive(Parser)]
#[command(name = "frontdesk", version = VERSION, about = "A help desk in one binary")]
struct Cli {
    /// Config file (TOML). Every key is optional.
    #[arg(long, global = true, env = "FRONTDESK_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory; overrides server.data_dir.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Web listen address; overrides server.http.
    #[arg(long, global = true)]
    http: Option<String>,
    /// HTTPS listen address; overrides server.https.
    #[arg(long, global = true)]
    https: Option<String>,
    /// SMTP listen address; overrides smtp.listen.
    #[arg(long, global = true)]
    smtp: Option<String>,
    /// Send no mail (it stays queued in the outbox); overrides outgoing.enabled.
    #[arg(long, global = true)]
    no_outgoing: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the desk: web UI and API.
    Serve,
    /// Validate the config and print the effective settings.
    CheckConfig {
        /// Print the example config file (every key, its doc and default) instead.
        #[arg(long)]
        example: bool,
    },
    /// Manage agents and admins.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Deliver one RFC 5322 message from standard input (for an MTA pipe).
    /// Exit 0 delivered, 65 malformed, 75 temporary failure.
    Ingest {
        /// Envelope sender (default: Return-Path, then From).
        #[arg(long)]
        sender: Option<String>,
        /// Envelope recipient, one of the mailboxes (default: from the headers,
        /// then the first mailbox).
        #[arg(long)]
        recipient: Option<String>,
    },
    /// Rebuild the search index from the data (run while the server is stopped).
    Reindex,
    /// Give free space in the database files back to the disk (server stopped).
    Compact,
    /// Outgoing mail tools.
    #[command(subcommand)]
    Mail(MailCmd),
    /// Print the DNS records each mailbox domain needs (MX, SPF, DKIM, DMARC)
    /// and check what is published now. Exit 1 while one is missing or wrong.
    Dns,
    /// Bring old mail in as tickets (server stopped): threads rebuilt from
    /// Message-ID and References, dates kept, nothing mailed; a rerun resumes.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Bring the data directory to this release's schema (server stopped);
    /// with --dry-run only say what would change.
    Migrate {
        #[arg(long)]
        dry_run: bool,
    },
    /// Check the machine for the desk: data dir, disk space, ports, HTTPS
    /// certificate, time sync, smarthost, DNS records; print a fix for each
    /// problem. Exit 1 when a check fails.
    Doctor,
    /// Back the desk up into one file while it runs (or while it is stopped):
    /// database, spool, keys and config; `backup verify FILE` checks one.
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        /// The backup file to write.
        #[arg(long)]
        to: Option<PathBuf>,
        #[command(subcommand)]
        check: Option<BackupCmd>,
    },
    /// Restore a backup into the data directory (--data-dir): refused while a
    /// desk runs there, and into a non-empty directory without --force.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// Replace the desk's data already in the directory.
        #[arg(long)]
        force: bool,
    },
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The mailbox (one of [[mailbox]]) whose department gets the tickets
    /// (default: the first one).
    #[arg(long)]
    mailbox: Option<String>,
    /// Status of the imported tickets: closed (default), resolved, open, …
    #[arg(long, default_value = "closed")]
    status: String,
    /// Only count the messages and their dates.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Subcommand)]
enum ImportCmd {
    /// An mbox file (mboxo or mboxrd, e.g. Thunderbird's or Google Takeout's).
    Mbox {
        file: PathBuf,
        #[command(flatten)]
        args: ImportArgs,
    },
    /// A Maildir folder (its cur/ and new/), or a folder of .eml files.
    Maildir {
        dir: PathBuf,
        #[command(flatten)]
        args: ImportArgs,
    },
    /// A folder of an IMAP mailbox, read-only (nothing is flagged or moved).
    Imap {
        #[arg(long)]
        host: String,
        /// Default: 993 with TLS, else 143.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// tls, starttls or none (loopback only).
        #[arg(long, default_value = "tls")]
        security: String,
        #[arg(long)]
        user: String,
        #[arg(long, required_unless_present = "oauth2_token_file")]
        password_file: Option<String>,
        /// A file holding an OAuth2 access token (XOAUTH2).
        #[arg(long)]
        oauth2_token_file: Option<String>,
        #[arg(long, default_value = "INBOX")]
        folder: String,
        /// A PEM root certificate to trust (a private CA).
        #[arg(long)]
        ca_file: Option<String>,
        #[command(flatten)]
        args: ImportArgs,
    },
}

#[derive(Subcommand)]
enum BackupCmd {
    /// Check every part of a backup file; exit 1 naming the first bad part.
    Verify { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add an agent or admin (run while the server is stopped).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "agent")]
        role: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
        /// Limit an agent to a department (repeat for several; none = all).
        #[arg(long = "department")]
        departments: Vec<String>,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token for an agent and print it (run while the server is stopped).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: tickets:read, tickets:write, people:read, people:write, admin
        /// (default: tickets:read,tickets:write,people:read).
        #[arg(long)]
        scopes: Option<String>,
        /// When it stops working: a date (YYYY-MM-DD, end of day UTC) or days
        /// from now ("90d"). Default: never.
        #[arg(long)]
        expires: Option<String>,
        /// An address or CIDR range it may be used from (repeatable; default: any).
        #[arg(long = "allow-ip")]
        allow_ip: Vec<String>,
    },
    /// List API tokens: id, agent, name, scopes, expiry, addresses, last used, created.
    List,
    /// Revoke an API token by the id `token list` shows (server stopped).
    Revoke { id: String },
}

#[derive(Subcommand)]
enum MailCmd {
    /// Send a test message through the smarthost and print its answer.
    Test {
        #[arg(long)]
        to: String,
    },
}

/// Logs on stderr: `FRONTDESK_LOG` filters (default info); under systemd
/// (`JOURNAL_STREAM` set) plain lines without colours or timestamps, which
/// journald adds; `FRONTDESK_LOG_FORMAT=json` gives one JSON object a line.
fn init_logs() {
    // async-imap traces every line it sends, the LOGIN password and
    // XOAUTH2 token among them: never below info, whatever FRONTDESK_LOG says.
    let filter = tracing_subscriber::EnvFilter::try_from_env("FRONTDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"))
        .add_directive("async_imap=info".parse().unwrap_or_default());
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match std::env::var("FRONTDESK_LOG_FORMAT").as_deref() {
        Ok("json") => fmt.json().with_current_span(false).init(),
        _ if journald => fmt.with_ansi(false).without_time().init(),
        _ => fmt.with_ansi(tty).init(),
    }
}

fn load_config(cli: &Cli) -> Result<Config, ExitCode> {
    read_config(cli).map_err(|e| {
        eprintln!("frontdesk: {e}");
        ExitCode::from(2)
    })
}

/// The config file (and environment) with the command line's overrides.
fn read_config(cli: &Cli) -> Result<Config, String> {
    let mut cfg = Config::load_effective(cli.config.as_deref(), std::env::vars()).map_err(|e| format!("config error: {e}"))?;
    if let Some(d) = &cli.data_dir {
        cfg.server.data_dir = d.clone();
    }
    if let Some(h) = &cli.http {
        if h.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!("--http {h:?} is not an address like 127.0.0.1:8080"));
        }
        cfg.server.http = h.clone();
    }
    if let Some(h) = &cli.https {
        if h.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!("--https {h:?} is not an address like 0.0.0.0:443"));
        }
        cfg.server.https = h.clone();
    }
    if cli.no_outgoing {
        cfg.outgoing.enabled = false;
    }
    if let Some(a) = &cli.smtp {
        if a.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!("--smtp {a:?} is not an address like 0.0.0.0:25"));
        }
        cfg.smtp.listen = a.clone();
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::CheckConfig { example: true } = cli.command {
        print!("{}", frontdesk::config::Config::example_toml());
        return ExitCode::SUCCESS;
    }
    init_logs();
    let cfg = match load_config(&cli) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let result = match cli.command {
        Command::CheckConfig { .. } => {
            if let Err(e) = frontdesk::desk::reload::check_rendering(&cfg) {
                eprintln!("frontdesk: config error: {e}");
                return ExitCode::from(2);
            }
            print!("{}", cfg.to_toml());
            for name in missing_dkim(&cfg) {
                eprintln!(
                    "frontdesk: warning: no DKIM record at {name} yet: mail from this desk is signed with a key receivers cannot check (run `frontdesk dns`)"
                );
            }
            eprintln!("frontdesk: config OK (templates render)");
            Ok(())
        }
        Command::Serve => tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(anyhow::Error::from).and_then(|rt| {
            let source = match &cli.config {
                Some(p) => p.display().to_string(),
                None => "the built-in defaults (no --config file)".to_string(),
            };
            rt.block_on(frontdesk::app::serve(cfg, source, || read_config(&cli)))
        }),
        Command::User(UserCmd::Add { email, name, role, password_stdin, departments }) => {
            user_add(cfg, email, name, role, password_stdin, departments)
        }
        Command::Token(TokenCmd::Create { email, name, scopes, expires, allow_ip }) => {
            frontdesk::app::open_desk(cfg, Arc::new(SystemClock)).and_then(|desk| {
                use frontdesk::desk::tokens::{TokenSpec, parse_expiry};
                let mut spec = TokenSpec::standard(&name);
                if let Some(s) = scopes {
                    spec.scopes = frontdesk::domain::access::Scope::parse_list(&s).map_err(|w| {
                        anyhow::anyhow!("--scopes: {w:?} is not a scope (tickets:read, tickets:write, people:read, people:write, admin)")
                    })?;
                }
                spec.expires_at = parse_expiry(expires.as_deref().unwrap_or(""), desk.now())?;
                spec.allowed_ips = allow_ip;
                let t = desk.create_api_token(None, &email, spec)?;
                println!("{t}");
                Ok(())
            })
        }
        Command::Token(TokenCmd::List) => frontdesk::app::open_desk(cfg, Arc::new(SystemClock)).and_then(|desk| {
            for t in desk.api_tokens(None)? {
                let r = &t.token;
                let scopes: Vec<&str> = r.scopes.iter().map(|s| s.key()).collect();
                let ips = if r.allowed_ips.is_empty() { "any address".to_string() } else { r.allowed_ips.join(",") };
                println!(
                    "{}  {}  {}  [{}]  expires {}  from {ips}  last used {}  created {}",
                    t.id,
                    t.email,
                    r.name,
                    scopes.join(","),
                    r.expires_at.map(|e| e.short()).unwrap_or_else(|| "never".into()),
                    r.last_used.map(|u| u.short()).unwrap_or_else(|| "never".into()),
                    r.created_at.short()
                );
            }
            Ok(())
        }),
        Command::Token(TokenCmd::Revoke { id }) => frontdesk::app::open_desk(cfg, Arc::new(SystemClock)).and_then(|desk| {
            desk.revoke_api_token(None, &id)?;
            println!("revoked {id}");
            Ok(())
        }),
        Command::Mail(MailCmd::Test { to }) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(frontdesk::mail::outbound::send_test(&cfg, &to)).map_err(|e| anyhow::anyhow!(e)))
            .map(|ok| println!("{ok}")),
        Command::Dns => return dns_report(&cfg),
        Command::Migrate { dry_run } => migrate(cfg, dry_run),
        Command::Import(ImportCmd::Mbox { file, args }) => import(cfg, frontdesk::mail::import::Source::Mbox(file), args),
        Command::Import(ImportCmd::Maildir { dir, args }) => import(cfg, frontdesk::mail::import::Source::Maildir(dir), args),
        Command::Import(cmd) => import_imap(cfg, cmd),
        Command::Doctor => {
            let (text, sound) = frontdesk::doctor::report(&frontdesk::doctor::run(&cfg));
            print!("{text}");
            return if sound { ExitCode::SUCCESS } else { ExitCode::from(1) };
        }
        Command::Backup { check: Some(BackupCmd::Verify { file }), .. } => return verify_backup(&file),
        Command::Backup { to: Some(to), .. } => backup(cfg, &to),
        Command::Backup { .. } => Err(anyhow::anyhow!("say where: frontdesk backup --to FILE (or frontdesk backup verify FILE)")),
        Command::Restore { from, force } => restore(cfg, &from, force),
        Command::Reindex => reindex(cfg),
        Command::Compact => compact(cfg),
        Command::Ingest { sender, recipient } => return ExitCode::from(frontdesk::mail::ingest::run(cfg, sender, recipient)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("frontdesk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A progress line on stderr (rewritten in place on a terminal).
fn progress_bar(what: &'static str) -> impl FnMut(u64, u64) {
    use std::io::Write;
    let started = std::time::Instant::now();
    let mut last = std::time::Instant::now();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    move |done, total| {
        if last.elapsed().as_millis() < 250 && done < total {
            return;
        }
        last = std::time::Instant::now();
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let bar: String = (0..30).map(|i| if i * 100 / 30 < pct { '#' } else { '.' }).collect();
        let mb = |b: u64| b as f64 / 1e6;
        let rate = mb(done) / started.elapsed().as_secs_f64().max(1e-3);
        let line = format!("{what} [{bar}] {pct:3}%  {:.1}/{:.1} MB  {rate:.0} MB/s", mb(done), mb(total));
        let mut err = std::io::stderr().lock();
        let _ = if tty { write!(err, "\r{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
    }
}

/// `frontdesk backup --to FILE`: from the running server over its control
/// socket, else (server stopped) from the data directory itself.
fn backup(cfg: Arc<Config>, to: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let started = std::time::Instant::now();
    let mut bar = progress_bar("backup");
    let partial = PathBuf::from(format!("{}.partial", to.display()));
    let mut file = frontdesk::backup::create_private(&partial)?;
    let data = &cfg.server.data_dir;
    let manifest = {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut file);
        // A server that is still starting opens its socket in a moment.
        let mut tries = 0;
        let asked = loop {
            match frontdesk::control::request_backup(data, &mut out, &mut bar) {
                Err(frontdesk::control::ClientError::NoServer(_)) if tries < 50 && frontdesk::backup::restore::in_use(data) => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                other => break other,
            }
        };
        let got = match asked {
            Ok(m) => Ok(m),
            // Nothing was written yet: the server is stopped, back up from the files.
            Err(frontdesk::control::ClientError::NoServer(_)) if !frontdesk::backup::restore::in_use(data) => {
                tracing::info!("no server runs with {}: backing up from its files", data.display());
                offline_ready(data).and_then(|()| {
                    frontdesk::app::open_desk(cfg.clone(), Arc::new(SystemClock))
                        .and_then(|desk| desk.write_backup(&mut out, &mut bar).map_err(anyhow::Error::from))
                })
            }
            Err(frontdesk::control::ClientError::NoServer(p)) => {
                Err(anyhow::anyhow!("a desk runs with {} but its control socket {} does not answer", data.display(), p.display()))
            }
            Err(e) => Err(anyhow::anyhow!("the server's backup failed: {e}")),
        };
        got.and_then(|m| out.flush().map(|()| m).map_err(anyhow::Error::from))
    };
    let manifest = match manifest.and_then(|m| file.sync_all().map(|()| m).map_err(anyhow::Error::from)) {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, to)?;
    let size = std::fs::metadata(to)?.len();
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    let c = &manifest.counts;
    println!(
        "backed up {} tickets, {} entries, {} people, {} spooled messages: {:.1} MB of data in {:.1} MB ({}) in {secs:.1} s ({:.0} MB/s)",
        c.tickets,
        c.entries,
        c.people,
        c.spooled,
        manifest.total_bytes() as f64 / 1e6,
        size as f64 / 1e6,
        to.display(),
        manifest.total_bytes() as f64 / 1e6 / secs.max(1e-3)
    );
    Ok(())
}

/// A stopped desk's data dir can be backed up by this release: it holds a
/// desk, and opening it changes nothing (no migration pending).
fn offline_ready(data: &std::path::Path) -> anyhow::Result<()> {
    if !data.join(frontdesk::store::DB_FILE).exists() {
        anyhow::bail!("{} holds no desk data (is --data-dir or server.data_dir right?)", data.display());
    }
    let plan = frontdesk::store::migrate::plan_at(data)?;
    if let (Some(found), false) = (plan.found, plan.steps.is_empty()) {
        anyhow::bail!(
            "{} is at schema {found}; this release would migrate it on opening. Back it up with the release that wrote it, \
             or copy the stopped desk's directory as it is",
            data.display()
        );
    }
    Ok(())
}

/// `frontdesk backup verify FILE`: 0 sound, 1 damaged (the part named).
fn verify_backup(file: &std::path::Path) -> ExitCode {
    match frontdesk::backup::verify(file) {
        Ok(m) => {
            let c = &m.counts;
            println!(
                "{}: sound; frontdesk {}, taken {}, {} files, {:.1} MB of data; {} tickets, {} entries, {} people, {} spooled",
                file.display(),
                m.frontdesk,
                frontdesk::domain::Timestamp(m.created_ms).rfc3339(),
                m.files.len(),
                m.total_bytes() as f64 / 1e6,
                c.tickets,
                c.entries,
                c.people,
                c.spooled
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("frontdesk: {}: damaged: {e}", file.display());
            ExitCode::from(1)
        }
    }
}

/// `frontdesk restore --from FILE`: the files, then one open of the store
/// (repairs, migrates) and its counts against the backup's.
fn restore(cfg: Arc<Config>, from: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let dir = &cfg.server.data_dir;
    let started = std::time::Instant::now();
    let mut bar = progress_bar("restore");
    let total = frontdesk::backup::verify(from).map_err(|e| anyhow::anyhow!("{}: damaged: {e}", from.display()))?.total_bytes();
    let m = frontdesk::backup::restore::restore(from, dir, force, &mut |done| bar(done, total))?;
    eprintln!();
    let desk = frontdesk::app::open_desk(cfg.clone(), Arc::new(SystemClock))?;
    let got = desk.counts()?;
    drop(desk);
    let want = &m.counts;
    if (got.tickets, got.entries, got.people) != (want.tickets, want.entries, want.people) {
        anyhow::bail!(
            "the restored desk holds {} tickets, {} entries, {} people; the backup says {}, {}, {}",
            got.tickets,
            got.entries,
            got.people,
            want.tickets,
            want.entries,
            want.people
        );
    }
    println!(
        "restored {} tickets, {} entries, {} people ({} messages still to process) into {} in {:.1} s; \
         the search index is rebuilt at the next start. The config the desk ran with is {} \
         (its server.data_dir names the old place: start with --data-dir {} or edit it).",
        want.tickets,
        want.entries,
        want.people,
        want.spooled,
        dir.display(),
        started.elapsed().as_secs_f64(),
        dir.join("config.toml").display(),
        dir.display()
    );
    Ok(())
}

/// `frontdesk import mbox|maildir|imap`: with a progress bar and ETA.
fn import(cfg: Arc<Config>, source: frontdesk::mail::import::Source, a: ImportArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let mailbox = match &a.mailbox {
        Some(m) => cfg
            .mailbox_for(m)
            .map(|m| m.address.clone())
            .ok_or_else(|| anyhow::anyhow!("--mailbox {m}: not one of the [[mailbox]] addresses"))?,
        None => cfg
            .mailbox
            .first()
            .map(|m| m.address.clone())
            .ok_or_else(|| anyhow::anyhow!("no [[mailbox]] is configured: add one (its department gets the tickets)"))?,
    };
    let status = frontdesk::domain::Status::parse(&a.status)
        .filter(|s| *s != frontdesk::domain::Status::Snoozed)
        .ok_or_else(|| anyhow::anyhow!("--status {}: not a status (open, pending, resolved, closed …)", a.status))?;
    let desk = frontdesk::app::open_desk(cfg.clone(), Arc::new(SystemClock))?;
    let started = std::time::Instant::now();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last = std::time::Instant::now();
    let mut bar = |done: u64, total: u64| {
        if last.elapsed().as_millis() < 250 && done < total {
            return;
        }
        last = std::time::Instant::now();
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        let rate = done as f64 / secs;
        let eta = if rate > 0.0 { (total - done) as f64 / rate } else { 0.0 };
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let line = format!("import {pct:3}%  {done}/{total} messages  {rate:.0}/s  ETA {eta:.0} s");
        let mut err = std::io::stderr().lock();
        let _ = if tty { write!(err, "\r{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
    };
    let c = frontdesk::mail::import::run(&desk, &source, &mailbox, status, a.dry_run, &mut bar)?;
    let span = match (c.oldest, c.newest) {
        (Some(o), Some(n)) => format!(", dated {} to {}", o.short(), n.short()),
        _ => String::new(),
    };
    if a.dry_run {
        println!("{source}: {} messages{span} ({} without a date); nothing was imported (dry run)", c.messages, c.undated);
        return Ok(());
    }
    eprintln!();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "imported {} messages{span} into {mailbox}: {} new tickets, {} replies, {} events or junk, {} known already (skipped), in {secs:.1} s ({:.0}/s)",
        c.messages,
        c.new_tickets,
        c.replies,
        c.other,
        c.skipped,
        c.messages as f64 / secs.max(1e-3)
    );
    Ok(())
}

/// `frontdesk import imap`: the command line as an `[[imap]]` entry.
fn import_imap(cfg: Arc<Config>, cmd: ImportCmd) -> anyhow::Result<()> {
    use frontdesk::config::{ImapAfter, ImapConfig, ImapSecurity};
    let ImportCmd::Imap { host, port, security, user, password_file, oauth2_token_file, folder, ca_file, args } = cmd else {
        anyhow::bail!("not an IMAP import");
    };
    let security = match security.as_str() {
        "tls" => ImapSecurity::Tls,
        "starttls" => ImapSecurity::Starttls,
        "none" => ImapSecurity::None,
        other => anyhow::bail!("--security {other}: tls, starttls or none"),
    };
    let local = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if security == ImapSecurity::None && !local {
        anyhow::bail!("--security none sends the password in clear: only for a server on this machine");
    }
    let imap = ImapConfig {
        host,
        port,
        security,
        user,
        password_file: password_file.unwrap_or_default(),
        oauth2_token_file: oauth2_token_file.unwrap_or_default(),
        folder,
        mailbox: String::new(),
        after: ImapAfter::Seen,
        move_to: String::new(),
        poll_secs: 60,
        ca_file: ca_file.unwrap_or_default(),
    };
    imap.secret().map_err(|e| anyhow::anyhow!("cannot read the password or token file: {e}"))?;
    import(cfg, frontdesk::mail::import::Source::Imap(Box::new(imap)), args)
}

/// `frontdesk migrate [--dry-run]`.
fn migrate(cfg: Arc<Config>, dry_run: bool) -> anyhow::Result<()> {
    let dir = &cfg.server.data_dir;
    let plan = frontdesk::store::migrate::plan_at(dir)?;
    let found = plan.found.map(|v| format!("schema {v}")).unwrap_or_else(|| "no data yet".into());
    println!("{}: {found}, {} tickets; this release writes schema {}", dir.display(), plan.tickets, plan.target);
    if plan.steps.is_empty() {
        println!("nothing to migrate");
    }
    for (v, what) in &plan.steps {
        println!("  schema {v}: {what}");
    }
    if plan.recompress_pending || plan.steps.iter().any(|(v, _)| *v == 6) {
        println!("  then: older records and mail are compressed in the background, in batches that resume after a stop");
    }
    if dry_run || plan.steps.is_empty() {
        if dry_run {
            println!("(dry run: nothing was changed)");
        }
        return Ok(());
    }
    let started = std::time::Instant::now();
    drop(frontdesk::store::Store::open_with_cache(dir, cfg.server.cache_mib * 1024 * 1024)?);
    println!("migrated to schema {} in {:.1} s", plan.target, started.elapsed().as_secs_f64());
    Ok(())
}

fn compact(cfg: Arc<Config>) -> anyhow::Result<()> {
    let store = frontdesk::store::Store::open_with_cache(&cfg.server.data_dir, cfg.server.cache_mib * 1024 * 1024)?;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let free: u64 = store.storage_use()?.iter().map(|f| f.free_bytes()).sum();
    eprintln!("compacting {} ({:.1} MiB free in the files)…", cfg.server.data_dir.display(), mib(free));
    let started = std::time::Instant::now();
    let (before, after) = store.compact()?;
    println!("compacted: {:.1} MiB → {:.1} MiB in {:.1} s", mib(before), mib(after), started.elapsed().as_secs_f64());
    Ok(())
}

/// `frontdesk dns`: the records to publish, each checked.
fn dns_report(cfg: &frontdesk::config::Config) -> ExitCode {
    let run = || -> anyhow::Result<bool> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let dns = frontdesk::mail::dns::Dns::from_config(cfg).map_err(anyhow::Error::msg)?;
        let signer = frontdesk::mail::dkim::Signer::load(cfg).map_err(anyhow::Error::msg)?;
        let (text, ok) = rt.block_on(frontdesk::mail::records::report(cfg, &dns, &signer));
        print!("{text}");
        Ok(ok)
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("frontdesk: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// DKIM records check-config warns about (only when signing, and only when
/// DNS answers within 3 s).
fn missing_dkim(cfg: &frontdesk::config::Config) -> Vec<String> {
    if !cfg.mail_auth.sign || !cfg.outgoing.enabled || cfg.mailbox.is_empty() {
        return Vec::new();
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return Vec::new() };
    let Ok(dns) = frontdesk::mail::dns::Dns::from_config(cfg) else { return Vec::new() };
    rt.block_on(frontdesk::mail::records::missing_dkim(cfg, &dns, std::time::Duration::from_secs(3)))
}

fn reindex(cfg: Arc<Config>) -> anyhow::Result<()> {
    use std::io::Write;
    let store = frontdesk::store::Store::open_with_cache(&cfg.server.data_dir, cfg.server.cache_mib * 1024 * 1024)?;
    let entries_total = store.read()?.entry_count()?;
    // Nobody else writes (the store is locked to this process): use more memory.
    let (index, _) = frontdesk::search::SearchIndex::open(&cfg.server.data_dir, 96 << 20)?;
    let started = std::time::Instant::now();
    let mut last = std::time::Instant::now();
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let entries = index.rebuild(&store, |done, total, entries| {
        if last.elapsed().as_millis() < 250 && done < total {
            return;
        }
        last = std::time::Instant::now();
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        let bar: String = (0..30).map(|i| if i * 100 / 30 < pct { '#' } else { '.' }).collect();
        let rate = entries as f64 / started.elapsed().as_secs_f64().max(1e-3);
        let line = format!("[{bar}] {pct:3}%  {done}/{total} tickets  {entries}/{entries_total} entries  {rate:.0} entries/s");
        let mut err = std::io::stderr().lock();
        let _ = if tty { write!(err, "\r{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
    })?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    println!(
        "reindexed {} tickets, {entries} thread entries in {secs:.1} s ({:.0} entries/s)",
        index.doc_count(),
        entries as f64 / secs.max(1e-3)
    );
    Ok(())
}

fn user_add(
    cfg: Arc<Config>,
    email: String,
    name: String,
    role: String,
    password_stdin: bool,
    departments: Vec<String>,
) -> anyhow::Result<()> {
    let role = Role::parse(&role).filter(|r| r.is_staff()).ok_or_else(|| anyhow::anyhow!("--role must be admin or agent"))?;
    if !password_stdin {
        anyhow::bail!("pass the password on standard input with --password-stdin (it stays out of shell history)");
    }
    let mut input = String::new();
    std::io::stdin().take(4096).read_to_string(&mut input)?;
    let password = input.lines().next().unwrap_or("").to_string();
    let desk = frontdesk::app::open_desk(cfg, Arc::new(SystemClock))?;
    let p = desk.add_agent(None, NewAgent { email, name, role, password, departments })?;
    println!("added {} {} <{}>", p.role.key(), p.name, p.email);
    Ok(())
}
