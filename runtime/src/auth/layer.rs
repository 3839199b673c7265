//! The service wrapper that checks each call's caller before its handler runs, puts the
//! verified [`Caller`] in the request's extensions for the handler, and in the response's for
//! the call log.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{HeaderMap, Request, Response};
use pin_project_lite::pin_project;
use tonic::Status;
use tonic::body::Body;

use super::principal::{Principal, has_claim};
use super::verify::{AUTH_TARGET, Identified, Identifier, Rejection};
use super::{ALLOWED, AuthConfig, AuthMode, Caller};
use crate::Error;
use crate::health::HEALTH_SERVICE;
use crate::logging::Logging;
use crate::service::ServiceDef;

/// A method's rule, parsed at start-up.
struct Rule {
    allow_unauthenticated: bool,
    principals: Vec<Principal>,
    claims: &'static [(&'static str, &'static str)],
}

/// Everything the checks need, shared by every connection.
pub(crate) struct AuthState {
    identifier: Arc<Identifier>,
    rules: HashMap<&'static str, Rule>,
    allowed: Vec<Principal>,
    health_prefix: String,
}

enum Check {
    Pass(Option<Caller>),
    Reject(Rejection, Option<Caller>),
    NeedKeys(u64),
}

impl AuthState {
    /// The checks for `config` and the rules the services declare; `None` when the mode is
    /// `off` (then nothing is checked and the wrapper costs one branch per call).
    pub(crate) fn build(
        config: &AuthConfig,
        services: &[ServiceDef],
        logging: &Logging,
    ) -> Result<Option<Arc<AuthState>>, Error> {
        config.check().map_err(|expected| Error::InvalidSetting {
            setting: "Server::auth",
            value: format!("{config:?}"),
            expected,
        })?;
        let mut rules = HashMap::new();
        for service in services {
            for method in service.method_defs() {
                let declared = method.caller_rule();
                if !declared.is_declared() {
                    continue;
                }
                let mut principals = Vec::new();
                for text in declared.principals() {
                    let principal = Principal::parse(text).map_err(|problem| {
                        Error::service(
                            service.name(),
                            format!(
                                "method {}: the allowed principal {text:?} {problem}",
                                method.path()
                            ),
                        )
                    })?;
                    principals.push(principal);
                }
                rules.insert(
                    method.path(),
                    Rule {
                        allow_unauthenticated: declared.allows_unauthenticated(),
                        principals,
                        claims: declared.claims(),
                    },
                );
            }
        }
        if config.mode == AuthMode::Off {
            if !rules.is_empty() {
                logging.scope(|| {
                    tracing::warn!(
                        target: AUTH_TARGET,
                        methods = rules.len() as u64,
                        "methods declare caller rules ((cloudrun.auth.*) options) but \
                         CLOUDRUN_AUTH_MODE is off, so nobody is checked; set it to verify or \
                         platform"
                    )
                });
            }
            return Ok(None);
        }
        let allowed = config
            .allowed
            .iter()
            .filter_map(|p| Principal::parse(p).ok())
            .collect();
        let identifier = Arc::new(Identifier::new(config, logging.clone()));
        identifier.refresh_in_background();
        logging.scope(|| {
            tracing::info!(
                target: AUTH_TARGET,
                mode = %config.mode,
                issuer = config.issuer.as_str(),
                audiences = config.audiences.join(",").as_str(),
                rules = rules.len() as u64,
                "caller identity: {} mode",
                config.mode
            )
        });
        Ok(Some(Arc::new(AuthState {
            identifier,
            rules,
            allowed,
            health_prefix: format!("/{HEALTH_SERVICE}/"),
        })))
    }

    fn check<B>(&self, request: &Request<B>, may_fetch: bool) -> Check {
        let path = request.uri().path();
        if path.starts_with(&self.health_prefix) {
            return Check::Pass(None);
        }
        let rule = self.rules.get(path);
        let token = match self.token_of(request.headers()) {
            Ok(token) => token,
            Err(rejection) => return Check::Reject(rejection, None),
        };
        let Some(token) = token else {
            if rule.is_some_and(|r| r.allow_unauthenticated) {
                return Check::Pass(None);
            }
            return Check::Reject(
                Rejection::unauthenticated(
                    "the call carries no ID token: send `authorization: Bearer <token>` (or \
                     `x-serverless-authorization`) with an ID token whose audience is this \
                     service's URL",
                ),
                None,
            );
        };
        let caller = match self.identifier.identify(token, may_fetch) {
            Identified::Caller(caller) => caller,
            Identified::NeedKeys { epoch } => return Check::NeedKeys(epoch),
            Identified::Rejected(rejection) => return Check::Reject(rejection, None),
        };
        match self.authorize(path, rule, &caller) {
            Ok(()) => Check::Pass(Some(caller)),
            Err(rejection) => Check::Reject(rejection, Some(caller)),
        }
    }

    fn authorize(&self, path: &str, rule: Option<&Rule>, caller: &Caller) -> Result<(), Rejection> {
        let denied = |why: &str| Rejection {
            code: tonic::Code::PermissionDenied,
            message: format!("{} may not call {path}{why}", caller.principal()),
        };
        match rule {
            Some(rule) if rule.allow_unauthenticated => Ok(()),
            Some(rule) => {
                if !rule.principals.is_empty() && !rule.principals.iter().any(|p| p.matches(caller))
                {
                    return Err(denied(""));
                }
                for (name, value) in rule.claims {
                    if !has_claim(caller, name, value) {
                        return Err(denied(&format!(": it requires the claim {name}={value:?}")));
                    }
                }
                Ok(())
            }
            None if !self.allowed.is_empty() && !self.allowed.iter().any(|p| p.matches(caller)) => {
                Err(denied(&format!(" (not in {ALLOWED})")))
            }
            None => Ok(()),
        }
    }
}

