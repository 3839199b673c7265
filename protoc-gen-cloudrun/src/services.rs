//! The service generator plugged into prost-build: tonic-build's client and server, with
//! deprecation carried onto them, followed by the Cloud Run glue.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::Error;
use crate::glue;
use crate::model::{Model, Service};
use crate::params::Params;

/// Wraps tonic-prost-build's service generator.
pub struct CloudRunServices {
    tonic: Box<dyn prost_build::ServiceGenerator>,
    services: HashMap<String, Service>,
    runtime_crate: Option<syn::Path>,
    sides: glue::Sides,
    errors: Rc<RefCell<Vec<Error>>>,
}

impl CloudRunServices {
    /// A generator for the services of `model`. prost-build's trait cannot return errors, so they
    /// are collected in `errors` for the caller to report after generation.
    pub fn new(
        model: &Model,
        params: &Params,
        errors: Rc<RefCell<Vec<Error>>>,
    ) -> Result<CloudRunServices, Error> {
        // tonic-build matches full service and method names (`pkg.Service`), without the dot.
        let tonic_disabled = params
            .disable_comments
            .iter()
            .map(|p| p.trim_start_matches('.'));
        let tonic = tonic_prost_build::configure()
            .disable_comments(tonic_disabled)
            .build_client(params.client)
            .build_server(params.server)
            // `connect` would need tonic's `transport` feature in the user's crate; channels come
            // from the runtime (or tonic) instead, and the output does not depend on features.
            .build_transport(false)
            .compile_well_known_types(params.compile_well_known_types)
            .service_generator();
        let runtime_crate = if params.server || params.client {
            Some(
                syn::parse_str::<syn::Path>(&params.runtime_crate).map_err(|_| {
                    Error::Generate(format!("invalid runtime_crate `{}`", params.runtime_crate))
                })?,
            )
        } else {
            None
        };
        Ok(CloudRunServices {
            tonic,
            services: model
                .services()
                .map(|service| (service.full_name.clone(), service.clone()))
                .collect(),
            runtime_crate,
            sides: glue::Sides {
                server: params.server,
                client: params.client,
            },
            errors,
        })
    }
}

impl prost_build::ServiceGenerator for CloudRunServices {
    fn generate(&mut self, service: prost_build::Service, buf: &mut String) {
        let full_name = if service.package.is_empty() {
            service.proto_name.clone()
        } else {
            format!("{}.{}", service.package, service.proto_name)
        };
        let Some(model) = self.services.get(&full_name) else {
            // Imported files reach prost-build without their services, so every service here
            // is one the model knows.
            self.errors.borrow_mut().push(Error::Generate(format!(
                "service `{full_name}` is missing from the model; please report this with the \
                 request that caused it"
            )));
            return;
        };
        if model.names.service != service.name {
            self.errors.borrow_mut().push(Error::Generate(format!(
                "service `{full_name}`: prost-build names it `{}`, the glue expected `{}`",
                service.name, model.names.service
            )));
            return;
        }
        let mut code = String::new();
        self.tonic.generate(service, &mut code);
        if model.deprecated || model.methods.iter().any(|m| m.deprecated) {
            match mark_deprecated(&code, model) {
                Ok(marked) => code = marked,
                Err(error) => {
                    self.errors.borrow_mut().push(error);
                    return;
                }
            }
        }
        buf.push_str(&code);
        if let Some(runtime) = &self.runtime_crate {
            // prost-build's format pass is off, so the glue is laid out here, like tonic's code.
            match syn::parse2::<syn::File>(glue::service_glue(model, runtime, self.sides)) {
                Ok(file) => buf.push_str(&prettyplease::unparse(&file)),
                Err(error) => self.errors.borrow_mut().push(Error::Generate(format!(
                    "service `{full_name}`: the Cloud Run glue does not parse: {error}"
                ))),
            }
        }
    }

    fn finalize(&mut self, buf: &mut String) {
        self.tonic.finalize(buf);
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        self.tonic.finalize_package(package, buf);
    }
}

/// Adds `#[deprecated]` where tonic-build does not: on the client and server structs and the
/// server trait of a deprecated service, and on the trait methods of deprecated RPCs (tonic-build
/// marks only the client methods).
fn mark_deprecated(code: &str, service: &Service) -> Result<String, Error> {
    let mut file: syn::File = syn::parse_str(code).map_err(|error| {
        Error::Generate(format!(
            "service `{}`: cannot read tonic-build's output: {error}",
            service.full_name
        ))
    })?;
    let names = &service.names;
    let deprecated: syn::Attribute = syn::parse_quote!(#[deprecated]);
    let methods: Vec<&str> = service
        .methods
        .iter()
        .filter(|m| m.deprecated)
        .map(|m| m.rust_name.as_str())
        .collect();
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, items)) = module.content.as_mut() else {
            continue;
        };
        for item in items {
            match item {
                syn::Item::Struct(item)
                    if service.deprecated
                        && (item.ident == names.client_struct
                            || item.ident == names.server_struct) =>
                {
                    item.attrs.push(deprecated.clone());
                }
                syn::Item::Trait(item)
                    if module.ident == names.server_mod && item.ident == names.service =>
                {
                    if service.deprecated {
                        item.attrs.push(deprecated.clone());
                    }
                    for trait_item in &mut item.items {
                        if let syn::TraitItem::Fn(function) = trait_item {
                            if methods.iter().any(|m| function.sig.ident == m) {
                                function.attrs.push(deprecated.clone());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(prettyplease::unparse(&file))
}
