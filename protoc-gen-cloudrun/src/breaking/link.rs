//! A lean linker for parsed `.proto` files: converts them into our descriptors (interpreting
//! the standard options the rules read), then resolves type names in place the way protoc does.
//!
//! Linking is what the rules need from a compiler once files are parsed: full type names, and
//! whether a named type is a message or an enum. protox's descriptor pool does that and much
//! more (option interpretation, validation, reflection-ready copies), which on large APIs is
//! most of the time and memory a directory check costs. This linker does only the resolution,
//! and gives up (returns `None`) on anything it does not fully understand — an unresolved or
//! non-visible name, a duplicate symbol, a missing import, an option it does not know — so the
//! caller can compile with protox, which then reports the problem or knows better. When it
//! succeeds, it produces what protox would have for every field the rules read; the parity
//! tests and the googleapis benchmark compare the two.

use std::collections::{HashMap, HashSet};

use prost_types::uninterpreted_option::NamePart;
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    ServiceDescriptorProto, UninterpretedOption,
};

use super::descriptor as d;

/// What a name denotes; only kinds that matter to resolution are told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Package,
    Message,
    Enum,
    Service,
    /// Fields, oneofs, enum values, methods, extensions: names that resolve to no type.
    Other,
}

impl Kind {
    fn is_aggregate(self) -> bool {
        matches!(
            self,
            Kind::Package | Kind::Message | Kind::Enum | Kind::Service
        )
    }
    fn is_type(self) -> bool {
        matches!(self, Kind::Message | Kind::Enum)
    }
}

#[derive(Clone, Copy)]
struct Symbol {
    kind: Kind,
    file: u32,
}

/// Converts a parsed (or already linked) file into our descriptors, type names as written.
/// `None` when it holds an option this linker does not know.
pub(crate) fn convert(
    f: FileDescriptorProto,
    source_info: Option<Vec<u8>>,
) -> Option<d::FileProto> {
    let mut out = d::FileProto {
        name: f.name,
        package: f.package,
        dependency: f.dependency,
        public_dependency: f.public_dependency,
        syntax: f.syntax,
        source_code_info: source_info.map(Into::into),
        ..Default::default()
    };
    if let Some(o) = f.options {
        out.options = Some(file_options(o)?);
    }
    for m in f.message_type {
        out.message_type.push(message(m)?);
    }
    for e in f.enum_type {
        out.enum_type.push(enumeration(e)?);
    }
    for s in f.service {
        out.service.push(service(s)?);
    }
    for x in f.extension {
        out.extension.push(field(x)?);
    }
    Some(out)
}

/// Resolves every type name of `files` (module files and every import they need) in place.
/// `None` when protox should decide (unresolved or ambiguous names, missing imports).
pub(crate) fn link(files: &mut [d::FileProto]) -> Option<()> {
    let by_name: HashMap<&str, u32> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_deref().unwrap_or(""), i as u32))
        .collect();
    let mut symbols: HashMap<String, Symbol> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        collect_file(f, i as u32, &mut symbols)?;
    }
    let visible = visibility(files, &by_name)?;
    let linker = Linker { symbols, visible };
    for (i, f) in files.iter_mut().enumerate() {
        linker.file(i as u32, f)?;
    }
    Some(())
}

fn add(symbols: &mut HashMap<String, Symbol>, name: String, kind: Kind, file: u32) -> Option<()> {
    match symbols.get(&name) {
        // A package may be declared by many files; anything else only once.
        Some(existing) if existing.kind == Kind::Package && kind == Kind::Package => Some(()),
        Some(_) => None,
        None => {
            symbols.insert(name, Symbol { kind, file });
            Some(())
        }
    }
}

fn scoped(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_string()
    } else {
        format!("{scope}.{name}")
    }
}

fn name(n: &Option<String>) -> &str {
    n.as_deref().unwrap_or("")
}

