//! The small model the emitters work from: packages, their services and methods, with every Rust
//! name computed here, once. Emitters only read names; they never build them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use prost_build::Module;
use prost_types::{DescriptorProto, FileDescriptorProto, field_descriptor_proto::Type};

use crate::Error;
use crate::auth;
use crate::ident;
use crate::input::Input;
use crate::params::Params;

/// The package of the well-known types, which prost-types provides unless
/// `compile_well_known_types` is set.
pub const WELL_KNOWN_PACKAGE: &str = "google.protobuf";

/// Everything to generate, in a deterministic order.
#[derive(Debug)]
pub struct Model {
    /// Packages sorted by proto package name.
    pub packages: Vec<Package>,
    /// Fully qualified names (`.pkg.Msg`) of messages to mark `#[deprecated]`.
    pub deprecated_messages: Vec<String>,
    /// Fully qualified names (`.pkg.Enum`) of enums to mark `#[deprecated]`.
    pub deprecated_enums: Vec<String>,
    /// Whether an RPC takes or returns a wrapper type that prost maps to a Rust primitive.
    pub rpc_uses_primitive_wrappers: bool,
}

/// One proto package: one generated `.rs` file and one module.
#[derive(Debug)]
pub struct Package {
    /// Proto package name, empty for files without a `package` statement.
    pub name: String,
    /// Rust module path of the package, one identifier per component (`r#type`, `v1`).
    pub module: Vec<String>,
    /// Name of the generated file (`catalog.v1.rs`, `_.rs` for the empty package).
    pub file_name: String,
    /// Indices into [`Input::files`] of the package's files to generate, sorted by file name.
    pub files: Vec<usize>,
    /// Indices into [`Input::files`] of those files and all their imports, imports first: the
    /// embedded descriptor set.
    pub descriptor_set: Vec<usize>,
    /// The package's services, in file order.
    pub services: Vec<Service>,
}

impl Package {
    /// The prost-build module this package is generated into.
    pub fn prost_module(&self) -> Module {
        Module::from_parts(self.module.iter().map(String::as_str))
    }
}

/// A service and the names of everything generated for it.
#[derive(Debug, Clone)]
pub struct Service {
    /// Fully qualified name (`catalog.ProductCatalog`), what gRPC, health and reflection use.
    pub full_name: String,
    /// The `.proto` file declaring the service.
    pub file: String,
    /// Whether the service or its file is deprecated.
    pub deprecated: bool,
    /// Rust names of the generated items.
    pub names: ServiceNames,
    /// The environment variable `client_from_env` reads the service's address from
    /// (`TRAINER_GRPC_ADDR` for `TrainerService`).
    pub address_env: String,
    /// The service's methods, in proto order.
    pub methods: Vec<Method>,
}

/// Rust names generated for a service, as prost-build and tonic-build spell them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceNames {
    /// The server trait (`ProductCatalog`), prost-build's name for the service.
    pub service: String,
    /// tonic's client module (`product_catalog_client`).
    pub client_mod: String,
    /// tonic's client struct (`ProductCatalogClient`).
    pub client_struct: String,
    /// tonic's server module (`product_catalog_server`).
    pub server_mod: String,
    /// tonic's server struct (`ProductCatalogServer`).
    pub server_struct: String,
    /// The Cloud Run glue module (`product_catalog_cloudrun`).
    pub glue_mod: String,
}

impl ServiceNames {
    fn new(proto_name: &str) -> ServiceNames {
        let service = ident::to_upper_camel(proto_name);
        let snake = ident::tonic_snake(&service);
        ServiceNames {
            client_mod: format!("{snake}_client"),
            client_struct: format!("{service}Client"),
            server_mod: format!("{snake}_server"),
            server_struct: format!("{service}Server"),
            glue_mod: format!("{snake}_cloudrun"),
            service,
        }
    }
}

/// An RPC.
#[derive(Debug, Clone)]
pub struct Method {
    /// Rust method name (`get_product`), as tonic-build names the trait and client methods.
    pub rust_name: String,
    /// The HTTP/2 path, `/package.Service/Method`.
    pub path: String,
    /// Whether the method is deprecated.
    pub deprecated: bool,
    /// The `idempotency_level` option.
    pub idempotency: Idempotency,
    /// Whether the request is a stream.
    pub client_streaming: bool,
    /// Whether the response is a stream.
    pub server_streaming: bool,
    /// Who may call it: its `(cloudrun.auth.method)` rule, else its service's
    /// `(cloudrun.auth.service)` rule.
    pub auth: Option<auth::Rule>,
}

