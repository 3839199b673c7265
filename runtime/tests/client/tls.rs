//! TLS against a local endpoint whose certificate comes from a test CA.

use cloudrun_runtime::client::{ClientConfig, ClientError, StaticToken, Token};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tonic::transport::Identity;

use crate::backend::{Backend, METHODS, READ, unary};

/// A CA and a certificate for `localhost` that it signed: (CA PEM, server identity).
fn test_pki() -> (String, Identity) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "cloudrun test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    (
        ca.pem(),
        Identity::from_pem(server_cert.pem(), server_key.serialize_pem()),
    )
}

#[tokio::test]
async fn tls_with_a_trusted_ca_carries_calls_and_tokens_with_an_audience_of_the_host() {
    let (ca_pem, identity) = test_pki();
    let backend = Backend::start_tls(identity).await;
    let url = format!("https://localhost:{}", backend.addr.port());
    let channel = ClientConfig::new(&url)
        .methods(METHODS)
        .ca_certificate_pem(ca_pem)
        .token_source(StaticToken::new(Token::new("tls-token")))
        .connect()
        .await
        .unwrap();
    assert_eq!(
        channel.audience(),
        Some("https://localhost"),
        "no port in the audience"
    );
    assert_eq!(
        unary(&channel, READ, "over tls", None).await.unwrap(),
        "over tls"
    );
    assert_eq!(
        backend.record.authorizations(),
        [Some("Bearer tls-token".to_owned())]
    );
}

#[tokio::test]
async fn an_untrusted_certificate_fails_the_call() {
    let (_, identity) = test_pki();
    let backend = Backend::start_tls(identity).await;
    let channel = ClientConfig::new(format!("https://localhost:{}", backend.addr.port()))
        .token_source(StaticToken::new(Token::new("t")))
        .connect()
        .await
        .unwrap();
    let status = unary(&channel, READ, "x", None).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert_eq!(backend.record.calls(), 0);
}

#[tokio::test]
async fn a_ca_that_is_not_pem_is_an_error_at_set_up() {
    let error = ClientConfig::new("https://localhost:1")
        .ca_certificate_pem(b"not a certificate".to_vec())
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Tls { .. }), "{error}");
    assert!(error.to_string().contains("not PEM"), "{error}");
}
