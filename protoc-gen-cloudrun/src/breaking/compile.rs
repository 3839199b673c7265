//! Compiles `.proto` sources held in memory with protox.
//!
//! No rule reads custom options or comments, yet on option-heavy APIs (googleapis annotates
//! nearly every method and field) resolving options is most of protox's work, and source info
//! (copied twice inside its descriptor pool) most of its memory. So each source is parsed
//! here; custom options and comments are dropped, and the source info is taken out before
//! protox links the file, then reattached to the output with the option paths protox would
//! have rewritten rewritten the same way. When that lean compile fails, the sources are
//! compiled again as written, so that errors are protox's own, with their positions.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex};

use prost::Message;
use prost_types::{FileDescriptorProto, SourceCodeInfo, UninterpretedOption};
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};

/// The compiled files, encoded as a `FileDescriptorSet` (dependencies first), and which of
/// them were imported rather than compiled from `sources`.
pub(crate) struct Compiled {
    pub encoded: Vec<u8>,
    pub imported: Vec<bool>,
    /// Encoded `SourceCodeInfo` of the files compiled from `sources`, when it was taken out
    /// before linking (the lean compile); otherwise the encoded files carry their own.
    pub source_info: Option<HashMap<String, Vec<u8>>>,
}

/// Compiles every file of `sources` (module-relative name to text).
pub(crate) fn compile(sources: &Arc<HashMap<String, String>>) -> Result<Compiled, protox::Error> {
    match compile_with(sources, true) {
        Ok(compiled) => Ok(compiled),
        Err(_) => compile_with(sources, false),
    }
}

fn compile_with(
    sources: &Arc<HashMap<String, String>>,
    lean: bool,
) -> Result<Compiled, protox::Error> {
    let taken = Arc::new(Mutex::new(HashMap::new()));
    let ahead = Arc::new(Ahead::default());
    let mut names: Vec<&String> = sources.keys().collect();
    names.sort();
    std::thread::scope(|scope| {
        if lean {
            // Parse on a second thread, in the order protox will mostly ask for files, so
            // parsing overlaps protox's linking.
            scope.spawn(|| ahead.run(sources, &names));
        }
        let result = link(sources, lean, &taken, &ahead, &names);
        ahead.finish();
        result
    })
}

/// Links the sources with protox, and encodes the result.
fn link(
    sources: &Arc<HashMap<String, String>>,
    lean: bool,
    taken: &Arc<Mutex<HashMap<String, Vec<u8>>>>,
    ahead: &Arc<Ahead>,
    names: &[&String],
) -> Result<Compiled, protox::Error> {
    let mut chain = ChainFileResolver::new();
    chain.add(MemoryResolver {
        files: Arc::clone(sources),
        lean,
        taken: Arc::clone(taken),
        ahead: Arc::clone(ahead),
    });
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true).include_source_info(true);
    for name in names {
        compiler.open_file(name)?;
    }
    let imported = compiler.files().map(|f| f.is_import()).collect();
    let encoded = compiler.encode_file_descriptor_set();
    // Freeing the descriptor pool is a good share of the whole compile; let it happen off the
    // critical path.
    let pool = compiler.descriptor_pool();
    drop(compiler);
    std::thread::spawn(move || drop(pool));
    let source_info =
        lean.then(|| std::mem::take(&mut *taken.lock().unwrap_or_else(|e| e.into_inner())));
    Ok(Compiled {
        encoded,
        imported,
        source_info,
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

/// How many parsed files may wait for protox at once (bounds the memory parsing ahead costs).
const AHEAD_WINDOW: usize = 64;

/// Files parsed ahead of protox by another thread.
#[derive(Default)]
struct Ahead {
    state: Mutex<AheadState>,
    changed: Condvar,
}

#[derive(Default)]
struct AheadState {
    /// Files a thread has started preparing.
    claimed: HashSet<String>,
    /// Prepared files protox has not asked for yet; `None` when preparing failed (the
    /// resolver prepares it again to report protox's error).
    ready: HashMap<String, Option<Prepared>>,
    done: bool,
}

impl Ahead {
    fn lock(&self) -> std::sync::MutexGuard<'_, AheadState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'g>(
        &self,
        guard: std::sync::MutexGuard<'g, AheadState>,
    ) -> std::sync::MutexGuard<'g, AheadState> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// The parsing thread: prepares files in order, staying at most a window ahead.
    fn run(&self, sources: &HashMap<String, String>, names: &[&String]) {
        for name in names {
            let mut state = self.lock();
            while state.ready.len() >= AHEAD_WINDOW && !state.done {
                state = self.wait(state);
            }
            if state.done {
                return;
            }
            if !state.claimed.insert((*name).clone()) {
                continue;
            }
            drop(state);
            let prepared = sources.get(*name).and_then(|s| prepare(name, s).ok());
            self.lock().ready.insert((*name).clone(), prepared);
            self.changed.notify_all();
        }
    }

    /// Takes a file's preparation: the one parsed ahead, or waits for it when the parsing
    /// thread is on it, or does it here.
    fn take(&self, name: &str, source: &str) -> Result<Prepared, protox::Error> {
        let mut state = self.lock();
        loop {
            if let Some(prepared) = state.ready.remove(name) {
                drop(state);
                self.changed.notify_all();
                return match prepared {
                    Some(p) => Ok(p),
                    None => prepare(name, source),
                };
            }
            if !state.claimed.contains(name) {
                state.claimed.insert(name.to_string());
                drop(state);
                return prepare(name, source);
            }
            state = self.wait(state);
        }
    }

    /// Stops the parsing thread.
    fn finish(&self) {
        self.lock().done = true;
        self.changed.notify_all();
    }
}

/// Resolves protox's file lookups from memory.
struct MemoryResolver {
    files: Arc<HashMap<String, String>>,
    lean: bool,
    /// Source info taken out of lean-parsed files, encoded, by file name.
    taken: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    ahead: Arc<Ahead>,
}

impl FileResolver for MemoryResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let Some(source) = self.files.get(name) else {
            return Err(protox::Error::file_not_found(name));
        };
        if !self.lean {
            return File::from_source(name, source);
        }
        let prepared = self.ahead.take(name, source)?;
        if let Some(info) = prepared.source_info {
            self.taken
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.to_string(), info);
        }
        Ok(File::from_file_descriptor_proto(prepared.descriptor))
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
/// them). Only these survive [`drop_custom_options`].
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