/// `MethodOptions.idempotency_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// `IDEMPOTENCY_UNKNOWN` or unset.
    Unknown,
    /// `NO_SIDE_EFFECTS`.
    NoSideEffects,
    /// `IDEMPOTENT`.
    Idempotent,
}

/// The variable a service's address is read from: the service name without a trailing
/// `Service`, in upper snake case, then `_GRPC_ADDR` (seed 001's `TRAINER_GRPC_ADDR` for
/// `TrainerService`; `PRODUCT_CATALOG_GRPC_ADDR` for `ProductCatalog`).
pub fn address_env(proto_name: &str) -> String {
    let base = match proto_name.strip_suffix("Service") {
        Some(base) if !base.is_empty() && !base.ends_with('_') => base,
        _ => proto_name,
    };
    format!(
        "{}_GRPC_ADDR",
        heck::ToShoutySnakeCase::to_shouty_snake_case(base)
    )
}

impl Model {
    /// Builds the model for `input`, checking that the generated code can compile on its own.
    pub fn build(input: &Input, params: &Params) -> Result<Model, Error> {
        for file in &input.files {
            if file.syntax() == "editions" {
                return Err(Error::Unsupported {
                    file: file.name().to_string(),
                    what: "Protobuf Editions (prost-build 0.14 generates proto2 and proto3)"
                        .to_string(),
                });
            }
        }
        let index_of: HashMap<&str, usize> = input
            .files
            .iter()
            .enumerate()
            .map(|(i, file)| (file.name(), i))
            .collect();

        // Files to generate, by package. prost-types already has the well-known types.
        let mut by_package: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for name in &input.file_to_generate {
            let index = index_of[name.as_str()];
            let file = &input.files[index];
            if file.package() == WELL_KNOWN_PACKAGE && !params.compile_well_known_types {
                continue;
            }
            // The options' own file: the runtime holds the rules, nothing to generate.
            if file.package() == auth::AUTH_PACKAGE {
                continue;
            }
            by_package
                .entry(file.package().to_string())
                .or_default()
                .push(index);
        }
        for files in by_package.values_mut() {
            files.sort_by(|a, b| input.files[*a].name().cmp(input.files[*b].name()));
            files.dedup();
        }
        let generated: HashSet<usize> = by_package.values().flatten().copied().collect();

        check_references(input, params, &generated)?;

        let mut packages = Vec::with_capacity(by_package.len());
        let mut modules: HashMap<Vec<String>, String> = HashMap::new();
        for (name, files) in by_package {
            let module: Vec<String> = Module::from_protobuf_package_name(&name)
                .parts()
                .map(str::to_string)
                .collect();
            if let Some(other) = modules.insert(module.clone(), name.clone()) {
                return Err(Error::Conflict(format!(
                    "packages `{other}` and `{name}` both become the Rust module `{}`; \
                     rename one of them or generate them separately",
                    module.join("::")
                )));
            }
            let file_name = if name.is_empty() {
                "_.rs".to_string()
            } else {
                format!("{name}.rs")
            };
            if file_name == params.mod_file {
                return Err(Error::Conflict(format!(
                    "package `{name}` is generated into `{file_name}`, the module tree file; \
                     choose another name with the `mod_file` option"
                )));
            }
            let descriptor_set = import_closure(input, &index_of, &files);
            let mut services = Vec::new();
            for &index in &files {
                services.extend(services_of(&input.files[index], &input.encoded[index])?);
            }
            packages.push(Package {
                name,
                module,
                file_name,
                files,
                descriptor_set,
                services,
            });
        }
        check_glue_names(input, &packages)?;

        let mut deprecated_messages = Vec::new();
        let mut deprecated_enums = Vec::new();
        for &index in &generated {
            let file = &input.files[index];
            let file_deprecated = file.options.as_ref().is_some_and(|o| o.deprecated());
            let prefix = fq_prefix(file.package());
            for message in &file.message_type {
                collect_deprecated_message(
                    &prefix,
                    message,
                    Marking {
                        file_deprecated,
                        ancestor_marked: false,
                    },
                    &mut deprecated_messages,
                    &mut deprecated_enums,
                );
            }
            for enumeration in &file.enum_type {
                let deprecated = enumeration.options.as_ref().is_some_and(|o| o.deprecated());
                if file_deprecated || deprecated {
                    deprecated_enums.push(format!("{prefix}.{}", enumeration.name()));
                }
            }
        }
        deprecated_messages.sort();
        deprecated_enums.sort();

        let rpc_uses_primitive_wrappers = !params.compile_well_known_types
            && generated.iter().any(|&index| {
                input.files[index]
                    .service
                    .iter()
                    .flat_map(|service| &service.method)
                    .any(|method| {
                        is_primitive_wrapper(method.input_type())
                            || is_primitive_wrapper(method.output_type())
                    })
            });

        if rpc_uses_primitive_wrappers {
            check_primitive_lookalikes(input, &generated)?;
        }

        Ok(Model {
            packages,
            deprecated_messages,
            deprecated_enums,
            rpc_uses_primitive_wrappers,
        })
    }

