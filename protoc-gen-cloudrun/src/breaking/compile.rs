//! Compiles `.proto` sources held in memory.
//!
//! The fast path parses every source with protox's parser (two threads), drops what no rule
//! reads (comments, custom options), takes the source info out (encoded, for lazy decoding),
//! and links the files with [`super::link`] straight into our descriptors. Anything that path
//! does not fully understand — a parse error, an unresolved name, a missing import, an
//! unfamiliar option, a file that fails validation — sends the whole input to protox, which
//! compiles it as written and reports errors with their positions.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use prost::Message;
use prost_types::{FileDescriptorProto, SourceCodeInfo, UninterpretedOption};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

use super::descriptor::{FileProto, decode_file_set};
use super::link;

/// The compiled files (each module file, and every import they need), and which are imports.
pub(crate) struct Compiled {
    pub files: Vec<FileProto>,
    pub imported: Vec<bool>,
}

/// Compiles every file of `sources` (module-relative name to text). `validate` judges the
/// result: when it refuses the fast path's, protox compiles the sources instead; when it
/// refuses protox's too (protox accepts a few things buf does not, such as an extension range
/// that ends before it starts), that is the error.
pub(crate) fn compile(
    sources: &Arc<HashMap<String, String>>,
    validate: impl Fn(&[FileProto]) -> Result<(), String>,
) -> Result<Compiled, protox::Error> {
    if let Some(compiled) = lean(sources).filter(|c| validate(&c.files).is_ok()) {
        return Ok(compiled);
    }
    let compiled = with_protox(sources)?;
    validate(&compiled.files).map_err(protox::Error::new)?;
    Ok(compiled)
}

/// The fast path; `None` when protox should decide.
fn lean(sources: &HashMap<String, String>) -> Option<Compiled> {
    let mut names: Vec<&String> = sources.keys().collect();
    names.sort();
    let half = names.len().div_ceil(2).max(1);
    // Parse and convert on two threads; each parsed file is dropped once converted.
    let mut files: Vec<FileProto> = std::thread::scope(|scope| {
        let chunks: Vec<_> = names
            .chunks(half)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|n| {
                            let p = prepare(n, sources.get(*n)?).ok()?;
                            link::convert(p.descriptor, p.source_info)
                        })
                        .collect::<Option<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(names.len());
        for chunk in chunks {
            all.extend(chunk.join().ok()??);
        }
        Some(all)
    })?;
    let mut imported = vec![false; files.len()];
    // Imports from outside the module are the well-known types protox knows.
    let google = GoogleFileResolver::new();
    let mut known: HashSet<String> = files.iter().filter_map(|f| f.name.clone()).collect();
    let mut pending: Vec<String> = files.iter().flat_map(|f| f.dependency.clone()).collect();
    while let Some(dep) = pending.pop() {
        if !known.insert(dep.clone()) {
            continue;
        }
        let descriptor = google.open_file(&dep).ok()?.file_descriptor_proto().clone();
        pending.extend(descriptor.dependency.iter().cloned());
        files.push(link::convert(descriptor, None)?);
        imported.push(true);
    }
    link::link(&mut files)?;
    Some(Compiled { files, imported })
}

/// Compiles with protox as the sources are written (errors carry their positions).
fn with_protox(sources: &Arc<HashMap<String, String>>) -> Result<Compiled, protox::Error> {
    let mut chain = ChainFileResolver::new();
    chain.add(MemoryResolver {
        files: Arc::clone(sources),
    });
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true).include_source_info(true);
    let mut names: Vec<&String> = sources.keys().collect();
    names.sort();
    for name in names {
        compiler.open_file(name)?;
    }
    let imported = compiler.files().map(|f| f.is_import()).collect();
    let encoded = compiler.encode_file_descriptor_set();
    drop(compiler);
    let set = decode_file_set(encoded.into()).map_err(protox::Error::new)?;
    Ok(Compiled {
        files: set.file,
        imported,
    })
}

/// A parsed file, stripped for linking, and its encoded source info.
struct Prepared {
    descriptor: FileDescriptorProto,
    source_info: Option<Vec<u8>>,
}

/// Parses a file and strips what no rule reads; see the module documentation.
fn prepare(name: &str, source: &str) -> Result<Prepared, protox::Error> {
    let mut descriptor = protox_parse::parse(name, source)?;
    drop_custom_options(&mut descriptor);
    drop_comments(&mut descriptor);
    let source_info = descriptor
        .source_code_info
        .take()
        .map(|info| resolve_option_paths(&descriptor, info).encode_to_vec());
    Ok(Prepared {
        descriptor,
        source_info,
    })
}

