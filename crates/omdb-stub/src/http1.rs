//! Just enough HTTP/1.1 framing to proxy: where a request or response head
//! ends, and how long its body is (Content-Length, chunked, or until close).

/// Largest accepted message head.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// A framing error; the connection cannot continue.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// `httparse` rejected the head.
    #[error("malformed HTTP head: {0}")]
    Parse(#[from] httparse::Error),
    /// The head is larger than [`MAX_HEAD_BYTES`].
    #[error("HTTP head larger than {MAX_HEAD_BYTES} bytes")]
    HeadTooLarge,
    /// A Content-Length or chunk size could not be read.
    #[error("invalid body framing: {0}")]
    Body(&'static str),
}

/// How the body after a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLen {
    /// Exactly this many bytes (0 for none).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the peer closes (responses only).
    UntilClose,
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// Bytes of the head, including the blank line.
    pub len: usize,
    /// Request target (path and query).
    pub path: String,
    /// Method is `HEAD` (its response has no body).
    pub is_head: bool,
    /// The client asked to close after this request.
    pub close: bool,
    /// Body framing.
    pub body: BodyLen,
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// Bytes of the head, including the blank line.
    pub len: usize,
    /// Status code.
    pub status: u16,
    /// The server will close after this response.
    pub close: bool,
    /// Body framing.
    pub body: BodyLen,
    /// Whether a header named `marker` carried `marker_value`.
    pub marked: bool,
}

struct Framing {
    close: bool,
    keep_alive: bool,
    length: Option<u64>,
    chunked: bool,
    marked: bool,
}

fn framing(
    headers: &[httparse::Header<'_>],
    marker: Option<(&str, &str)>,
) -> Result<Framing, FrameError> {
    let mut f = Framing {
        close: false,
        keep_alive: false,
        length: None,
        chunked: false,
        marked: false,
    };
    for h in headers {
        let value = std::str::from_utf8(h.value).unwrap_or("").trim();
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse()
                .map_err(|_| FrameError::Body("Content-Length is not a number"))?;
            if f.length.is_some_and(|old| old != n) {
                return Err(FrameError::Body("conflicting Content-Length headers"));
            }
            f.length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            f.chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',') {
                let token = token.trim();
                f.close |= token.eq_ignore_ascii_case("close");
                f.keep_alive |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if let Some((name, expected)) = marker
            && h.name.eq_ignore_ascii_case(name)
            && value.eq_ignore_ascii_case(expected)
        {
            f.marked = true;
        }
    }
    Ok(f)
}

/// Parses a request head at the start of `buf`; `Ok(None)` if incomplete.
pub fn parse_request(buf: &[u8]) -> Result<Option<RequestHead>, FrameError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf)? {
        httparse::Status::Partial if buf.len() > MAX_HEAD_BYTES => Err(FrameError::HeadTooLarge),
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => {
            let f = framing(req.headers, None)?;
            let http10 = req.version == Some(0);
            let body = if f.chunked {
                BodyLen::Chunked
            } else {
                BodyLen::Length(f.length.unwrap_or(0))
            };
            Ok(Some(RequestHead {
                len,
                path: req.path.unwrap_or("/").to_string(),
                is_head: req.method == Some("HEAD"),
                close: f.close || (http10 && !f.keep_alive),
                body,
            }))
        }
    }
}