impl AuthState {
    /// The caller's token: `x-serverless-authorization` when present, else `authorization`.
    /// Cloud Run checks them in that order, so a caller whose `authorization` carries the
    /// application's own credentials sends its ID token in the other one, which then names the
    /// caller; generated clients always use it (it is cheaper to send, see
    /// [`TokenHeader`](crate::client::TokenHeader)).
    fn token_of<'a>(&self, headers: &'a HeaderMap) -> Result<Option<&'a str>, Rejection> {
        if let Some(token) = bearer(headers, SERVERLESS_AUTHORIZATION)? {
            return Ok(Some(token));
        }
        bearer(headers, http::header::AUTHORIZATION.as_str())
    }
}

/// The header Cloud Run accepts an ID token in when `authorization` carries something else.
const SERVERLESS_AUTHORIZATION: &str = "x-serverless-authorization";

/// The bearer token in header `name`: `None` without the header, an error for one that is not
/// `Bearer <token>`.
fn bearer<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, Rejection> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let malformed = || {
        Rejection::unauthenticated(format!(
            "the {name} header is not `Bearer <token>` (the token is never logged)"
        ))
    };
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(Some(token))
}

fn reject(rejection: Rejection, caller: Option<Caller>) -> Response<Body> {
    let mut response = Status::new(rejection.code, rejection.message).into_http::<Body>();
    if let Some(caller) = caller {
        response.extensions_mut().insert(caller);
    }
    response
}

/// The wrapper. `state` is `None` when identity checks are off.
#[derive(Clone)]
pub(crate) struct Authenticate<S> {
    inner: S,
    state: Option<Arc<AuthState>>,
}

impl<S> Authenticate<S> {
    pub(crate) fn new(inner: S, state: Option<Arc<AuthState>>) -> Self {
        Authenticate { inner, state }
    }
}

type SlowFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl<S, B> tower::Service<Request<B>> for Authenticate<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = AuthFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let Some(state) = &self.state else {
            return AuthFuture::Inner {
                future: self.inner.call(request),
                caller: None,
            };
        };
        match state.check(&request, true) {
            Check::Pass(caller) => {
                if let Some(caller) = &caller {
                    request.extensions_mut().insert(caller.clone());
                }
                AuthFuture::Inner {
                    future: self.inner.call(request),
                    caller,
                }
            }
            Check::Reject(rejection, caller) => AuthFuture::Ready {
                response: Some(reject(rejection, caller)),
            },
            Check::NeedKeys(epoch) => {
                // The keys are fetched once for every call waiting on them; then the check runs
                // again, and a key still missing is final.
                let state = Arc::clone(state);
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                AuthFuture::Slow {
                    future: Box::pin(async move {
                        if let Err(rejection) = state.identifier.fetch_keys(epoch).await {
                            return Ok(reject(rejection, None));
                        }
                        match state.check(&request, false) {
                            Check::Pass(caller) => {
                                if let Some(caller) = &caller {
                                    request.extensions_mut().insert(caller.clone());
                                }
                                let mut response = inner.call(request).await?;
                                if let Some(caller) = caller {
                                    response.extensions_mut().insert(caller);
                                }
                                Ok(response)
                            }
                            Check::Reject(rejection, caller) => Ok(reject(rejection, caller)),
                            Check::NeedKeys(_) => Ok(reject(
                                Rejection {
                                    code: tonic::Code::Unavailable,
                                    message: "the token issuer's keys are not available; try \
                                              again later"
                                        .to_owned(),
                                },
                                None,
                            )),
                        }
                    }),
                }
            }
        }
    }
}

pin_project! {
    /// The response future of a checked call.
    #[project = AuthFutureProjection]
    pub(crate) enum AuthFuture<F> {
        Inner { #[pin] future: F, caller: Option<Caller> },
        Ready { response: Option<Response<Body>> },
        Slow { future: SlowFuture },
    }
}

impl<F> Future for AuthFuture<F>
where
    F: Future<Output = Result<Response<Body>, Infallible>>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AuthFutureProjection::Inner { future, caller } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some(caller) = caller.take() {
                    response.extensions_mut().insert(caller);
                }
                Poll::Ready(Ok(response))
            }
            AuthFutureProjection::Ready { response } => Poll::Ready(Ok(response
                .take()
                .unwrap_or_else(|| Status::internal("polled after completion").into_http()))),
            AuthFutureProjection::Slow { future } => future.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static(value),
        );
        headers
    }

    #[test]
    fn bearer_tokens_are_read_and_other_schemes_refused() {
        let name = "authorization";
        assert_eq!(bearer(&HeaderMap::new(), name), Ok(None));
        assert_eq!(
            bearer(&headers("Bearer abc.def.ghi"), name),
            Ok(Some("abc.def.ghi"))
        );
        assert_eq!(bearer(&headers("bearer  abc"), name), Ok(Some("abc")));
        for bad in ["Basic dXNlcjpwdw==", "Bearer", "Bearer ", "abc"] {
            let rejection = bearer(&headers(bad), name).unwrap_err();
            assert_eq!(rejection.code, tonic::Code::Unauthenticated, "{bad}");
            assert!(!rejection.message.contains("dXNlcjpwdw"), "never echoed");
        }
    }
}
