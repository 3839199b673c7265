//! Process-wide crypto providers, chosen once.
//!
//! rustls and jsonwebtoken each pick a process default from their enabled features, and give up
//! (panicking at first use) when a dependency graph enables more than one. The runtime names its
//! choice explicitly, ring for TLS and RustCrypto for JWT signatures, so that another crate
//! enabling aws-lc-rs in the same binary cannot turn a call into a panic.

use std::sync::Once;

/// Makes ring rustls's process default, unless the application installed one already (then
/// that one is used: the application knows better).
pub(crate) fn install_ring_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Makes RustCrypto jsonwebtoken's process default, unless one is installed already.
pub(crate) fn install_jwt_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    });
}