/// Resolves protox's file lookups from memory.
struct MemoryResolver {
    files: Arc<HashMap<String, String>>,
}

impl FileResolver for MemoryResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.files.get(name) {
            Some(source) => File::from_source(name, source),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// Comments are the bulk of many sources and no rule reads them.
fn drop_comments(file: &mut FileDescriptorProto) {
    if let Some(info) = &mut file.source_code_info {
        for loc in &mut info.location {
            loc.leading_comments = None;
            loc.trailing_comments = None;
            loc.leading_detached_comments = Vec::new();
        }
    }
}

/// Field numbers of the standard options, by options message (as descriptor.proto declares
/// them), for moving their source locations as protoc does.
fn standard_option(options_tag_of: OptionsKind, name: &str) -> Option<i32> {
    use OptionsKind::*;
    Some(match (options_tag_of, name) {
        (File, "java_package") => 1,
        (File, "java_outer_classname") => 8,
        (File, "optimize_for") => 9,
        (File, "java_multiple_files") => 10,
        (File, "go_package") => 11,
        (File, "cc_generic_services") => 16,
        (File, "java_generic_services") => 17,
        (File, "py_generic_services") => 18,
        (File, "java_generate_equals_and_hash") => 20,
        (File, "deprecated") => 23,
        (File, "java_string_check_utf8") => 27,
        (File, "cc_enable_arenas") => 31,
        (File, "objc_class_prefix") => 36,
        (File, "csharp_namespace") => 37,
        (File, "swift_prefix") => 39,
        (File, "php_class_prefix") => 40,
        (File, "php_namespace") => 41,
        (File, "php_generic_services") => 42,
        (File, "php_metadata_namespace") => 44,
        (File, "ruby_package") => 45,
        (Message, "message_set_wire_format") => 1,
        (Message, "no_standard_descriptor_accessor") => 2,
        (Message, "deprecated") => 3,
        (Message, "map_entry") => 7,
        (Message, "deprecated_legacy_json_field_conflicts") => 11,
        (Field, "ctype") => 1,
        (Field, "packed") => 2,
        (Field, "deprecated") => 3,
        (Field, "lazy") => 5,
        (Field, "jstype") => 6,
        (Field, "weak") => 10,
        (Field, "unverified_lazy") => 15,
        (Field, "debug_redact") => 16,
        (Field, "retention") => 17,
        (Enum, "allow_alias") => 2,
        (Enum, "deprecated") => 3,
        (Enum, "deprecated_legacy_json_field_conflicts") => 6,
        (EnumValue, "deprecated") => 1,
        (EnumValue, "debug_redact") => 3,
        (Service, "deprecated") => 33,
        (Method, "deprecated") => 33,
        (Method, "idempotency_level") => 34,
        (ExtensionRange, "verification") => 3,
        _ => return None,
    })
}

/// Records the options found at a source path.
type AddOptions<'f> = dyn FnMut(Vec<i32>, OptionsKind, &[UninterpretedOption]) + 'f;

/// Which options message a path's options belong to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum OptionsKind {
    File,
    Message,
    Field,
    Oneof,
    Enum,
    EnumValue,
    Service,
    Method,
    ExtensionRange,
}

