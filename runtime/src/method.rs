//! What generated code tells the runtime about each RPC: its path, whether repeating it is safe
//! (for client retries), whether its request streams (a streamed request cannot be buffered and
//! replayed), and who may call it (for the server's identity checks).
//!
//! Generated code declares one `static METHODS: &[MethodDef]` per service with `const`
//! constructors, so the table costs nothing at start-up:
//!
//! ```
//! use cloudrun_runtime::{Idempotency, MethodAuth, MethodDef};
//!
//! static METHODS: &[MethodDef] = &[
//!     MethodDef::new("/trainer.TrainerService/IsHourAvailable")
//!         .idempotency(Idempotency::NoSideEffects),
//!     MethodDef::new("/trainer.TrainerService/UpdateHour")
//!         .idempotency(Idempotency::Idempotent)
//!         .auth(MethodAuth::new().allowed_principals(&["trainings@wild-workouts.iam.gserviceaccount.com"])),
//! ];
//! assert!(METHODS[0].idempotency_level().is_safe_to_retry());
//! ```

/// Whether an RPC may be repeated, as its proto's `idempotency_level` option says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Idempotency {
    /// `IDEMPOTENCY_UNKNOWN` (the default): a retry could apply the call twice.
    #[default]
    Unknown,
    /// `NO_SIDE_EFFECTS`: a read; repeating it changes nothing.
    NoSideEffects,
    /// `IDEMPOTENT`: repeating it has the same effect as calling it once.
    Idempotent,
}

impl Idempotency {
    /// Whether a call that failed with `UNAVAILABLE` may be sent again.
    pub const fn is_safe_to_retry(self) -> bool {
        matches!(self, Idempotency::NoSideEffects | Idempotency::Idempotent)
    }
}

/// Who may call an RPC, as declared in its proto with the `(cloudrun.auth.method)` option (or for
/// all of a service's RPCs with `(cloudrun.auth.service)`).
///
/// Principals are matched against the verified caller:
///
/// | Entry | Matches |
/// |---|---|
/// | `alice@example.com`, `sa@project.iam.gserviceaccount.com` | the caller's `email` claim (case-insensitive, `email_verified` not false) |
/// | `user:alice@example.com`, `serviceAccount:sa@...` | the same, written as IAM members |
/// | `domain:example.com` | any email ending in `@example.com` |
/// | `subject:1234567890` | the `sub` claim |
///
/// Required claims are `(name, value)` pairs: the claim must equal the value (a string claim),
/// contain it (an array claim), or print as it (a number or boolean claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MethodAuth {
    declared: bool,
    allow_unauthenticated: bool,
    allowed_principals: &'static [&'static str],
    required_claims: &'static [(&'static str, &'static str)],
}

impl MethodAuth {
    /// A rule that lets any verified caller in; the builder methods narrow or open it.
    pub const fn new() -> Self {
        MethodAuth {
            declared: true,
            allow_unauthenticated: false,
            allowed_principals: &[],
            required_claims: &[],
        }
    }

    /// No rule declared in the proto: the server's `CLOUDRUN_AUTH_ALLOWED` list applies.
    pub const fn undeclared() -> Self {
        MethodAuth {
            declared: false,
            allow_unauthenticated: false,
            allowed_principals: &[],
            required_claims: &[],
        }
    }

    /// Callers need no token (a token that is sent is still verified, and rejected if bad).
    pub const fn allow_unauthenticated(mut self) -> Self {
        self.allow_unauthenticated = true;
        self
    }

    /// Only these principals may call (see the table above); empty means any verified caller.
    pub const fn allowed_principals(mut self, principals: &'static [&'static str]) -> Self {
        self.allowed_principals = principals;
        self
    }

    /// Claims the caller's token must carry, as `(name, value)` pairs.
    pub const fn required_claims(
        mut self,
        claims: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.required_claims = claims;
        self
    }

    /// Whether the proto declared a rule (otherwise the server's allow-list applies).
    pub const fn is_declared(&self) -> bool {
        self.declared
    }

    /// Whether callers without a token are let in.
    pub const fn allows_unauthenticated(&self) -> bool {
        self.allow_unauthenticated
    }

    /// The principals allowed; empty means any verified caller.
    pub const fn principals(&self) -> &'static [&'static str] {
        self.allowed_principals
    }

    /// The claims required, as `(name, value)` pairs.
    pub const fn claims(&self) -> &'static [(&'static str, &'static str)] {
        self.required_claims
    }
}

/// One RPC of a generated service: its path, whether repeating it is safe, whether its request
/// streams, and who may call it. Generated code declares one `static` table of these per service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodDef {
    path: &'static str,
    idempotency: Idempotency,
    client_streaming: bool,
    server_streaming: bool,
    auth: MethodAuth,
}

impl MethodDef {
    /// The RPC at `path` (`/package.Service/Method`), unary, of unknown idempotency, with no
    /// declared caller rule.
    pub const fn new(path: &'static str) -> Self {
        MethodDef {
            path,
            idempotency: Idempotency::Unknown,
            client_streaming: false,
            server_streaming: false,
            auth: MethodAuth::undeclared(),
        }
    }

    /// Sets the idempotency level.
    pub const fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Marks the request as a stream (such calls are never replayed).
    pub const fn client_streaming(mut self) -> Self {
        self.client_streaming = true;
        self
    }

    /// Marks the response as a stream.
    pub const fn server_streaming(mut self) -> Self {
        self.server_streaming = true;
        self
    }

    /// Sets who may call it.
    pub const fn auth(mut self, auth: MethodAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The HTTP/2 path, `/package.Service/Method`.
    pub const fn path(&self) -> &'static str {
        self.path
    }

    /// The idempotency level.
    pub const fn idempotency_level(&self) -> Idempotency {
        self.idempotency
    }

    /// Whether the request is a stream.
    pub const fn is_client_streaming(&self) -> bool {
        self.client_streaming
    }

    /// Whether the response is a stream.
    pub const fn is_server_streaming(&self) -> bool {
        self.server_streaming
    }

    /// Who may call it.
    pub const fn caller_rule(&self) -> &MethodAuth {
        &self.auth
    }
}
