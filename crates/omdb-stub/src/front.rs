//! The public face of the stub: a small HTTP/1.1 proxy that owns every client
//! connection (so it can record it in the [`Ledger`]) and forwards each request
//! to one of the wiremock backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::debug;

use crate::backend::Backends;
use crate::classify::classify;
use crate::http1::{self, BodyTracker, FrameError, MAX_HEAD_BYTES};
use crate::ledger::{ClosedBy, Ledger};
use crate::responder::{RESET_MARKER, RESET_VALUE};

/// Path of the ledger snapshot endpoint.
pub const LEDGER_PATH: &str = "/__oomguard/ledger";
/// Path of the classification endpoint.
pub const CLASSIFY_PATH: &str = "/__oomguard/classify";
/// Largest request body the front accepts (OMDB requests have none).
const MAX_REQUEST_BODY: u64 = 1024 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// State shared by the accept loop and every connection task.
pub struct Shared {
    /// The connection ledger.
    pub ledger: Ledger,
    /// Calls answered (last byte written).
    pub answered: AtomicU64,
    /// The wiremock backends.
    pub backends: Arc<Backends>,
}

/// Accepts connections until `shutdown` flips, then ends every connection
/// task; the caller records the connections still open as closed by shutdown.
///
/// Connection tasks do not watch `shutdown` themselves: registering with the
/// watch channel on every read cost ~5 µs per proxied request on two cores
/// (a contended lock), so they are aborted instead.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let id = shared.ledger.open(peer.port());
                    let shared = Arc::clone(&shared);
                    tasks.spawn(async move {
                        let by = Connection::new(id, stream, &shared).run().await;
                        shared.ledger.close(id, by);
                    });
                }
                Err(e) => {
                    debug!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    tasks.shutdown().await;
}

struct BackendConn {
    stream: TcpStream,
    buf: Vec<u8>,
    fresh: bool,
}

enum Outcome {
    /// Answered; `close` if the backend asked to close afterwards.
    Answered { status: u16, close: bool },
    /// The reset fault: the client socket is reset.
    Reset,
    /// The client went away mid-request.
    ClientGone(ClosedBy),
    /// The backend failed; the client gets a 502.
    BackendFailed(String),
}

struct Connection<'a> {
    id: u64,
    stream: TcpStream,
    buf: Vec<u8>,
    backends: [Option<BackendConn>; 2],
    shared: &'a Arc<Shared>,
}

fn read_error_side(e: &std::io::Error) -> ClosedBy {
    debug!("client socket error: {e}");
    ClosedBy::ClientError
}

impl<'a> Connection<'a> {
    fn new(id: u64, stream: TcpStream, shared: &'a Arc<Shared>) -> Self {
        Self {
            id,
            stream,
            buf: Vec::with_capacity(1024),
            backends: [None, None],
            shared,
        }
    }