/// What protox does to source info when it interprets options: a location of the `k`th
/// uninterpreted option (`..., options, 999, k`) moves to the option's own field
/// (`..., options, <field number>`). Locations of options it would not know are dropped.
fn resolve_option_paths(file: &FileDescriptorProto, mut info: SourceCodeInfo) -> SourceCodeInfo {
    // Options prefix path -> (kind, the option names in order).
    let mut prefixes: HashMap<Vec<i32>, (OptionsKind, Vec<String>)> = HashMap::new();
    fn names(opts: &[UninterpretedOption]) -> Vec<String> {
        opts.iter()
            .map(|o| {
                o.name
                    .first()
                    .map(|p| p.name_part.clone())
                    .unwrap_or_default()
            })
            .collect()
    }
    let mut add = |path: Vec<i32>, kind: OptionsKind, opts: &[UninterpretedOption]| {
        if !opts.is_empty() {
            prefixes.insert(path, (kind, names(opts)));
        }
    };
    fn walk_message(m: &prost_types::DescriptorProto, path: Vec<i32>, add: &mut AddOptions<'_>) {
        if let Some(o) = &m.options {
            add(
                join(&path, &[7]),
                OptionsKind::Message,
                &o.uninterpreted_option,
            );
        }
        for (tag, fields) in [(2, &m.field), (6, &m.extension)] {
            for (i, f) in fields.iter().enumerate() {
                if let Some(o) = &f.options {
                    add(
                        join(&path, &[tag, i as i32, 8]),
                        OptionsKind::Field,
                        &o.uninterpreted_option,
                    );
                }
            }
        }
        for (i, n) in m.nested_type.iter().enumerate() {
            walk_message(n, join(&path, &[3, i as i32]), add);
        }
        for (i, e) in m.enum_type.iter().enumerate() {
            walk_enum(e, join(&path, &[4, i as i32]), add);
        }
        for (i, r) in m.extension_range.iter().enumerate() {
            if let Some(o) = &r.options {
                add(
                    join(&path, &[5, i as i32, 3]),
                    OptionsKind::ExtensionRange,
                    &o.uninterpreted_option,
                );
            }
        }
        for (i, d) in m.oneof_decl.iter().enumerate() {
            if let Some(o) = &d.options {
                add(
                    join(&path, &[8, i as i32, 2]),
                    OptionsKind::Oneof,
                    &o.uninterpreted_option,
                );
            }
        }
    }
    fn walk_enum(e: &prost_types::EnumDescriptorProto, path: Vec<i32>, add: &mut AddOptions<'_>) {
        if let Some(o) = &e.options {
            add(
                join(&path, &[3]),
                OptionsKind::Enum,
                &o.uninterpreted_option,
            );
        }
        for (i, v) in e.value.iter().enumerate() {
            if let Some(o) = &v.options {
                add(
                    join(&path, &[2, i as i32, 3]),
                    OptionsKind::EnumValue,
                    &o.uninterpreted_option,
                );
            }
        }
    }
    if let Some(o) = &file.options {
        add(vec![8], OptionsKind::File, &o.uninterpreted_option);
    }
    for (i, m) in file.message_type.iter().enumerate() {
        walk_message(m, vec![4, i as i32], &mut add);
    }
    for (i, e) in file.enum_type.iter().enumerate() {
        walk_enum(e, vec![5, i as i32], &mut add);
    }
    for (i, s) in file.service.iter().enumerate() {
        if let Some(o) = &s.options {
            add(
                vec![6, i as i32, 3],
                OptionsKind::Service,
                &o.uninterpreted_option,
            );
        }
        for (j, m) in s.method.iter().enumerate() {
            if let Some(o) = &m.options {
                add(
                    vec![6, i as i32, 2, j as i32, 4],
                    OptionsKind::Method,
                    &o.uninterpreted_option,
                );
            }
        }
    }
    for (i, x) in file.extension.iter().enumerate() {
        if let Some(o) = &x.options {
            add(
                vec![7, i as i32, 8],
                OptionsKind::Field,
                &o.uninterpreted_option,
            );
        }
    }
    if prefixes.is_empty() {
        return info;
    }
    info.location.retain_mut(|loc| {
        for p in 0..loc.path.len().saturating_sub(1) {
            if loc.path[p] != 999 {
                continue;
            }
            let Some((kind, names)) = prefixes.get(&loc.path[..p]) else {
                continue;
            };
            let k = usize::try_from(loc.path[p + 1]).unwrap_or(usize::MAX);
            let Some(number) = names.get(k).and_then(|n| standard_option(*kind, n)) else {
                return false;
            };
            loc.path.splice(p..p + 2, [number]);
            return true;
        }
        true
    });
    info
}

/// For each options message that lost entries: its source path (element path plus the options
/// field), and for each former `uninterpreted_option` index its new index, if kept.
type Renumbering = HashMap<Vec<i32>, Vec<Option<i32>>>;

/// Keeps the options that name no extension, and records how their indexes moved.
fn keep_standard(options: &mut Vec<UninterpretedOption>, path: Vec<i32>, moved: &mut Renumbering) {
    if options
        .iter()
        .all(|o| o.name.iter().all(|part| !part.is_extension))
    {
        return;
    }
    let mut map = Vec::with_capacity(options.len());
    let mut next = 0;
    options.retain(|o| {
        let keep = o.name.iter().all(|part| !part.is_extension);
        map.push(keep.then(|| {
            next += 1;
            next - 1
        }));
        keep
    });
    moved.insert(path, map);
}