fn collect_file(f: &d::FileProto, file: u32, symbols: &mut HashMap<String, Symbol>) -> Option<()> {
    let package = name(&f.package);
    if !package.is_empty() {
        let mut prefix = String::new();
        for part in package.split('.') {
            prefix = scoped(&prefix, part);
            add(symbols, prefix.clone(), Kind::Package, file)?;
        }
    }
    for m in &f.message_type {
        collect_message(m, package, file, symbols)?;
    }
    for e in &f.enum_type {
        collect_enum(e, package, file, symbols)?;
    }
    for s in &f.service {
        let full = scoped(package, name(&s.name));
        for m in &s.method {
            add(symbols, scoped(&full, name(&m.name)), Kind::Other, file)?;
        }
        add(symbols, full, Kind::Service, file)?;
    }
    for x in &f.extension {
        add(symbols, scoped(package, name(&x.name)), Kind::Other, file)?;
    }
    Some(())
}

fn collect_message(
    m: &d::MessageProto,
    scope: &str,
    file: u32,
    symbols: &mut HashMap<String, Symbol>,
) -> Option<()> {
    let full = scoped(scope, name(&m.name));
    add(symbols, full.clone(), Kind::Message, file)?;
    for f in m.field.iter().chain(&m.extension) {
        add(symbols, scoped(&full, name(&f.name)), Kind::Other, file)?;
    }
    for o in &m.oneof_decl {
        add(symbols, scoped(&full, name(&o.name)), Kind::Other, file)?;
    }
    for n in &m.nested_type {
        collect_message(n, &full, file, symbols)?;
    }
    for e in &m.enum_type {
        collect_enum(e, &full, file, symbols)?;
    }
    Some(())
}

fn collect_enum(
    e: &d::EnumProto,
    scope: &str,
    file: u32,
    symbols: &mut HashMap<String, Symbol>,
) -> Option<()> {
    add(symbols, scoped(scope, name(&e.name)), Kind::Enum, file)?;
    // Enum values are siblings of their enum (C++ scoping).
    for v in &e.value {
        add(symbols, scoped(scope, name(&v.name)), Kind::Other, file)?;
    }
    Some(())
}

/// protoc's visibility: a file sees itself, its imports, and what those publicly import.
fn visibility(files: &[d::FileProto], by_name: &HashMap<&str, u32>) -> Option<Vec<HashSet<u32>>> {
    fn public_closure(
        f: u32,
        files: &[d::FileProto],
        by_name: &HashMap<&str, u32>,
        memo: &mut HashMap<u32, HashSet<u32>>,
        depth: usize,
    ) -> Option<HashSet<u32>> {
        if let Some(done) = memo.get(&f) {
            return Some(done.clone());
        }
        // An import cycle is protox's to report.
        if depth > files.len() {
            return None;
        }
        let mut set = HashSet::from([f]);
        let desc = &files[f as usize];
        for &p in &desc.public_dependency {
            let dep = desc.dependency.get(usize::try_from(p).ok()?)?;
            let d = *by_name.get(dep.as_str())?;
            set.extend(public_closure(d, files, by_name, memo, depth + 1)?);
        }
        memo.insert(f, set.clone());
        Some(set)
    }
    let mut memo = HashMap::new();
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let mut set = HashSet::from([i as u32]);
        for dep in &f.dependency {
            let d = *by_name.get(dep.as_str())?;
            set.extend(public_closure(d, files, by_name, &mut memo, 0)?);
        }
        out.push(set);
    }
    Some(out)
}

struct Linker {
    symbols: HashMap<String, Symbol>,
    visible: Vec<HashSet<u32>>,
}

impl Linker {
    fn find(&self, file: u32, full: &str) -> Option<Kind> {
        let sym = self.symbols.get(full)?;
        (sym.kind == Kind::Package || self.visible[file as usize].contains(&sym.file))
            .then_some(sym.kind)
    }