/// Parses a response head at the start of `buf`; `Ok(None)` if incomplete.
/// `marker` is a `(header, value)` pair to look for.
pub fn parse_response(
    buf: &[u8],
    request_was_head: bool,
    marker: (&str, &str),
) -> Result<Option<ResponseHead>, FrameError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf)? {
        httparse::Status::Partial if buf.len() > MAX_HEAD_BYTES => Err(FrameError::HeadTooLarge),
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(len) => {
            let f = framing(resp.headers, Some(marker))?;
            let status = resp.code.unwrap_or(0);
            let http10 = resp.version == Some(0);
            let no_body =
                request_was_head || (100..200).contains(&status) || status == 204 || status == 304;
            let body = if no_body {
                BodyLen::Length(0)
            } else if f.chunked {
                BodyLen::Chunked
            } else if let Some(n) = f.length {
                BodyLen::Length(n)
            } else {
                BodyLen::UntilClose
            };
            Ok(Some(ResponseHead {
                len,
                status,
                close: f.close || (http10 && !f.keep_alive) || body == BodyLen::UntilClose,
                body,
                marked: f.marked,
            }))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size { value: u64, in_ext: bool },
    SizeLf { value: u64 },
    Data(u64),
    DataCr,
    DataLf,
    Trailer { line: usize },
    TrailerLf { line: usize },
    Done,
}

/// Tracks where a message body ends as its bytes go by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTracker {
    state: Tracker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracker {
    Remaining(u64),
    Chunked(Chunk),
    UntilClose,
}

impl BodyTracker {
    /// Starts tracking a body framed as `len`.
    pub fn new(len: BodyLen) -> Self {
        let state = match len {
            BodyLen::Length(n) => Tracker::Remaining(n),
            BodyLen::Chunked => Tracker::Chunked(Chunk::Size {
                value: 0,
                in_ext: false,
            }),
            BodyLen::UntilClose => Tracker::UntilClose,
        };
        Self { state }
    }

    /// Whether the body is complete.
    pub fn is_done(&self) -> bool {
        matches!(
            self.state,
            Tracker::Remaining(0) | Tracker::Chunked(Chunk::Done)
        )
    }

    /// Consumes body bytes from the start of `bytes`; returns how many
    /// belong to the body (the rest belongs to the next message).
    pub fn feed(&mut self, bytes: &[u8]) -> Result<usize, FrameError> {
        match &mut self.state {
            Tracker::Remaining(n) => {
                let take = (*n).min(bytes.len() as u64);
                *n -= take;
                Ok(take as usize)
            }
            Tracker::UntilClose => Ok(bytes.len()),
            Tracker::Chunked(state) => {
                let mut i = 0;
                while i < bytes.len() && *state != Chunk::Done {
                    let b = bytes[i];
                    *state = match *state {
                        Chunk::Size { value, in_ext } => match b {
                            b'\r' => Chunk::SizeLf { value },
                            b'\n' if value == 0 => Chunk::Trailer { line: 0 },
                            b'\n' => Chunk::Data(value),
                            _ if in_ext => Chunk::Size { value, in_ext },
                            b';' | b' ' | b'\t' => Chunk::Size {
                                value,
                                in_ext: true,
                            },
                            _ => {
                                let d = (b as char)
                                    .to_digit(16)
                                    .ok_or(FrameError::Body("bad chunk size"))?;
                                let value = value
                                    .checked_mul(16)
                                    .and_then(|v| v.checked_add(u64::from(d)))
                                    .ok_or(FrameError::Body("chunk size overflow"))?;
                                Chunk::Size { value, in_ext }
                            }
                        },
                        Chunk::SizeLf { value } if b == b'\n' => {
                            if value == 0 {
                                Chunk::Trailer { line: 0 }
                            } else {
                                Chunk::Data(value)
                            }
                        }
                        Chunk::SizeLf { .. } => {
                            return Err(FrameError::Body("bad chunk size line"));
                        }
                        Chunk::Data(n) => {
                            let take = n.min((bytes.len() - i) as u64);
                            i += take as usize;
                            *state = if take == n {
                                Chunk::DataCr
                            } else {
                                Chunk::Data(n - take)
                            };
                            continue;
                        }
                        Chunk::DataCr if b == b'\r' => Chunk::DataLf,
                        Chunk::DataCr | Chunk::DataLf if b == b'\n' => Chunk::Size {
                            value: 0,
                            in_ext: false,
                        },
                        Chunk::DataCr | Chunk::DataLf => {
                            return Err(FrameError::Body("missing CRLF after chunk"));
                        }
                        Chunk::Trailer { line } => match b {
                            b'\r' => Chunk::TrailerLf { line },
                            b'\n' if line == 0 => Chunk::Done,
                            b'\n' => Chunk::Trailer { line: 0 },
                            _ => Chunk::Trailer { line: line + 1 },
                        },
                        Chunk::TrailerLf { line } if b == b'\n' => {
                            if line == 0 {
                                Chunk::Done
                            } else {
                                Chunk::Trailer { line: 0 }
                            }
                        }
                        Chunk::TrailerLf { .. } => {
                            return Err(FrameError::Body("bad trailer line"));
                        }
                        Chunk::Done => Chunk::Done,
                    };
                    i += 1;
                }
                Ok(i)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_head_and_framing() {
        let raw = b"GET /?i=tt1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET";
        let head = parse_request(raw).expect("parse").expect("complete");
        assert_eq!(head.len, raw.len() - 3);
        assert_eq!(head.path, "/?i=tt1");
        assert!(head.close);
        assert_eq!(head.body, BodyLen::Length(0));
        assert!(
            parse_request(b"GET / HTTP/1.1\r\nHost")
                .expect("partial")
                .is_none()
        );
        assert!(
            parse_request(b"GET / HTTP/1.0\r\n\r\n")
                .expect("p")
                .expect("c")
                .close
        );
    }

    #[test]
    fn response_head_marker_and_lengths() {
        let raw = b"HTTP/1.1 200 OK\r\nX-Oomguard-Fault: reset\r\ncontent-length: 5\r\n\r\nhello";
        let head = parse_response(raw, false, ("x-oomguard-fault", "reset"))
            .expect("p")
            .expect("c");
        assert!(head.marked);
        assert_eq!((head.status, head.body), (200, BodyLen::Length(5)));
        let raw = b"HTTP/1.1 200 OK\r\n\r\n";
        let head = parse_response(raw, false, ("a", "b"))
            .expect("p")
            .expect("c");
        assert_eq!(head.body, BodyLen::UntilClose);
        assert!(head.close);
        let head = parse_response(raw, true, ("a", "b"))
            .expect("p")
            .expect("c");
        assert_eq!(head.body, BodyLen::Length(0));
    }

    #[test]
    fn chunked_body_end_is_found_across_splits() {
        let body = b"5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for split in 0..=body.len() - 4 {
            let mut t = BodyTracker::new(BodyLen::Chunked);
            let a = t.feed(&body[..split]).expect("a");
            assert_eq!(a, split);
            let b = t.feed(&body[split..]).expect("b");
            assert!(t.is_done(), "split {split}");
            assert_eq!(a + b, body.len() - 4);
        }
        let mut t = BodyTracker::new(BodyLen::Chunked);
        assert!(t.feed(b"zz\r\n").is_err());
    }
}
