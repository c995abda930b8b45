//! The agent's small HTTP/1.1 server: one request per connection
//! (`Connection: close`), a thread per connection (at most
//! [`MAX_CONNECTIONS`] at once; more are answered 503), bounded headers
//! and bodies, read and write timeouts. Enough for health probes and
//! webhooks; nothing here is exposed unless `--listen` says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 32;
/// Largest request head (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Largest request body (GitHub push payloads of big pushes run to a few MB).
pub const MAX_BODY: usize = 8 * 1024 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One request, read.
pub struct Request {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One response.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        let mut body = body.into().into_bytes();
        body.push(b'\n');
        Response { status, content_type: "text/plain; charset=utf-8", body }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut body = serde_json::to_vec_pretty(value).expect("JSON");
        body.push(b'\n');
        Response { status, content_type: "application/json", body }
    }
}

/// What answers requests (called from the connection threads).
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, req: &Request) -> Response;
}

/// Bind `addr` and serve `handler` on a background thread; returns the
/// address bound (port 0 picks a free port).
pub fn serve(addr: SocketAddr, handler: Arc<dyn Handler>) -> Result<SocketAddr> {
    let listener = TcpListener::bind(addr).map_err(|e| Error::Usage(format!("--listen {addr}: {e}")))?;
    let bound = listener.local_addr().map_err(|e| Error::Usage(format!("--listen {addr}: {e}")))?;
    let active = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("agent-http".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    active.fetch_sub(1, Ordering::SeqCst);
                    let _ = write_response(&mut stream, &Response::text(503, "too many connections"));
                    continue;
                }
                let (handler, active) = (handler.clone(), active.clone());
                let spawned = std::thread::Builder::new().name("agent-http-conn".into()).spawn(move || {
                    serve_one(stream, &*handler);
                    active.fetch_sub(1, Ordering::SeqCst);
                });
                if spawned.is_err() {
                    tracing::warn!("agent http: cannot start a connection thread");
                }
            }
        })
        .map_err(|e| Error::io("<agent http thread>", e))?;
    Ok(bound)
}

fn serve_one(mut stream: TcpStream, handler: &dyn Handler) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let response = match read_request(&stream) {
        Ok(req) => handler.handle(&req),
        Err(r) => r,
    };
    let _ = write_response(&mut stream, &response);
}

fn read_request(stream: &TcpStream) -> std::result::Result<Request, Response> {
    let mut reader = BufReader::new(stream.take((MAX_HEAD + MAX_BODY) as u64));
    let mut head_len = 0;
    let mut line = String::new();
    let mut read_line = |line: &mut String| -> std::result::Result<(), Response> {
        line.clear();
        let n = reader.read_line(line).map_err(|e| Response::text(400, format!("reading the request: {e}")))?;
        head_len += n;
        if n == 0 || head_len > MAX_HEAD {
            return Err(Response::text(431, "request head too large or cut short"));
        }
        Ok(())
    };
    read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(Response::text(400, "bad request line"));
    };
    let (method, path) = (method.to_string(), target.split('?').next().unwrap_or("/").to_string());
    let mut headers = Vec::new();
    loop {
        read_line(&mut line)?;
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        let Some((k, v)) = l.split_once(':') else { return Err(Response::text(400, "bad header line")) };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if header("transfer-encoding").is_some() {
        return Err(Response::text(411, "send the body with a Content-Length"));
    }
    let len: usize = match header("content-length") {
        None => 0,
        Some(v) => v.parse().map_err(|_| Response::text(400, "bad Content-Length"))?,
    };
    if len > MAX_BODY {
        return Err(Response::text(413, format!("the body is larger than {MAX_BODY} bytes")));
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).map_err(|e| Response::text(400, format!("reading the body: {e}")))?;
    Ok(Request { method, path, headers, body })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn write_response(stream: &mut TcpStream, r: &Response) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&r.body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    impl Handler for Echo {
        fn handle(&self, req: &Request) -> Response {
            let ct = req.headers.iter().find(|(k, _)| k == "x-test").map(|(_, v)| v.clone()).unwrap_or_default();
            Response::text(200, format!("{} {} {} {}", req.method, req.path, ct, String::from_utf8_lossy(&req.body)))
        }
    }

    fn exchange(addr: SocketAddr, raw: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn requests_and_bad_requests() {
        let addr = serve("127.0.0.1:0".parse().unwrap(), Arc::new(Echo)).unwrap();
        let out = exchange(addr, "POST /hooks/git?x=1 HTTP/1.1\r\nX-Test: yes\r\nContent-Length: 5\r\n\r\nhello");
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.ends_with("POST /hooks/git yes hello\n"), "{out}");
        let out = exchange(addr, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 411"), "{out}");
        let out = exchange(addr, &format!("POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1));
        assert!(out.starts_with("HTTP/1.1 413"), "{out}");
        let out = exchange(addr, &format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(MAX_HEAD)));
        assert!(out.starts_with("HTTP/1.1 431"), "{out}");
        let out = exchange(addr, "nonsense\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    }
}