fn join(path: &[i32], more: &[i32]) -> Vec<i32> {
    let mut p = Vec::with_capacity(path.len() + more.len());
    p.extend_from_slice(path);
    p.extend_from_slice(more);
    p
}

fn field(f: &mut prost_types::FieldDescriptorProto, path: Vec<i32>, moved: &mut Renumbering) {
    if let Some(o) = &mut f.options {
        keep_standard(&mut o.uninterpreted_option, join(&path, &[8]), moved);
    }
}

fn enumeration(e: &mut prost_types::EnumDescriptorProto, path: Vec<i32>, moved: &mut Renumbering) {
    if let Some(o) = &mut e.options {
        keep_standard(&mut o.uninterpreted_option, join(&path, &[3]), moved);
    }
    for (i, v) in e.value.iter_mut().enumerate() {
        if let Some(o) = &mut v.options {
            keep_standard(
                &mut o.uninterpreted_option,
                join(&path, &[2, i as i32, 3]),
                moved,
            );
        }
    }
}

fn message(m: &mut prost_types::DescriptorProto, path: Vec<i32>, moved: &mut Renumbering) {
    if let Some(o) = &mut m.options {
        keep_standard(&mut o.uninterpreted_option, join(&path, &[7]), moved);
    }
    for (i, f) in m.field.iter_mut().enumerate() {
        field(f, join(&path, &[2, i as i32]), moved);
    }
    for (i, f) in m.extension.iter_mut().enumerate() {
        field(f, join(&path, &[6, i as i32]), moved);
    }
    for (i, n) in m.nested_type.iter_mut().enumerate() {
        message(n, join(&path, &[3, i as i32]), moved);
    }
    for (i, e) in m.enum_type.iter_mut().enumerate() {
        enumeration(e, join(&path, &[4, i as i32]), moved);
    }
    for (i, r) in m.extension_range.iter_mut().enumerate() {
        if let Some(o) = &mut r.options {
            keep_standard(
                &mut o.uninterpreted_option,
                join(&path, &[5, i as i32, 3]),
                moved,
            );
        }
    }
    for (i, d) in m.oneof_decl.iter_mut().enumerate() {
        if let Some(o) = &mut d.options {
            keep_standard(
                &mut o.uninterpreted_option,
                join(&path, &[8, i as i32, 2]),
                moved,
            );
        }
    }
}

