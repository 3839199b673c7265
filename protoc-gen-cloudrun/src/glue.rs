//! The Cloud Run glue of one service: a module with its full name, the table of its methods
//! (`METHODS`: paths, idempotency, streaming), and, as the options ask, a [`ServiceDef`]
//! constructor and a `serve` entry point for the server, one-call constructors for the client.
//! Everything is written with fully qualified paths so that no proto name (a message called
//! `Result` or `Server`, a method called `Serve`) can shadow what the glue means.
//!
//! [`ServiceDef`]: https://docs.rs/cloudrun-runtime

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::model::{Idempotency, Method, Service};

/// Which sides of the service the glue serves.
#[derive(Clone, Copy, Debug)]
pub struct Sides {
    /// The tonic server is generated: emit `service` and `serve`.
    pub server: bool,
    /// The tonic client is generated: emit `client`, `client_from_env` and `client_with`.
    pub client: bool,
}

/// Emits the glue module for `service`; `runtime` is the runtime crate's path.
pub fn service_glue(service: &Service, runtime: &syn::Path, sides: Sides) -> TokenStream {
    let names = &service.names;
    let glue_mod = ident(&names.glue_mod);
    let full_name = &service.full_name;
    let runtime_text = path_text(runtime);

    let methods = service
        .methods
        .iter()
        .map(|method| method_def(method, runtime));
    let server = sides
        .server
        .then(|| server_glue(service, runtime, &runtime_text));
    let client = sides.client.then(|| client_glue(service, runtime));

    let mut module_doc = vec![format!(" Cloud Run glue for `{full_name}`.")];
    if sides.server {
        module_doc.push(" Serve an implementation with `serve`, or add `service(...)` to a".into());
        module_doc.push(format!(" `{runtime_text}::Server` with other services."));
    }
    if sides.client {
        module_doc.push(" Call the service with `client(url)` or `client_from_env()`.".into());
    }
    quote! {
        #(#[doc = #module_doc])*
        pub mod #glue_mod {
            /// Full name of the service, as health checks and reflection know it.
            pub const SERVICE_NAME: &str = #full_name;

            /// The service's methods as the runtime needs them: paths, idempotency (for client
            /// retries), streaming, and who may call them (for the server's identity checks).
            pub static METHODS: &[#runtime::MethodDef] = &[#(#methods),*];

            #server
            #client
        }
    }
}

