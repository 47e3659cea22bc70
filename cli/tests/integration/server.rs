//! A real HTTP/1.1 server on loopback for the network tests, with injected faults. Each
//! connection gets `Connection: close`; the handler sees the request and how many requests for
//! the same path came before, and picks a reply. The server stops when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }
}

pub enum Reply {
    Ok {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Sends the headers and `at` bytes of the body, then closes the connection.
    DropMidBody { body: Vec<u8>, at: usize },
    /// Claims `body.len() + missing` bytes in Content-Length but sends `body`.
    ShortBody { body: Vec<u8>, missing: usize },
    /// Waits, then replies.
    Slow(Duration, Box<Reply>),
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply::Ok {
            status,
            headers: vec![],
            body: vec![],
        }
    }
    pub fn body(body: impl Into<Vec<u8>>) -> Reply {
        Reply::Ok {
            status: 200,
            headers: vec![],
            body: body.into(),
        }
    }
    pub fn with_header(self, k: &str, v: &str) -> Reply {
        match self {
            Reply::Ok {
                status,
                mut headers,
                body,
            } => {
                headers.push((k.into(), v.into()));
                Reply::Ok {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

pub struct Server {
    pub base: String,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub fn start(handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let (stop2, log2) = (stop.clone(), log.clone());
        std::thread::spawn(move || {
            // Bounded: stops when dropped, or after ten minutes whatever happens.
            let deadline = std::time::Instant::now() + Duration::from_secs(600);
            while !stop2.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (h, l) = (handler.clone(), log2.clone());
                        std::thread::spawn(move || serve(stream, &*h, &l));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server { base, stop, log }
    }

    /// The requests served so far.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The URL with the host named `localhost`, which the program resolves by the system's
    /// resolver (`/etc/hosts`), where the other URLs give the address.
    pub fn url_by_name(&self, path: &str) -> String {
        self.url(path).replacen("127.0.0.1", "localhost", 1)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.trim_end().split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let req = Request {
        method,
        target,
        headers,
        body,
    };
    let nth = {
        let mut l = log.lock().unwrap();
        let n = l.iter().filter(|r| r.path() == req.path()).count();
        l.push(req.clone());
        n
    };
    let reply = handler(&req, nth);
    write_reply(stream, &req, reply);
}

fn write_reply(mut stream: TcpStream, req: &Request, reply: Reply) {
    let head = |status: u16, len: usize, extra: &[(String, String)]| {
        let mut h =
            format!("HTTP/1.1 {status} X\r\nContent-Length: {len}\r\nConnection: close\r\n");
        for (k, v) in extra {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        h + "\r\n"
    };
    let _ = match reply {
        Reply::Ok {
            status,
            headers,
            body,
        } => {
            let mut out = head(status, body.len(), &headers).into_bytes();
            if req.method != "HEAD" {
                out.extend_from_slice(&body);
            }
            stream.write_all(&out)
        }
        Reply::DropMidBody { body, at } => {
            let _ = stream.write_all(head(200, body.len(), &[]).as_bytes());
            let _ = stream.write_all(&body[..at]);
            let _ = stream.flush();
            stream.shutdown(std::net::Shutdown::Both)
        }
        Reply::ShortBody { body, missing } => {
            let _ = stream.write_all(head(200, body.len() + missing, &[]).as_bytes());
            let _ = stream.write_all(&body);
            stream.shutdown(std::net::Shutdown::Both)
        }
        Reply::Slow(delay, inner) => {
            std::thread::sleep(delay);
            write_reply(stream, req, *inner);
            Ok(())
        }
    };
}
