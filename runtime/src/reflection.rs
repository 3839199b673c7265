//! gRPC server reflection, v1 and v1alpha (grpcurl and `buf curl` still ask for v1alpha), through
//! tonic-reflection, over the descriptors of every registered service and of the runtime's own
//! health and reflection services.
//!
//! Services generated from the same proto tree share files (imports, or two services in one
//! file); each file is served once. The listed services are exactly the ones this server serves.

use std::collections::HashMap;

use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet};
use tonic::service::Routes;
use tonic_reflection::server::Builder;

use crate::Error;
use crate::health::HEALTH_SERVICE;

pub(crate) const REFLECTION_V1: &str = "grpc.reflection.v1.ServerReflection";
pub(crate) const REFLECTION_V1ALPHA: &str = "grpc.reflection.v1alpha.ServerReflection";

/// Collects descriptor files, one per file name.
#[derive(Default)]
pub(crate) struct Descriptors {
    files: Vec<FileDescriptorProto>,
    index: HashMap<String, usize>,
    services: Vec<&'static str>,
}

impl Descriptors {
    /// Adds the files of `service`'s encoded `FileDescriptorSet`, checking that it declares the
    /// service. A file already added under the same name is kept; if the two differ, `conflict`
    /// is told the file's name (reflection then describes the first one).
    pub(crate) fn add_service(
        &mut self,
        service: &'static str,
        encoded: &[u8],
        conflict: &mut dyn FnMut(&str),
    ) -> Result<(), Error> {
        let set = FileDescriptorSet::decode(encoded).map_err(|e| {
            Error::service(
                service,
                format!("its encoded FileDescriptorSet does not decode ({e}); regenerate the code"),
            )
        })?;
        if !declares(&set, service) {
            return Err(Error::service(
                service,
                format!(
                    "its FileDescriptorSet ({} files) declares no service named {service:?}; \
                     pass the set generated for this service (with all its imports)",
                    set.file.len()
                ),
            ));
        }
        for file in set.file {
            let Some(name) = file.name.clone() else {
                return Err(Error::service(
                    service,
                    "its FileDescriptorSet holds a file without a name; regenerate the code",
                ));
            };
            match self.index.get(&name) {
                Some(&i) if self.files[i] != file => conflict(&name),
                Some(_) => {}
                None => {
                    self.index.insert(name, self.files.len());
                    self.files.push(file);
                }
            }
        }
        self.services.push(service);
        Ok(())
    }

    /// Adds reflection v1 and v1alpha for the collected services plus the runtime's own.
    pub(crate) fn add_reflection(mut self, routes: Routes) -> Result<Routes, Error> {
        for (service, encoded) in [
            (HEALTH_SERVICE, tonic_health::pb::FILE_DESCRIPTOR_SET),
            (REFLECTION_V1, tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET),
            (
                REFLECTION_V1ALPHA,
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            ),
        ] {
            self.add_service(service, encoded, &mut |_| {})?;
        }
        let set = FileDescriptorSet { file: self.files };
        let builder = || {
            self.services.iter().fold(
                Builder::configure()
                    .include_reflection_service(false)
                    .register_file_descriptor_set(set.clone()),
                |builder, name| builder.with_service_name(*name),
            )
        };
        let failed = |e: tonic_reflection::server::Error| {
            Error::service(
                REFLECTION_V1,
                format!("the registered descriptors cannot be served by reflection: {e}"),
            )
        };
        let v1 = builder().build_v1().map_err(failed)?;
        let v1alpha = builder().build_v1alpha().map_err(failed)?;
        Ok(routes.add_service(v1).add_service(v1alpha))
    }
}

fn declares(set: &FileDescriptorSet, service: &str) -> bool {
    set.file.iter().any(|file| {
        let package = file.package();
        file.service.iter().any(|s| {
            if package.is_empty() {
                s.name() == service
            } else {
                service
                    .strip_prefix(package)
                    .and_then(|rest| rest.strip_prefix('.'))
                    == Some(s.name())
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::ServiceDescriptorProto;

    fn file(name: &str, package: &str, services: &[&str], deps: &[&str]) -> FileDescriptorProto {
        FileDescriptorProto {
            name: Some(name.into()),
            package: Some(package.into()),
            dependency: deps.iter().map(|d| d.to_string()).collect(),
            service: services
                .iter()
                .map(|s| ServiceDescriptorProto {
                    name: Some(s.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn encode(files: Vec<FileDescriptorProto>) -> Vec<u8> {
        FileDescriptorSet { file: files }.encode_to_vec()
    }

    #[test]
    fn shared_files_are_kept_once() {
        let common = file("common.proto", "shop", &[], &[]);
        let a = encode(vec![
            common.clone(),
            file("a.proto", "shop", &["A"], &["common.proto"]),
        ]);
        let b = encode(vec![
            common,
            file("b.proto", "shop", &["B"], &["common.proto"]),
        ]);
        let mut d = Descriptors::default();
        let mut conflicts = Vec::new();
        d.add_service("shop.A", &a, &mut |f| conflicts.push(f.to_owned()))
            .unwrap();
        d.add_service("shop.B", &b, &mut |f| conflicts.push(f.to_owned()))
            .unwrap();
        let names: Vec<_> = d.files.iter().map(|f| f.name()).collect();
        assert_eq!(names, ["common.proto", "a.proto", "b.proto"]);
        assert!(conflicts.is_empty());
        assert_eq!(d.services, ["shop.A", "shop.B"]);
    }

    #[test]
    fn differing_files_with_one_name_are_reported() {
        let a = encode(vec![file("x.proto", "p", &["A"], &[])]);
        let b = encode(vec![file("x.proto", "p", &["A", "B"], &[])]);
        let mut d = Descriptors::default();
        let mut conflicts = Vec::new();
        d.add_service("p.A", &a, &mut |f| conflicts.push(f.to_owned()))
            .unwrap();
        d.add_service("p.B", &b, &mut |f| conflicts.push(f.to_owned()))
            .unwrap();
        assert_eq!(conflicts, ["x.proto"]);
    }

    #[test]
    fn a_set_without_the_service_is_an_error_naming_it() {
        let mut d = Descriptors::default();
        let set = encode(vec![file("x.proto", "p", &["Other"], &[])]);
        let err = d.add_service("p.Missing", &set, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string()
                .contains("declares no service named \"p.Missing\""),
            "{err}"
        );
        let err = d
            .add_service("p.Missing", b"\xff\xff", &mut |_| {})
            .unwrap_err();
        assert!(err.to_string().contains("does not decode"), "{err}");
    }

    #[test]
    fn service_names_match_package_and_name_exactly() {
        let set = FileDescriptorSet {
            file: vec![
                file("x.proto", "a.b", &["S"], &[]),
                file("y.proto", "", &["T"], &[]),
            ],
        };
        assert!(declares(&set, "a.b.S"));
        assert!(declares(&set, "T"));
        assert!(!declares(&set, "a.bxS"));
        assert!(!declares(&set, "a.b.SS"));
        assert!(!declares(&set, "S"));
    }
}
