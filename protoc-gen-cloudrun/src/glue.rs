//! The Cloud Run glue of one service: a module with its full name, a [`ServiceDef`] constructor
//! and a `serve` entry point, all in fully qualified paths so that no proto name (a message called
//! `Result` or `Server`, a method called `Serve`) can shadow what the glue means.
//!
//! [`ServiceDef`]: https://docs.rs/cloudrun-runtime

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::model::Service;

/// Emits the glue module for `service`; `runtime` is the runtime crate's path.
pub fn service_glue(service: &Service, runtime: &syn::Path) -> TokenStream {
    let names = &service.names;
    let glue_mod = ident(&names.glue_mod);
    let server_mod = ident(&names.server_mod);
    let service_trait = ident(&names.service);
    let server_struct = ident(&names.server_struct);
    let full_name = &service.full_name;
    let deprecated = service.deprecated.then(|| quote!(#[deprecated]));

    let module_doc =
        format!(" Cloud Run glue for `{full_name}`: serve an implementation with `serve`,");
    let module_doc_more = format!(
        " or add `service(...)` to a `{}::Server` with other services.",
        path_text(runtime)
    );
    let service_doc = format!(
        " Wraps an implementation for `{}::Server::add_service`.",
        path_text(runtime)
    );
    quote! {
        #[doc = #module_doc]
        #[doc = #module_doc_more]
        pub mod #glue_mod {
            /// Full name of the service, as health checks and reflection know it.
            pub const SERVICE_NAME: &str = #full_name;

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