    /// protoc's `LookupSymbol` for types: the full name and kind of `name` as written in the
    /// element whose full name is `relative_to`.
    fn resolve(&self, file: u32, relative_to: &str, name: &str) -> Option<(String, Kind)> {
        if let Some(full) = name.strip_prefix('.') {
            let kind = self.find(file, full)?;
            return kind.is_type().then(|| (full.to_string(), kind));
        }
        let first = name.split('.').next().unwrap_or(name);
        let mut scope = relative_to;
        loop {
            let Some(dot) = scope.rfind('.') else {
                let kind = self.find(file, name)?;
                return kind.is_type().then(|| (name.to_string(), kind));
            };
            scope = &scope[..dot];
            let candidate = format!("{scope}.{first}");
            if let Some(kind) = self.find(file, &candidate) {
                if first.len() < name.len() {
                    if kind.is_aggregate() {
                        let full = format!("{scope}.{name}");
                        let kind = self.find(file, &full)?;
                        return kind.is_type().then_some((full, kind));
                    }
                } else if kind.is_type() {
                    return Some((candidate, kind));
                }
            }
        }
    }

    fn file(&self, index: u32, f: &mut d::FileProto) -> Option<()> {
        let package = name(&f.package).to_string();
        for m in &mut f.message_type {
            self.message(index, &package, m)?;
        }
        for s in &mut f.service {
            self.service(index, &package, s)?;
        }
        for x in &mut f.extension {
            self.field(index, &package, x)?;
        }
        Some(())
    }

    fn message(&self, file: u32, scope: &str, m: &mut d::MessageProto) -> Option<()> {
        let full = scoped(scope, name(&m.name));
        for f in m.field.iter_mut().chain(m.extension.iter_mut()) {
            self.field(file, &full, f)?;
        }
        for n in &mut m.nested_type {
            self.message(file, &full, n)?;
        }
        Some(())
    }

    fn field(&self, file: u32, scope: &str, f: &mut d::FieldProto) -> Option<()> {
        let relative_to = scoped(scope, name(&f.name));
        if let Some(type_name) = f.type_name.as_deref() {
            let (full, kind) = self.resolve(file, &relative_to, type_name)?;
            match (f.r#type, kind) {
                (None, Kind::Message) => f.r#type = Some(d::field_type::MESSAGE),
                (None, Kind::Enum) => f.r#type = Some(d::field_type::ENUM),
                (Some(d::field_type::MESSAGE | d::field_type::GROUP), Kind::Message) => {}
                (Some(d::field_type::ENUM), Kind::Enum) => {}
                _ => return None,
            }
            f.type_name = Some(format!(".{full}"));
        }
        if let Some(extendee) = f.extendee.as_deref() {
            let (full, kind) = self.resolve(file, &relative_to, extendee)?;
            if kind != Kind::Message {
                return None;
            }
            f.extendee = Some(format!(".{full}"));
        }
        Some(())
    }

    fn service(&self, file: u32, scope: &str, s: &mut d::ServiceProto) -> Option<()> {
        let full = scoped(scope, name(&s.name));
        for m in &mut s.method {
            let relative_to = scoped(&full, name(&m.name));
            for slot in [&mut m.input_type, &mut m.output_type] {
                if let Some(written) = slot.as_deref() {
                    match self.resolve(file, &relative_to, written)? {
                        (full, Kind::Message) => *slot = Some(format!(".{full}")),
                        _ => return None,
                    }
                }
            }
        }
        Some(())
    }
}