    /// Reads more client bytes; `Err(side)` when the connection ends.
    async fn fill(&mut self) -> Result<(), ClosedBy> {
        self.buf.reserve(READ_CHUNK);
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err(ClosedBy::Client),
            Ok(_) => Ok(()),
            Err(e) => Err(read_error_side(&e)),
        }
    }

    async fn reply_and_close(&mut self, status: &str, body: &str) -> ClosedBy {
        let msg = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = self.stream.write_all(msg.as_bytes()).await;
        ClosedBy::Server
    }

    async fn run(mut self) -> ClosedBy {
        loop {
            // 1. A whole request head.
            let head = loop {
                match http1::parse_request(&self.buf) {
                    Ok(Some(head)) => break head,
                    Ok(None) => {}
                    Err(FrameError::HeadTooLarge) => {
                        return self
                            .reply_and_close(
                                "431 Request Header Fields Too Large",
                                "head too large",
                            )
                            .await;
                    }
                    Err(e) => {
                        return self
                            .reply_and_close("400 Bad Request", &e.to_string())
                            .await;
                    }
                }
                if let Err(side) = self.fill().await {
                    return side;
                }
            };
            // 2. Its body, if any.
            let mut tracker = BodyTracker::new(head.body);
            if matches!(head.body, http1::BodyLen::Length(n) if n > MAX_REQUEST_BODY) {
                return self
                    .reply_and_close("413 Payload Too Large", "request body too large")
                    .await;
            }
            let mut end = head.len;
            loop {
                match tracker.feed(&self.buf[end..]) {
                    Ok(n) => end += n,
                    Err(e) => {
                        return self
                            .reply_and_close("400 Bad Request", &e.to_string())
                            .await;
                    }
                }
                if tracker.is_done() {
                    break;
                }
                if (end - head.len) as u64 > MAX_REQUEST_BODY {
                    return self
                        .reply_and_close("413 Payload Too Large", "request body too large")
                        .await;
                }
                if let Err(side) = self.fill().await {
                    return side;
                }
            }
            // 3. Control endpoints are answered here, not counted as calls.
            let path = head.path.split('?').next().unwrap_or("");
            if path == LEDGER_PATH || path == CLASSIFY_PATH {
                self.shared.ledger.control_request(self.id);
                // A big ledger takes a while to copy and encode: off the
                // async workers, so proxied calls are not held up meanwhile.
                let shared = Arc::clone(self.shared);
                let want_ledger = path == LEDGER_PATH;
                let body = tokio::task::spawn_blocking(move || {
                    let snapshot = shared.ledger.snapshot();
                    if want_ledger {
                        serde_json::to_vec(&snapshot)
                    } else {
                        serde_json::to_vec(&classify(&snapshot))
                    }
                    .unwrap_or_default()
                })
                .await
                .unwrap_or_default();
                let head_bytes = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                self.buf.drain(..end);
                if let Err(e) = self.stream.write_all(head_bytes.as_bytes()).await {
                    return read_error_side(&e);
                }
                if let Err(e) = self.stream.write_all(&body).await {
                    return read_error_side(&e);
                }
                continue;
            }
            // 4. Forward to a backend (the one with fewer calls in flight).
            let slot = self.shared.ledger.request_started(self.id);
            let backend = self.shared.backends.acquire();
            let outcome = self.exchange(backend, end, head.is_head).await;
            self.shared.backends.release(backend);
            self.buf.drain(..end.min(self.buf.len()));
            if self.buf.capacity() > 4 * MAX_HEAD_BYTES && self.buf.len() < MAX_HEAD_BYTES {
                self.buf.shrink_to(MAX_HEAD_BYTES);
            }
            match outcome {
                Outcome::Answered { status, close } => {
                    self.shared.ledger.request_answered(slot, status);
                    self.shared.answered.fetch_add(1, Ordering::Relaxed);
                    if head.close {
                        let _ = self.stream.shutdown().await;
                        return ClosedBy::Client;
                    }
                    if close {
                        let _ = self.stream.shutdown().await;
                        return ClosedBy::Server;
                    }
                }
                Outcome::Reset => {
                    if let Err(e) = self.stream.set_zero_linger() {
                        debug!("SO_LINGER 0 failed: {e}");
                    }
                    return ClosedBy::Server;
                }
                Outcome::ClientGone(side) => return side,
                Outcome::BackendFailed(why) => {
                    debug!("backend failed: {why}");
                    return self.reply_and_close("502 Bad Gateway", &why).await;
                }
            }
        }
    }

    async fn connect(&mut self, index: usize) -> Result<(), String> {
        if self.backends[index].is_none() {
            let addr = self.shared.backends.addr(index);
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect to wiremock at {addr}: {e}"))?;
            let _ = stream.set_nodelay(true);
            self.backends[index] = Some(BackendConn {
                stream,
                buf: Vec::with_capacity(4096),
                fresh: true,
            });
        }
        Ok(())
    }

    /// Sends `self.buf[..end]` to backend `index` and relays its answer.
    async fn exchange(&mut self, index: usize, end: usize, is_head: bool) -> Outcome {
        // A reused backend connection may have been closed while idle: retry
        // once on a fresh one if nothing at all came back.
        for attempt in 0..2 {
            if let Err(e) = self.connect(index).await {
                return Outcome::BackendFailed(e);
            }
            match self.relay(index, end, is_head).await {
                Relay::Done(outcome) => return outcome,
                Relay::StaleBackend(why) => {
                    self.backends[index] = None;
                    if attempt == 1 {
                        return Outcome::BackendFailed(why);
                    }
                }
            }
        }
        Outcome::BackendFailed("backend closed the connection".into())
    }

    async fn relay(&mut self, index: usize, end: usize, is_head: bool) -> Relay {
        let Some(backend) = self.backends[index].as_mut() else {
            return Relay::StaleBackend("no backend connection".into());
        };
        let fresh = std::mem::replace(&mut backend.fresh, false);
        let stale = |why: String| {
            if fresh {
                Relay::Done(Outcome::BackendFailed(why))
            } else {
                Relay::StaleBackend(why)
            }
        };
        if let Err(e) = backend.stream.write_all(&self.buf[..end]).await {
            return stale(format!("write to wiremock: {e}"));
        }
        // Wait for the response head, watching the client for a hang-up.
        // Once something came back, the request was received: never sent again.
        let mut answered_in_part = false;
        let head = loop {
            match http1::parse_response(&backend.buf, is_head, (RESET_MARKER, RESET_VALUE)) {
                // An interim answer (`100 Continue` to `Expect: 100-continue`; the front
                // forwards a request once its body is in, so a client that waits for the
                // 100 before sending its body waits its own expect timeout first):
                // relayed, and the final answer still to come.
                Ok(Some(head)) if (100..200).contains(&head.status) && head.status != 101 => {
                    if let Err(e) = self.stream.write_all(&backend.buf[..head.len]).await {
                        self.backends[index] = None;
                        return Relay::Done(Outcome::ClientGone(read_error_side(&e)));
                    }
                    backend.buf.drain(..head.len);
                    answered_in_part = true;
                    continue;
                }
                Ok(Some(head)) => break head,
                Ok(None) => {}
                Err(e) => {
                    self.backends[index] = None;
                    return Relay::Done(Outcome::BackendFailed(e.to_string()));
                }
            }
            backend.buf.reserve(READ_CHUNK);
            let client_room = self.buf.len() < MAX_HEAD_BYTES + end;
            if client_room {
                self.buf.reserve(READ_CHUNK);
            }
            tokio::select! {
                read = backend.stream.read_buf(&mut backend.buf) => match read {
                    Ok(0) if backend.buf.is_empty() && !answered_in_part => return stale("wiremock closed the connection".into()),
                    Ok(0) => {
                        self.backends[index] = None;
                        return Relay::Done(Outcome::BackendFailed("wiremock closed mid-response".into()));
                    }
                    Ok(_) => {}
                    Err(e) if backend.buf.is_empty() && !answered_in_part => return stale(format!("read from wiremock: {e}")),
                    Err(e) => {
                        self.backends[index] = None;
                        return Relay::Done(Outcome::BackendFailed(format!("read from wiremock: {e}")));
                    }
                },
                read = self.stream.read_buf(&mut self.buf), if client_room => match read {
                    Ok(0) => {
                        self.backends[index] = None;
                        return Relay::Done(Outcome::ClientGone(ClosedBy::Client));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.backends[index] = None;
                        return Relay::Done(Outcome::ClientGone(read_error_side(&e)));
                    }
                },
            }
        };
        if head.marked {
            self.backends[index] = None;
            return Relay::Done(Outcome::Reset);
        }
        // Relay head and body as they come.
        let mut tracker = BodyTracker::new(head.body);
        let mut pos = head.len;
        loop {
            let take = match tracker.feed(&backend.buf[pos..]) {
                Ok(n) => n,
                Err(e) => {
                    self.backends[index] = None;
                    return Relay::Done(Outcome::BackendFailed(e.to_string()));
                }
            };
            pos += take;
            if let Err(e) = self.stream.write_all(&backend.buf[..pos]).await {
                self.backends[index] = None;
                return Relay::Done(Outcome::ClientGone(read_error_side(&e)));
            }
            backend.buf.drain(..pos);
            pos = 0;
            if tracker.is_done() {
                break;
            }
            backend.buf.reserve(READ_CHUNK);
            match backend.stream.read_buf(&mut backend.buf).await {
                Ok(0) if head.body == http1::BodyLen::UntilClose => {
                    self.backends[index] = None;
                    return Relay::Done(Outcome::Answered {
                        status: head.status,
                        close: true,
                    });
                }
                Ok(0) | Err(_) => {
                    self.backends[index] = None;
                    return Relay::Done(Outcome::BackendFailed("wiremock closed mid-body".into()));
                }
                Ok(_) => {}
            }
        }
        if head.close {
            self.backends[index] = None;
        } else if backend.buf.capacity() > 4 * MAX_HEAD_BYTES {
            backend.buf.shrink_to(MAX_HEAD_BYTES);
        }
        Relay::Done(Outcome::Answered {
            status: head.status,
            close: false,
        })
    }
}

enum Relay {
    Done(Outcome),
    StaleBackend(String),
}
