//! The control socket: `<data_dir>/control.sock`, a Unix socket only the
//! desk's own user can open (mode 0600), through which command-line tools
//! reach the running server — `frontdesk backup` streams its archive from it
//! while the server keeps the database open.
//!
//! Protocol: the client sends one line (`backup`); the server answers with
//! frames `tag:u8 len:u32 payload`: `D` archive bytes, `P` progress (done and
//! total bytes, two u64), then `O` the manifest (JSON) or `E` an error text.

use std::io::{BufRead, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backup::Manifest;
use crate::desk::Desk;

/// The socket's name inside the data directory.
pub const SOCKET: &str = "control.sock";

/// Frames of this size carry the archive.
const FRAME: usize = 256 * 1024;

fn frame(out: &mut dyn Write, tag: u8, payload: &[u8]) -> std::io::Result<()> {
    out.write_all(&[tag])?;
    out.write_all(&(payload.len() as u32).to_le_bytes())?;
    out.write_all(payload)
}

/// Archive bytes as `D` frames.
struct Frames<'a>(&'a mut UnixStream);

impl Write for Frames<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(FRAME);
        frame(self.0, b'D', &buf[..n])?;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Binds the socket (replacing one a stopped server left) and serves it on a
/// supervised thread until shutdown.
pub fn start(desk: Arc<Desk>) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = desk.config().server.data_dir.clone();
    let path = dir.join(SOCKET);
    if UnixStream::connect(&path).is_ok() {
        anyhow::bail!("another frontdesk answers on {}: one server per data directory", path.display());
    }
    // Bound under a temporary name and made private before it takes the
    // real one, so nobody else can connect in between.
    let tmp = dir.join(format!("{SOCKET}.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let listener = UnixListener::bind(&tmp)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&tmp, &path)?;
    listener.set_nonblocking(true)?;
    let listener = Arc::new(listener);
    let jobs = desk.jobs.clone();
    jobs.thread("control-socket", move || {
        while !desk.jobs.stopping() {
            match listener.accept() {
                Ok((stream, _)) => {
                    let d = desk.clone();
                    let spawned = std::thread::Builder::new().name("control".into()).spawn(move || serve(&d, stream));
                    if let Err(e) = spawned {
                        tracing::error!("control socket: cannot start a thread: {e}");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => {
                    tracing::warn!("control socket: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        let _ = std::fs::remove_file(&path);
    });
    Ok(())
}

/// One client: its request line, then the answer. Only this user (or root)
/// is served, whatever the socket's mode.
fn serve(desk: &Desk, mut stream: UnixStream) {
    let me = rustix::process::geteuid();
    match rustix::net::sockopt::socket_peercred(&stream) {
        Ok(c) if c.uid == me || c.uid.is_root() => {}
        Ok(c) => {
            tracing::warn!("control socket: refused a client of uid {}", c.uid.as_raw());
            let _ = frame(&mut stream, b'E', b"only the desk's own user may use the control socket");
            return;
        }
        Err(e) => {
            tracing::warn!("control socket: cannot tell who connected: {e}");
            return;
        }
    }
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    // A client that stops reading must not hold the backup (and its lock) forever.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(120)));
    let mut line = String::new();
    let read = match stream.try_clone() {
        Ok(s) => std::io::BufReader::new(s.take(256)).read_line(&mut line),
        Err(e) => Err(e),
    };
    let answer = match (read, line.trim()) {
        (Err(e), _) => Err(format!("cannot read the request: {e}")),
        (Ok(_), "backup") => backup(desk, &mut stream),
        (Ok(_), other) => Err(format!("unknown request {other:?} (known: backup)")),
    };
    let _ = match answer {
        Ok(json) => frame(&mut stream, b'O', json.as_bytes()),
        Err(e) => frame(&mut stream, b'E', e.as_bytes()),
    };
}

fn backup(desk: &Desk, stream: &mut UnixStream) -> Result<String, String> {
    let mut progress_to = stream.try_clone().map_err(|e| e.to_string())?;
    let mut last = Instant::now();
    let mut progress = |done: u64, total: u64| {
        if last.elapsed() >= Duration::from_millis(200) || done == total {
            last = Instant::now();
            let mut p = [0u8; 16];
            p[..8].copy_from_slice(&done.to_le_bytes());
            p[8..].copy_from_slice(&total.to_le_bytes());
            let _ = frame(&mut progress_to, b'P', &p);
        }
    };
    let started = Instant::now();
    let m = desk.write_backup(&mut Frames(stream), &mut progress).map_err(|e| e.to_string())?;
    tracing::info!("backup over the control socket: {} bytes of data in {:.1} s", m.total_bytes(), started.elapsed().as_secs_f64());
    serde_json::to_string(&m).map_err(|e| e.to_string())
}

/// What the client side of `backup` ran into.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No server listens in that data directory.
    #[error("no server answers on {0}")]
    NoServer(PathBuf),
    #[error("{0}")]
    Failed(String),
}

/// Asks the server running on `data_dir` for a backup and writes it to
/// `out`; `progress` hears (done, total) bytes of data.
pub fn request_backup(data_dir: &Path, out: &mut dyn Write, progress: &mut dyn FnMut(u64, u64)) -> Result<Manifest, ClientError> {
    let path = data_dir.join(SOCKET);
    let mut s = UnixStream::connect(&path).map_err(|_| ClientError::NoServer(path.clone()))?;
    let fail = |what: &str, e: std::io::Error| ClientError::Failed(format!("{what}: {e}"));
    s.write_all(b"backup\n").map_err(|e| fail("cannot send the request", e))?;
    let mut r = std::io::BufReader::with_capacity(FRAME + 8, s);
    let mut payload = Vec::with_capacity(FRAME);
    loop {
        let mut head = [0u8; 5];
        r.read_exact(&mut head).map_err(|e| fail("the server stopped answering", e))?;
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len > FRAME.max(16 << 20) {
            return Err(ClientError::Failed("the server sent a frame too large to be one of ours".into()));
        }
        payload.resize(len, 0);
        r.read_exact(&mut payload).map_err(|e| fail("the server stopped answering", e))?;
        match head[0] {
            b'D' => out.write_all(&payload).map_err(|e| fail("cannot write the backup", e))?,
            b'P' if len == 16 => {
                let n = |b: &[u8]| b.try_into().map(u64::from_le_bytes).unwrap_or(0);
                progress(n(&payload[..8]), n(&payload[8..]));
            }
            b'O' => {
                return serde_json::from_slice(&payload)
                    .map_err(|e| ClientError::Failed(format!("the server's manifest is unreadable: {e}")));
            }
            b'E' => return Err(ClientError::Failed(String::from_utf8_lossy(&payload).to_string())),
            other => return Err(ClientError::Failed(format!("the server sent an unknown frame {other:#x}"))),
        }
    }
}