fn message(m: DescriptorProto) -> Option<d::MessageProto> {
    let mut out = d::MessageProto {
        name: m.name,
        extension_range: m
            .extension_range
            .iter()
            .map(|r| d::Range {
                start: r.start,
                end: r.end,
            })
            .collect(),
        reserved_range: m
            .reserved_range
            .iter()
            .map(|r| d::Range {
                start: r.start,
                end: r.end,
            })
            .collect(),
        reserved_name: m.reserved_name,
        oneof_decl: m
            .oneof_decl
            .into_iter()
            .map(|o| d::OneofProto { name: o.name })
            .collect(),
        ..Default::default()
    };
    if let Some(o) = m.options {
        let mut opts = d::MessageOptions {
            message_set_wire_format: o.message_set_wire_format,
            no_standard_descriptor_accessor: o.no_standard_descriptor_accessor,
            deprecated: o.deprecated,
            map_entry: o.map_entry,
            features: None,
        };
        for u in &o.uninterpreted_option {
            match simple_name(u)? {
                "message_set_wire_format" => opts.message_set_wire_format = Some(boolean(u)?),
                "no_standard_descriptor_accessor" => {
                    opts.no_standard_descriptor_accessor = Some(boolean(u)?)
                }
                "deprecated" => opts.deprecated = Some(boolean(u)?),
                "map_entry" => opts.map_entry = Some(boolean(u)?),
                "deprecated_legacy_json_field_conflicts" => {
                    boolean(u)?;
                }
                _ => return None,
            }
        }
        out.options = Some(opts);
    }
    for f in m.field {
        out.field.push(field(f)?);
    }
    for x in m.extension {
        out.extension.push(field(x)?);
    }
    for n in m.nested_type {
        out.nested_type.push(message(n)?);
    }
    for e in m.enum_type {
        out.enum_type.push(enumeration(e)?);
    }
    Some(out)
}

fn field(f: FieldDescriptorProto) -> Option<d::FieldProto> {
    let options = match f.options {
        Some(o) => {
            let mut opts = d::FieldOptions {
                ctype: o.ctype,
                deprecated: o.deprecated,
                jstype: o.jstype,
                features: None,
            };
            for u in &o.uninterpreted_option {
                match simple_name(u)? {
                    "ctype" => {
                        opts.ctype = Some(match u.identifier_value.as_deref()? {
                            "STRING" => 0,
                            "CORD" => 1,
                            "STRING_PIECE" => 2,
                            _ => return None,
                        })
                    }
                    "jstype" => {
                        opts.jstype = Some(match u.identifier_value.as_deref()? {
                            "JS_NORMAL" => 0,
                            "JS_STRING" => 1,
                            "JS_NUMBER" => 2,
                            _ => return None,
                        })
                    }
                    "deprecated" => opts.deprecated = Some(boolean(u)?),
                    "packed" | "lazy" | "unverified_lazy" | "weak" | "debug_redact" => {
                        boolean(u)?;
                    }
                    _ => return None,
                }
            }
            Some(opts)
        }
        None => None,
    };
    Some(d::FieldProto {
        name: f.name,
        extendee: f.extendee,
        number: f.number,
        label: f.label,
        r#type: f.r#type,
        type_name: f.type_name,
        default_value: f.default_value,
        options,
        oneof_index: f.oneof_index,
        json_name: f.json_name,
        proto3_optional: f.proto3_optional,
    })
}

fn service(s: ServiceDescriptorProto) -> Option<d::ServiceProto> {
    let mut out = d::ServiceProto {
        name: s.name,
        ..Default::default()
    };
    if let Some(o) = s.options {
        let mut opts = d::ServiceOptions {
            deprecated: o.deprecated,
        };
        for u in &o.uninterpreted_option {
            match simple_name(u)? {
                "deprecated" => opts.deprecated = Some(boolean(u)?),
                _ => return None,
            }
        }
        out.options = Some(opts);
    }
    for m in s.method {
        let options = match m.options {
            Some(o) => {
                let mut opts = d::MethodOptions {
                    deprecated: o.deprecated,
                    idempotency_level: o.idempotency_level,
                };
                for u in &o.uninterpreted_option {
                    match simple_name(u)? {
                        "deprecated" => opts.deprecated = Some(boolean(u)?),
                        "idempotency_level" => {
                            opts.idempotency_level = Some(match u.identifier_value.as_deref()? {
                                "IDEMPOTENCY_UNKNOWN" => 0,
                                "NO_SIDE_EFFECTS" => 1,
                                "IDEMPOTENT" => 2,
                                _ => return None,
                            })
                        }
                        _ => return None,
                    }
                }
                Some(opts)
            }
            None => None,
        };
        out.method.push(d::MethodProto {
            name: m.name,
            input_type: m.input_type,
            output_type: m.output_type,
            options,
            client_streaming: m.client_streaming,
            server_streaming: m.server_streaming,
        });
    }
    Some(out)
}