/// Removes custom options (any option naming an extension) from a parsed file, and renumbers
/// or drops their source locations to match.
pub(crate) fn drop_custom_options(file: &mut FileDescriptorProto) {
    let mut moved = Renumbering::new();
    if let Some(o) = &mut file.options {
        keep_standard(&mut o.uninterpreted_option, vec![8], &mut moved);
    }
    for (i, m) in file.message_type.iter_mut().enumerate() {
        message(m, vec![4, i as i32], &mut moved);
    }
    for (i, e) in file.enum_type.iter_mut().enumerate() {
        enumeration(e, vec![5, i as i32], &mut moved);
    }
    for (i, s) in file.service.iter_mut().enumerate() {
        if let Some(o) = &mut s.options {
            keep_standard(
                &mut o.uninterpreted_option,
                vec![6, i as i32, 3],
                &mut moved,
            );
        }
        for (j, m) in s.method.iter_mut().enumerate() {
            if let Some(o) = &mut m.options {
                keep_standard(
                    &mut o.uninterpreted_option,
                    vec![6, i as i32, 2, j as i32, 4],
                    &mut moved,
                );
            }
        }
    }
    for (i, x) in file.extension.iter_mut().enumerate() {
        field(x, vec![7, i as i32], &mut moved);
    }
    if moved.is_empty() {
        return;
    }
    let Some(info) = &mut file.source_code_info else {
        return;
    };
    info.location.retain_mut(|loc| {
        // uninterpreted_option is field 999 of every options message.
        for p in 0..loc.path.len().saturating_sub(1) {
            if loc.path[p] != 999 {
                continue;
            }
            if let Some(map) = moved.get(&loc.path[..p]) {
                let old = usize::try_from(loc.path[p + 1]).unwrap_or(usize::MAX);
                return match map.get(old).copied().flatten() {
                    Some(new) => {
                        loc.path[p + 1] = new;
                        true
                    }
                    None => false,
                };
            }
        }
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_options_go_and_standard_ones_keep_their_locations() {
        let source = r#"syntax = "proto3";
package x;
option (a) = 1;
option java_package = "x";
message M {
  string f = 1 [(b) = true, deprecated = true, (c) = 2];
}
"#;
        let mut file = protox_parse::parse("x.proto", source).unwrap();
        drop_custom_options(&mut file);
        let names = |opts: &[UninterpretedOption]| -> Vec<String> {
            opts.iter().map(|o| o.name[0].name_part.clone()).collect()
        };
        assert_eq!(
            names(&file.options.as_ref().unwrap().uninterpreted_option),
            ["java_package"]
        );
        let f = &file.message_type[0].field[0];
        assert_eq!(
            names(&f.options.as_ref().unwrap().uninterpreted_option),
            ["deprecated"]
        );
        let mut paths: Vec<&Vec<i32>> = file
            .source_code_info
            .as_ref()
            .unwrap()
            .location
            .iter()
            .map(|l| &l.path)
            .filter(|p| p.contains(&999))
            .collect();
        paths.sort();
        assert_eq!(paths, [&vec![4, 0, 2, 0, 8, 999, 0], &vec![8, 999, 0]]);
    }
}

#[cfg(test)]
mod equivalence {
    use super::*;
    use crate::breaking::descriptor::{FieldProto, MessageProto};

    /// What the rules read, normalised where the two paths legitimately differ: protox fills
    /// in every JSON name (the model defaults missing ones the same way) and keeps comments.
    /// Source locations as (path, span) pairs, sorted.
    type Locations = Vec<(Vec<i32>, Vec<i32>)>;

    fn normalise(mut f: FileProto) -> (FileProto, Locations) {
        fn fields(m: &mut MessageProto) {
            for f in m.field.iter_mut().chain(m.extension.iter_mut()) {
                json(f);
            }
            for n in &mut m.nested_type {
                fields(n);
            }
        }
        fn json(f: &mut FieldProto) {
            if f.json_name.is_none() {
                f.json_name = Some(crate::breaking::model::default_json_name(
                    f.name.as_deref().unwrap_or(""),
                ));
            }
        }
        f.message_type.iter_mut().for_each(fields);
        f.extension.iter_mut().for_each(json);
        let mut locations: Locations = f
            .source_code_info
            .take()
            .map(|b| SourceCodeInfo::decode(b).unwrap().location)
            .unwrap_or_default()
            .into_iter()
            .map(|l| (l.path, l.span))
            .collect();
        locations.sort();
        (f, locations)
    }

    #[test]
    fn the_lean_path_links_every_fixture_as_protox_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/breaking");
        let mut dirs = Vec::new();
        for group in ["rules", "scenarios"] {
            for entry in std::fs::read_dir(root.join(group)).unwrap() {
                let dir = entry.unwrap().path();
                dirs.push(dir.join("previous"));
                dirs.push(dir.join("current"));
            }
        }
        dirs.push(root.join("deprecation/previous"));
        dirs.push(root.join("deprecation/current"));
        let mut checked = 0;
        for dir in dirs {
            let mut sources = HashMap::new();
            let mut stack = vec![dir.clone()];
            while let Some(d) = stack.pop() {
                for entry in std::fs::read_dir(&d).unwrap() {
                    let p = entry.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|e| e == "proto") {
                        let name = p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
                        sources.insert(name, std::fs::read_to_string(&p).unwrap());
                    }
                }
            }
            // Workspaces with buf.yaml modules compile per module directory; skip those here.
            if dir.join("buf.yaml").exists() {
                continue;
            }
            let sources = Arc::new(sources);
            let lean = lean(&sources).unwrap_or_else(|| panic!("lean path gave up on {dir:?}"));
            let full = with_protox(&sources).unwrap();
            let by_name = |c: Compiled| -> HashMap<String, (FileProto, Locations, bool)> {
                c.files
                    .into_iter()
                    .zip(c.imported)
                    .filter(|(_, imported)| !imported)
                    .map(|(f, i)| {
                        let (f, l) = normalise(f);
                        (f.name.clone().unwrap(), (f, l, i))
                    })
                    .collect()
            };
            let (lean, full) = (by_name(lean), by_name(full));
            assert_eq!(lean.len(), full.len(), "{dir:?}");
            for (name, (lf, ll, _)) in &lean {
                let (ff, fl, _) = &full[name];
                assert_eq!(lf, ff, "{dir:?} {name}");
                assert_eq!(ll, fl, "{dir:?} {name}: locations differ");
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked}");
    }
}