    /// The package that generates file `index`, if any.
    pub fn package_of_file(&self, index: usize) -> Option<&Package> {
        self.packages.iter().find(|p| p.files.contains(&index))
    }

    /// Every service, by full name.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.packages.iter().flat_map(|p| &p.services)
    }
}

/// `.pkg` for a package, `` for the empty one: the prefix of fully qualified names.
fn fq_prefix(package: &str) -> String {
    if package.is_empty() {
        String::new()
    } else {
        format!(".{package}")
    }
}

fn services_of(file: &FileDescriptorProto, encoded: &[u8]) -> Result<Vec<Service>, Error> {
    use prost_types::method_options::IdempotencyLevel;
    let file_deprecated = file.options.as_ref().is_some_and(|o| o.deprecated());
    let mut rules = auth::method_rules(file.name(), encoded)?.into_iter();
    Ok(file
        .service
        .iter()
        .map(|service| {
            let mut method_rules = rules.next().unwrap_or_default().into_iter();
            let full_name = if file.package().is_empty() {
                service.name().to_string()
            } else {
                format!("{}.{}", file.package(), service.name())
            };
            Service {
                file: file.name().to_string(),
                deprecated: file_deprecated
                    || service.options.as_ref().is_some_and(|o| o.deprecated()),
                names: ServiceNames::new(service.name()),
                address_env: address_env(service.name()),
                methods: service
                    .method
                    .iter()
                    .map(|method| Method {
                        rust_name: ident::to_snake(method.name()),
                        path: format!("/{full_name}/{}", method.name()),
                        deprecated: method.options.as_ref().is_some_and(|o| o.deprecated()),
                        idempotency: match method.options.as_ref().map(|o| o.idempotency_level()) {
                            Some(IdempotencyLevel::NoSideEffects) => Idempotency::NoSideEffects,
                            Some(IdempotencyLevel::Idempotent) => Idempotency::Idempotent,
                            _ => Idempotency::Unknown,
                        },
                        client_streaming: method.client_streaming(),
                        server_streaming: method.server_streaming(),
                        auth: method_rules.next().flatten(),
                    })
                    .collect(),
                full_name,
            }
        })
        .collect())
}

/// How deprecation reaches a message from outside it.
#[derive(Clone, Copy)]
struct Marking {
    /// The message's file is deprecated (top-level messages only).
    file_deprecated: bool,
    /// An enclosing message already carries `#[deprecated]`.
    ancestor_marked: bool,
}

/// Deprecated messages and enums under `message`. prost-build matches attribute paths by prefix,
/// so an attribute on a message also lands on the messages nested in it: nested items of an item
/// already marked are skipped, as a second `#[deprecated]` would not compile.
fn collect_deprecated_message(
    parent: &str,
    message: &DescriptorProto,
    marking: Marking,
    messages: &mut Vec<String>,
    enums: &mut Vec<String>,
) {
    let path = format!("{parent}.{}", message.name());
    let deprecated =
        marking.file_deprecated || message.options.as_ref().is_some_and(|o| o.deprecated());
    if deprecated && !marking.ancestor_marked {
        // The enum attribute covers the nested enums and oneofs, which message attributes miss.
        messages.push(path.clone());
        enums.push(path.clone());
    }
    let marked = marking.ancestor_marked || deprecated;
    for nested in &message.nested_type {
        if nested.options.as_ref().is_some_and(|o| o.map_entry()) {
            continue;
        }
        let marking = Marking {
            file_deprecated: false,
            ancestor_marked: marked,
        };
        collect_deprecated_message(&path, nested, marking, messages, enums);
    }
    if !marked {
        for enumeration in &message.enum_type {
            if enumeration.options.as_ref().is_some_and(|o| o.deprecated()) {
                enums.push(format!("{path}.{}", enumeration.name()));
            }
        }
    }
}