fn enumeration(e: EnumDescriptorProto) -> Option<d::EnumProto> {
    let mut out = d::EnumProto {
        name: e.name,
        reserved_range: e
            .reserved_range
            .iter()
            .map(|r| d::Range {
                start: r.start,
                end: r.end,
            })
            .collect(),
        reserved_name: e.reserved_name,
        ..Default::default()
    };
    if let Some(o) = e.options {
        let mut opts = d::EnumOptions {
            deprecated: o.deprecated,
            features: None,
        };
        for u in &o.uninterpreted_option {
            match simple_name(u)? {
                "deprecated" => opts.deprecated = Some(boolean(u)?),
                "allow_alias" | "deprecated_legacy_json_field_conflicts" => {
                    boolean(u)?;
                }
                _ => return None,
            }
        }
        out.options = Some(opts);
    }
    for v in e.value {
        let options = match v.options {
            Some(o) => {
                let mut opts = d::EnumValueOptions {
                    deprecated: o.deprecated,
                };
                for u in &o.uninterpreted_option {
                    match simple_name(u)? {
                        "deprecated" => opts.deprecated = Some(boolean(u)?),
                        "debug_redact" => {
                            boolean(u)?;
                        }
                        _ => return None,
                    }
                }
                Some(opts)
            }
            None => None,
        };
        out.value.push(d::EnumValueProto {
            name: v.name,
            number: v.number,
            options,
        });
    }
    Some(out)
}