fn method_def(method: &Method, runtime: &syn::Path) -> TokenStream {
    let path = &method.path;
    let idempotency = match method.idempotency {
        Idempotency::Unknown => None,
        Idempotency::NoSideEffects => {
            Some(quote!(.idempotency(#runtime::Idempotency::NoSideEffects)))
        }
        Idempotency::Idempotent => Some(quote!(.idempotency(#runtime::Idempotency::Idempotent))),
    };
    let client_streaming = method.client_streaming.then(|| quote!(.client_streaming()));
    let server_streaming = method.server_streaming.then(|| quote!(.server_streaming()));
    let auth = method.auth.as_ref().map(|rule| {
        let unauthenticated = rule
            .allow_unauthenticated
            .then(|| quote!(.allow_unauthenticated()));
        let principals = (!rule.allowed_principals.is_empty()).then(|| {
            let principals = &rule.allowed_principals;
            quote!(.allowed_principals(&[#(#principals),*]))
        });
        let claims = (!rule.required_claims.is_empty()).then(|| {
            let pairs = rule.required_claims.iter().map(|claim| {
                let (name, value) = (&claim.name, &claim.value);
                quote!((#name, #value))
            });
            quote!(.required_claims(&[#(#pairs),*]))
        });
        quote!(.auth(#runtime::MethodAuth::new() #unauthenticated #principals #claims))
    });
    quote! {
        #runtime::MethodDef::new(#path) #idempotency #client_streaming #server_streaming #auth
    }
}

fn server_glue(service: &Service, runtime: &syn::Path, runtime_text: &str) -> TokenStream {
    let names = &service.names;
    let server_mod = ident(&names.server_mod);
    let service_trait = ident(&names.service);
    let server_struct = ident(&names.server_struct);
    let deprecated = service.deprecated.then(|| quote!(#[deprecated]));
    let service_doc =
        format!(" Wraps an implementation for `{runtime_text}::Server::add_service`.");
    quote! {
        #[doc = #service_doc]
        #deprecated
        pub fn service<T: super::#server_mod::#service_trait>(inner: T) -> #runtime::ServiceDef {
            #runtime::ServiceDef::new(
                SERVICE_NAME,
                super::FILE_DESCRIPTOR_SET,
                move |limits: &#runtime::Limits| {
                    super::#server_mod::#server_struct::new(inner)
                        .max_decoding_message_size(limits.max_decoding_message_size)
                        .max_encoding_message_size(limits.max_encoding_message_size)
                },
            )
            .methods(METHODS)
        }

        /// Serves `inner` following Cloud Run's container contract (PORT, h2c, health,
        /// reflection, drain, JSON logs).
        #deprecated
        pub async fn serve<T: super::#server_mod::#service_trait>(
            inner: T,
        ) -> ::core::result::Result<(), #runtime::Error> {
            #runtime::serve(service(inner)).await
        }
    }
}

fn client_glue(service: &Service, runtime: &syn::Path) -> TokenStream {
    let names = &service.names;
    let client_mod = ident(&names.client_mod);
    let client_struct = ident(&names.client_struct);
    let deprecated = service.deprecated.then(|| quote!(#[deprecated]));
    let address_env = &service.address_env;
    let audience_env = address_env.replace("_GRPC_ADDR", "_GRPC_AUDIENCE");
    let env_doc = [
        " The variable [`client_from_env`] reads the address from (the service name without a"
            .to_owned(),
        " trailing `Service`, in upper snake case, then `_GRPC_ADDR`). `GRPC_NO_TLS=1` gives"
            .to_owned(),
        format!(" plaintext without tokens; `{audience_env}` overrides the token audience."),
    ];
    let from_env_doc = [
        format!(" A client of the service whose address is in `{address_env}` (seed 001's"),
        " convention): TLS and Google ID tokens, or plaintext without tokens when".to_owned(),
        " `GRPC_NO_TLS=1`.".to_owned(),
    ];
    quote! {
        /// The typed client over the runtime's channel (TLS, ID tokens, deadlines, retries).
        #deprecated
        pub type Client = super::#client_mod::#client_struct<#runtime::client::Channel>;

        #(#[doc = #env_doc])*
        pub const ADDRESS_ENV: &str = #address_env;

        /// A client of the service at `address`: a Cloud Run URL such as
        /// `https://svc-hash-uc.a.run.app` (TLS on 443, an ID token for `https://<host>` on every
        /// call), or `http://host:port` for plaintext.
        #deprecated
        pub async fn client(
            address: &str,
        ) -> ::core::result::Result<Client, #runtime::client::ClientError> {
            client_with(#runtime::client::ClientConfig::new(address)).await
        }

        #(#[doc = #from_env_doc])*
        #deprecated
        pub async fn client_from_env() -> ::core::result::Result<Client, #runtime::client::ClientError> {
            client_with(#runtime::client::ClientConfig::from_env(ADDRESS_ENV)?).await
        }

        /// A client from a full configuration (token source, deadlines, retries); the
        /// service's method table is added to it.
        #deprecated
        pub async fn client_with(
            config: #runtime::client::ClientConfig,
        ) -> ::core::result::Result<Client, #runtime::client::ClientError> {
            let channel = config.methods(METHODS).connect().await?;
            ::core::result::Result::Ok(super::#client_mod::#client_struct::new(channel))
        }
    }
}

/// An identifier from a name the model computed (`r#type` style names become raw identifiers).
pub fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

/// `::cloudrun_runtime` as written, for documentation.
fn path_text(path: &syn::Path) -> String {
    let mut text = String::new();
    if path.leading_colon.is_some() {
        text.push_str("::");
    }
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    text.push_str(&segments.join("::"));
    text
}