/// Imports of `files`, transitively, with `files` themselves, in input (topological) order.
fn import_closure(input: &Input, index_of: &HashMap<&str, usize>, files: &[usize]) -> Vec<usize> {
    let mut seen: BTreeSet<usize> = BTreeSet::new();
    let mut stack: Vec<usize> = files.to_vec();
    while let Some(index) = stack.pop() {
        if seen.insert(index) {
            for dependency in &input.files[index].dependency {
                if let Some(&dep) = index_of.get(dependency.as_str()) {
                    stack.push(dep);
                }
            }
        }
    }
    // Input order has imports before importers (protoc, buf and protox all send it that way).
    seen.into_iter().collect()
}

fn is_primitive_wrapper(type_name: &str) -> bool {
    matches!(
        type_name,
        ".google.protobuf.BoolValue"
            | ".google.protobuf.DoubleValue"
            | ".google.protobuf.FloatValue"
            | ".google.protobuf.Int32Value"
            | ".google.protobuf.Int64Value"
            | ".google.protobuf.UInt32Value"
            | ".google.protobuf.UInt64Value"
    )
}

/// Rust primitives that prost maps wrapper types to, and tonic-build recognises by suffix.
const PRIMITIVES: &[&str] = &["bool", "i32", "i64", "u32", "u64", "f32", "f64"];