fn file_options(o: prost_types::FileOptions) -> Option<d::FileOptions> {
    let mut out = d::FileOptions {
        java_package: o.java_package,
        java_outer_classname: o.java_outer_classname,
        optimize_for: o.optimize_for,
        java_multiple_files: o.java_multiple_files,
        go_package: o.go_package,
        cc_generic_services: o.cc_generic_services,
        java_generic_services: o.java_generic_services,
        py_generic_services: o.py_generic_services,
        deprecated: o.deprecated,
        java_string_check_utf8: o.java_string_check_utf8,
        cc_enable_arenas: o.cc_enable_arenas,
        objc_class_prefix: o.objc_class_prefix,
        csharp_namespace: o.csharp_namespace,
        swift_prefix: o.swift_prefix,
        php_class_prefix: o.php_class_prefix,
        php_namespace: o.php_namespace,
        php_metadata_namespace: o.php_metadata_namespace,
        ruby_package: o.ruby_package,
        features: None,
    };
    for u in &o.uninterpreted_option {
        match simple_name(u)? {
            "java_package" => out.java_package = Some(string(u)?),
            "java_outer_classname" => out.java_outer_classname = Some(string(u)?),
            "go_package" => out.go_package = Some(string(u)?),
            "objc_class_prefix" => out.objc_class_prefix = Some(string(u)?),
            "csharp_namespace" => out.csharp_namespace = Some(string(u)?),
            "swift_prefix" => out.swift_prefix = Some(string(u)?),
            "php_class_prefix" => out.php_class_prefix = Some(string(u)?),
            "php_namespace" => out.php_namespace = Some(string(u)?),
            "php_metadata_namespace" => out.php_metadata_namespace = Some(string(u)?),
            "ruby_package" => out.ruby_package = Some(string(u)?),
            "java_multiple_files" => out.java_multiple_files = Some(boolean(u)?),
            "cc_generic_services" => out.cc_generic_services = Some(boolean(u)?),
            "java_generic_services" => out.java_generic_services = Some(boolean(u)?),
            "py_generic_services" => out.py_generic_services = Some(boolean(u)?),
            "deprecated" => out.deprecated = Some(boolean(u)?),
            "java_string_check_utf8" => out.java_string_check_utf8 = Some(boolean(u)?),
            "cc_enable_arenas" => out.cc_enable_arenas = Some(boolean(u)?),
            "java_generate_equals_and_hash" | "php_generic_services" => {
                boolean(u)?;
            }
            "optimize_for" => {
                out.optimize_for = Some(match u.identifier_value.as_deref()? {
                    "SPEED" => 1,
                    "CODE_SIZE" => 2,
                    "LITE_RUNTIME" => 3,
                    _ => return None,
                })
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The name of a standard option (`java_package`); `None` for extensions and sub-fields.
fn simple_name(u: &UninterpretedOption) -> Option<&str> {
    match &u.name[..] {
        [
            NamePart {
                name_part,
                is_extension: false,
            },
        ] => Some(name_part),
        _ => None,
    }
}

fn boolean(u: &UninterpretedOption) -> Option<bool> {
    match u.identifier_value.as_deref()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn string(u: &UninterpretedOption) -> Option<String> {
    String::from_utf8(u.string_value.clone()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, source: &str) -> d::FileProto {
        convert(protox_parse::parse(name, source).unwrap(), None).unwrap()
    }

    #[test]
    fn resolves_names_in_protocs_scoping_order() {
        let a = parse(
            "a.proto",
            r#"syntax = "proto3";
package a.b;
import "c.proto";
message M {
  message Inner {}
  Inner inner = 1;
  b.M.Inner qualified = 2;
  c.Other imported = 3;
  E e = 4;
  .a.b.M absolute = 5;
}
enum E { E_ZERO = 0; }
service S { rpc Call(M) returns (c.Other); }
"#,
        );
        let c = parse(
            "c.proto",
            "syntax = \"proto3\";\npackage a.c;\nmessage Other {}\n",
        );
        let mut linked = vec![c, a];
        link(&mut linked).expect("links");
        let m = &linked[1].message_type[0];
        let types: Vec<(Option<i32>, &str)> = m
            .field
            .iter()
            .map(|f| (f.r#type, f.type_name.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            types,
            [
                (Some(11), ".a.b.M.Inner"),
                (Some(11), ".a.b.M.Inner"),
                (Some(11), ".a.c.Other"),
                (Some(14), ".a.b.E"),
                (Some(11), ".a.b.M"),
            ]
        );
        let method = &linked[1].service[0].method[0];
        assert_eq!(method.output_type.as_deref(), Some(".a.c.Other"));
    }

    #[test]
    fn gives_up_on_what_protox_should_judge() {
        let proto3 = "syntax = \"proto3\";\n";
        let unresolved = parse(
            "a.proto",
            &format!("{proto3}message M {{ Missing m = 1; }}\n"),
        );
        assert!(link(&mut [unresolved]).is_none());
        let mut not_imported = [
            parse(
                "c.proto",
                &format!("{proto3}package c;\nmessage Other {{}}\n"),
            ),
            parse(
                "a.proto",
                &format!("{proto3}message M {{ c.Other o = 1; }}\n"),
            ),
        ];
        assert!(link(&mut not_imported).is_none());
        let twice = parse(
            "a.proto",
            &format!("{proto3}message M {{}}\nenum M {{ X = 0; }}\n"),
        );
        assert!(link(&mut [twice]).is_none());
        let unknown = protox_parse::parse("a.proto", &format!("{proto3}option nonsense = true;\n"));
        assert!(convert(unknown.unwrap(), None).is_none());
    }
}
