//! Starting a server in-process on a free port, capturing its log lines, and stopping it through
//! the same shutdown path SIGTERM takes.

#![allow(dead_code)]

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use cloudrun_runtime::{Error, Server};
use prost::Message;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

use crate::probe;

pub const PROJECT: &str = "test-project";

/// Log lines written by one server.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("logs are UTF-8")
    }

    /// Every line, each of which must be a JSON object.
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
            .collect()
    }

    /// Waits (up to 5 s) for a line matching `pred`, since a call's line may be written just
    /// after its client saw the response.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| pred(l)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line {what}; logs:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The per-call lines for `method`.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["method"] == method)
            .collect()
    }
}

/// A server running in this process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub logs: Logs,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), Error>>>,
}

pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The server every test starts from: the probe service on a free localhost port, logging to
/// memory, stoppable by [`TestServer::shut_down`].
pub fn server(logs: &Logs) -> Server {
    Server::new()
        .host(LOCALHOST)
        .port(0)
        .project_id(Some(PROJECT))
        .log_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .add_service(probe::service())
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|s| s).await
    }

    pub async fn start_with(configure: impl FnOnce(Server) -> Server) -> Self {
        let logs = Logs::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = configure(server(&logs)).shutdown_signal(async move {
            let _ = stopped.await;
        });
        let listening = server.bind().await.expect("the server binds");
        let addr = listening.local_addr();
        let task = tokio::spawn(listening.serve());
        TestServer {
            addr,
            logs,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn channel(&self) -> Channel {
        Endpoint::from_shared(self.uri())
            .unwrap()
            .connect()
            .await
            .expect("connects to the server")
    }

    /// Starts the graceful shutdown, as SIGTERM would.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits for `serve` to return (at most `limit`) and gives its result.
    pub async fn finished(&mut self, limit: Duration) -> Result<(), Error> {
        let task = self.task.take().expect("not awaited before");
        tokio::time::timeout(limit, task)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the server did not finish within {limit:?}; logs:\n{}",
                    self.logs.text()
                )
            })
            .expect("the serve task did not panic")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// What the server answered to one call made by [`raw_call`].
#[derive(Debug)]
pub struct Reply {
    /// grpc-status, from the headers of a trailers-only response or from the trailers.
    pub status: String,
    pub messages: Vec<String>,
    pub elapsed: Duration,
}

/// One call with a bare HTTP/2 client on `tcp` (a connection the caller chose, so it knows both
/// ends): `text` as the request message, `headers` added. Unlike tonic's client it enforces
/// nothing itself, so what it returns is what the server answered.
pub async fn raw_call(
    tcp: TcpStream,
    uri: &str,
    path: &str,
    text: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let mut request = http::Request::post(format!("{uri}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let message = text.to_owned().encode_to_vec();
    let mut frame = vec![0];
    frame.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    frame.extend_from_slice(&message);

    let started = Instant::now();
    let (response, mut send) = client
        .send_request(request.body(()).unwrap(), false)
        .unwrap();
    send.send_data(Bytes::from(frame), true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), http::StatusCode::OK);
    if let Some(status) = response.headers().get("grpc-status") {
        return Reply {
            status: status.to_str().unwrap().to_owned(),
            messages: Vec::new(),
            elapsed: started.elapsed(),
        };
    }
    let mut body = response.into_body();
    let mut data = BytesMut::new();
    while let Some(chunk) = body.data().await {
        data.extend_from_slice(&chunk.unwrap());
    }
    let trailers = body.trailers().await.unwrap().expect("trailers");
    let elapsed = started.elapsed();
    let mut messages = Vec::new();
    while data.len() >= 5 {
        let length = usize::try_from(u32::from_be_bytes(data[1..5].try_into().unwrap())).unwrap();
        data.advance(5);
        messages.push(String::decode(data.split_to(length)).unwrap());
    }
    Reply {
        status: trailers["grpc-status"].to_str().unwrap().to_owned(),
        messages,
        elapsed,
    }
}