/// Once an RPC uses a wrapper type that is a Rust primitive, tonic-build recognises primitives
/// by the end of the type name, so a message whose Rust name ends like one (`Cpu64`) used by an
/// RPC would be taken for a primitive and lose its path.
fn check_primitive_lookalikes(input: &Input, generated: &HashSet<usize>) -> Result<(), Error> {
    let mut sorted: Vec<usize> = generated.iter().copied().collect();
    sorted.sort_unstable();
    for index in sorted {
        let file = &input.files[index];
        for service in &file.service {
            for method in &service.method {
                for type_name in [method.input_type(), method.output_type()] {
                    if is_primitive_wrapper(type_name) {
                        continue;
                    }
                    let rust_name =
                        ident::to_upper_camel(type_name.rsplit('.').next().unwrap_or(type_name));
                    if let Some(primitive) = PRIMITIVES.iter().find(|p| rust_name.ends_with(*p)) {
                        return Err(Error::Conflict(format!(
                            "{}: method `{}.{}` uses `{type_name}` (Rust `{rust_name}`) while another \
                             RPC uses a wrapper type that prost maps to a Rust primitive; tonic-build \
                             would then take `{rust_name}` for the primitive `{primitive}`. Rename \
                             the message, or use a message of your own instead of the wrapper type",
                            file.name(),
                            service.name(),
                            method.name(),
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Every type the generated code names must be generated too, or mapped to existing Rust code;
/// otherwise the output cannot compile, and it is better to say so now, naming the way out.
fn check_references(
    input: &Input,
    params: &Params,
    generated: &HashSet<usize>,
) -> Result<(), Error> {
    let mut defined_in: HashMap<String, usize> = HashMap::new();
    for (index, file) in input.files.iter().enumerate() {
        let prefix = fq_prefix(file.package());
        for message in &file.message_type {
            index_message(&prefix, message, index, &mut defined_in);
        }
        for enumeration in &file.enum_type {
            defined_in.insert(format!("{prefix}.{}", enumeration.name()), index);
        }
    }
    let resolvable = |type_name: &str| -> bool {
        let Some(&index) = defined_in.get(type_name) else {
            // protoc resolved every name already; an unknown one is not ours to judge.
            return true;
        };
        generated.contains(&index)
            || (!params.compile_well_known_types
                && input.files[index].package() == WELL_KNOWN_PACKAGE)
            || params.extern_paths.iter().any(|(proto, _)| {
                type_name == proto
                    || type_name
                        .strip_prefix(proto.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
    };
    let mut sorted: Vec<usize> = generated.iter().copied().collect();
    sorted.sort_by(|a, b| input.files[*a].name().cmp(input.files[*b].name()));
    for index in sorted {
        let file = &input.files[index];
        let mut uses: Vec<(String, &str)> = Vec::new();
        let prefix = fq_prefix(file.package());
        for message in &file.message_type {
            message_uses(&prefix, message, &mut uses);
        }
        for service in &file.service {
            for method in &service.method {
                let rpc = format!("{prefix}.{}.{}", service.name(), method.name());
                let rpc = rpc.trim_start_matches('.');
                uses.push((format!("method `{rpc}`"), method.input_type()));
                uses.push((format!("method `{rpc}`"), method.output_type()));
            }
        }
        for (user, type_name) in uses {
            if !resolvable(type_name) {
                let defining = &input.files[defined_in[type_name]];
                let package = defining.package();
                return Err(Error::Unresolved(format!(
                    "{file}: {user} uses `{type_name}` from {defining_file}, which is not generated \
                     in this run, so the generated code could not compile. Generate {defining_file} \
                     too (protoc: list it; buf: `include_imports: true` if it comes from a \
                     dependency, and `strategy: all` because buf's default runs this plugin once \
                     per directory), or map its package to existing Rust code with \
                     `extern_path=.{package}=::some_crate::{module}`",
                    file = file.name(),
                    defining_file = defining.name(),
                    module = package.replace('.', "::"),
                )));
            }
        }
    }
    Ok(())
}

fn index_message(
    parent: &str,
    message: &DescriptorProto,
    file: usize,
    defined_in: &mut HashMap<String, usize>,
) {
    let path = format!("{parent}.{}", message.name());
    for nested in &message.nested_type {
        index_message(&path, nested, file, defined_in);
    }
    for enumeration in &message.enum_type {
        defined_in.insert(format!("{path}.{}", enumeration.name()), file);
    }
    defined_in.insert(path, file);
}

fn message_uses<'a>(parent: &str, message: &'a DescriptorProto, uses: &mut Vec<(String, &'a str)>) {
    let path = format!("{parent}.{}", message.name());
    for field in &message.field {
        if matches!(field.r#type(), Type::Message | Type::Enum | Type::Group) {
            uses.push((
                format!("field `{}.{}`", path.trim_start_matches('.'), field.name()),
                field.type_name(),
            ));
        }
    }
    for nested in &message.nested_type {
        message_uses(&path, nested, uses);
    }
}

/// The glue module of a service must not take a name that prost-build or tonic-build already
/// use in the same Rust module.
fn check_glue_names(input: &Input, packages: &[Package]) -> Result<(), Error> {
    for package in packages {
        let mut taken: HashMap<String, String> = HashMap::new();
        for &index in &package.files {
            for message in &input.files[index].message_type {
                taken.insert(
                    ident::to_snake(message.name()),
                    format!("the nested-type module of message `{}`", message.name()),
                );
            }
        }
        for other in packages {
            if other.module.len() == package.module.len() + 1
                && other.module.starts_with(&package.module)
            {
                taken.insert(
                    other.module[package.module.len()].clone(),
                    format!("the module of package `{}`", other.name),
                );
            }
        }
        for service in &package.services {
            taken.insert(
                service.names.client_mod.clone(),
                format!("the client module of `{}`", service.full_name),
            );
            taken.insert(
                service.names.server_mod.clone(),
                format!("the server module of `{}`", service.full_name),
            );
        }
        for service in &package.services {
            if let Some(owner) = taken.get(&service.names.glue_mod) {
                return Err(Error::Conflict(format!(
                    "{}: the Cloud Run glue module `{}` of service `{}` would collide with {owner}; \
                     rename one of them",
                    service.file, service.names.glue_mod, service.full_name
                )));
            }
            taken.insert(
                service.names.glue_mod.clone(),
                format!("the Cloud Run glue module of `{}`", service.full_name),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ServiceNames;

    #[test]
    fn service_names_match_tonic() {
        let names = ServiceNames::new("ProductCatalog");
        assert_eq!(
            names,
            ServiceNames {
                service: "ProductCatalog".into(),
                client_mod: "product_catalog_client".into(),
                client_struct: "ProductCatalogClient".into(),
                server_mod: "product_catalog_server".into(),
                server_struct: "ProductCatalogServer".into(),
                glue_mod: "product_catalog_cloudrun".into(),
            }
        );
        let names = ServiceNames::new("Server");
        assert_eq!(names.server_mod, "server_server");
        assert_eq!(names.server_struct, "ServerServer");
        assert_eq!(names.glue_mod, "server_cloudrun");
        let names = ServiceNames::new("HTTPGateway");
        assert_eq!(names.service, "HttpGateway");
        assert_eq!(names.glue_mod, "http_gateway_cloudrun");
    }

    #[test]
    fn address_variables_follow_seed_001() {
        for (service, variable) in [
            ("TrainerService", "TRAINER_GRPC_ADDR"),
            ("UsersService", "USERS_GRPC_ADDR"),
            ("ProductCatalog", "PRODUCT_CATALOG_GRPC_ADDR"),
            ("Service", "SERVICE_GRPC_ADDR"),
            ("HTTPGatewayService", "HTTP_GATEWAY_GRPC_ADDR"),
            ("my_service", "MY_SERVICE_GRPC_ADDR"),
        ] {
            assert_eq!(super::address_env(service), variable, "{service}");
        }
    }
}
