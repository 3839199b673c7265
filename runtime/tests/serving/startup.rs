//! Start-up: binding, errors, several servers and subscribers in one process.

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use cloudrun_runtime::{Error, Server};

use crate::harness::{LOCALHOST, Logs, TestServer, server};
use crate::probe::{self, echo};

#[tokio::test]
async fn a_port_in_use_is_an_error_naming_the_address() {
    let taken = TcpListener::bind((LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = server(&Logs::default())
        .port(port)
        .bind()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Bind { address, .. } if address == SocketAddr::new(LOCALHOST, port))
    );
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("PORT"), "{text}");
}

#[tokio::test]
async fn bad_registrations_are_errors_not_panics() {
    let twice = server(&Logs::default())
        .add_service(probe::service())
        .bind()
        .await
        .unwrap_err();
    assert!(twice.to_string().contains("registered twice"), "{twice}");

    let renamed = cloudrun_runtime::ServiceDef::new("cloudrun.test.Other", &[], |limits| {
        probe::ProbeServer::<0>::new(limits)
    });
    let err = Server::new()
        .host(LOCALHOST)
        .port(0)
        .add_service(renamed)
        .bind()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NamedService::NAME"), "{err}");

    let err = Server::new().log_filter("loud").unwrap_err();
    assert!(err.to_string().contains("\"loud\" is not a level"), "{err}");
}

#[tokio::test]
async fn bind_reports_serving_quickly_and_serve_answers_on_the_bound_port() {
    let started = Instant::now();
    let server = TestServer::start().await;
    let took = started.elapsed();
    // Debug build on a shared machine: a generous bound that still catches heavy start-up work.
    assert!(took < Duration::from_secs(2), "start-up took {took:?}");
    assert_eq!(echo(&server.channel().await, "up").await.unwrap(), "up");
}

#[tokio::test]
async fn a_server_starts_when_a_global_subscriber_is_already_set_and_still_logs_to_its_writer() {
    // Whichever test got here first may already have set one; either way one is set now.
    let _ = tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    let first = TestServer::start().await;
    let second = TestServer::start().await;
    for server in [&first, &second] {
        echo(&server.channel().await, "x").await.unwrap();
        server
            .logs
            .wait_for("for the call", |l| l["method"] == probe::ECHO_PATH)
            .await;
    }
}

#[tokio::test]
async fn keepalive_pings_idle_connections_and_closes_those_that_never_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = TestServer::start_with(|s| {
        s.http2_keepalive_interval(Some(Duration::from_millis(100)))
            .http2_keepalive_timeout(Duration::from_millis(200))
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // The HTTP/2 preface and an empty SETTINGS frame, then silence: nothing is ever ACKed.
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let started = Instant::now();
    let mut pinged = false;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut header = [0u8; 9];
            if tcp.read_exact(&mut header).await.is_err() {
                return;
            }
            let length =
                usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
            let mut payload = vec![0u8; length];
            if tcp.read_exact(&mut payload).await.is_err() {
                return;
            }
            const PING: u8 = 0x6;
            const ACK: u8 = 0x1;
            if header[3] == PING && header[4] & ACK == 0 {
                pinged = true;
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the unanswered connection was not closed within 5 s"
    );
    assert!(pinged, "no PING arrived on the idle connection");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "closed before the first PING was due"
    );
}

/// The server side of a loopback connection in `/proc/net/tcp`: its timer kind (`tr`) and the
/// clock ticks until that timer fires.
#[cfg(target_os = "linux")]
fn server_socket_timer(server: SocketAddr, client: SocketAddr) -> Option<(u8, u64)> {
    let hex = |addr: SocketAddr| match addr {
        SocketAddr::V4(v4) => format!(
            "{:08X}:{:04X}",
            u32::from_le_bytes(v4.ip().octets()),
            v4.port()
        ),
        SocketAddr::V6(_) => unreachable!("the test servers listen on 127.0.0.1"),
    };
    let (local, remote) = (hex(server), hex(client));
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields[1] != local || fields[2] != remote {
            return None;
        }
        let (kind, when) = fields[5].split_once(':')?;
        Some((
            u8::from_str_radix(kind, 16).ok()?,
            u64::from_str_radix(when, 16).ok()?,
        ))
    })
}

/// Waits until the server has accepted the connection and its socket shows a timer other than
/// `none`, or two seconds have passed; returns what the socket showed last.
#[cfg(target_os = "linux")]
async fn settled_server_socket_timer(server: SocketAddr, client: SocketAddr) -> Option<(u8, u64)> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let timer = server_socket_timer(server, client);
        if matches!(timer, Some((kind, _)) if kind != 0) || Instant::now() > deadline {
            return timer;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn accepted_connections_have_tcp_keepalive_so_vanished_peers_are_closed() {
    const KEEPALIVE_TIMER: u8 = 2;
    // USER_HZ: /proc reports timers in hundredths of a second.
    const TICKS_PER_SECOND: u64 = 100;

    let server = TestServer::start().await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let client = tcp.local_addr().unwrap();
    let (kind, when) = settled_server_socket_timer(server.addr, client)
        .await
        .expect("the accepted connection is in /proc/net/tcp");
    assert_eq!(
        kind, KEEPALIVE_TIMER,
        "no keepalive timer on the idle connection"
    );
    // The default idle time is 60 s: the first probe is due well after 30 s from now.
    assert!(
        when > 30 * TICKS_PER_SECOND && when <= 60 * TICKS_PER_SECOND,
        "first probe due in {when} ticks"
    );

    let off = TestServer::start_with(|s| s.tcp_keepalive(None)).await;
    let tcp = tokio::net::TcpStream::connect(off.addr).await.unwrap();
    let client = tcp.local_addr().unwrap();
    // Give the server time to accept (and, were it on, to set the option).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (kind, _) = settled_server_socket_timer(off.addr, client).await.unwrap();
    assert_eq!(kind, 0, "a timer on a connection with keepalive off");
}
