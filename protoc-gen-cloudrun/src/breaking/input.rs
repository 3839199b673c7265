//! Inputs: a directory of `.proto` files, a binary image (`FileDescriptorSet` or buf image), or
//! a git reference, each turned into an [`Image`] plus the buf.yaml that configures it.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::Error;
use super::compile;
use super::config::BufYaml;
use super::descriptor::decode_file_set;
use super::model::{Image, clean, join_clean};
use super::spans;

/// A parsed input reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum InputSpec {
    /// A directory, as the user wrote it.
    Dir(String),
    /// A binary `FileDescriptorSet` or buf image.
    Image(String),
    /// A commit of a local git repository, optionally a subdirectory of it.
    Git {
        repo: String,
        reference: GitRef,
        subdir: String,
    },
}

/// Which commit a git input names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GitRef {
    Branch(String),
    Tag(String),
    Ref(String),
}

impl InputSpec {
    /// Parses `path[#key=value,...]` as buf spells inputs (`.git#branch=main,subdir=proto`,
    /// `image.binpb`, `dir#format=dir`).
    pub(crate) fn parse(input: &str) -> Result<InputSpec, Error> {
        let (path, options) = match input.split_once('#') {
            Some((p, o)) => (p, Some(o)),
            None => (input, None),
        };
        if path.is_empty() {
            return Err(Error::Usage(format!(
                "input {input:?} has no path before '#'"
            )));
        }
        let mut opts: BTreeMap<&str, &str> = BTreeMap::new();
        for part in options.unwrap_or("").split(',').filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(Error::Usage(format!(
                    "input {input:?}: option {part:?} is not key=value"
                )));
            };
            opts.insert(k.trim(), v.trim());
        }
        let format = match opts.remove("format") {
            Some(f @ ("dir" | "git" | "binpb" | "bin")) => Some(f),
            Some(other) => {
                return Err(Error::Usage(format!(
                    "input {input:?}: unknown format {other:?}; use dir, binpb or git"
                )));
            }
            None if path.ends_with(".git") => Some("git"),
            None => None,
        };
        if format == Some("git") {
            let mut refs = Vec::new();
            if let Some(b) = opts.remove("branch") {
                refs.push(GitRef::Branch(b.to_string()));
            }
            if let Some(t) = opts.remove("tag") {
                refs.push(GitRef::Tag(t.to_string()));
            }
            if let Some(r) = opts.remove("ref") {
                refs.push(GitRef::Ref(r.to_string()));
            }
            let subdir = opts.remove("subdir").map(clean).unwrap_or_default();
            // Accepted for compatibility with buf; a local repository has all history anyway.
            opts.remove("depth");
            if let Some(k) = opts.keys().next() {
                return Err(Error::Usage(format!(
                    "input {input:?}: unknown git option {k:?}; use branch, tag, ref or subdir"
                )));
            }
            let reference = match refs.len() {
                0 => GitRef::Ref("HEAD".into()),
                1 => refs.remove(0),
                _ => {
                    return Err(Error::Usage(format!(
                        "input {input:?}: give only one of branch, tag and ref"
                    )));
                }
            };
            if subdir.starts_with("..") || subdir.starts_with('/') {
                return Err(Error::Usage(format!(
                    "input {input:?}: subdir must be inside the repository"
                )));
            }
            let subdir = if subdir == "." { String::new() } else { subdir };
            return Ok(InputSpec::Git {
                repo: path.to_string(),
                reference,
                subdir,
            });
        }
        if let Some(k) = opts.keys().next() {
            return Err(Error::Usage(format!(
                "input {input:?}: option {k:?} only applies to git inputs (path ending in .git)"
            )));
        }
        match format {
            Some("dir") => Ok(InputSpec::Dir(path.to_string())),
            Some(_) => Ok(InputSpec::Image(path.to_string())),
            None => {
                let p = Path::new(path);
                if p.is_dir() {
                    Ok(InputSpec::Dir(path.to_string()))
                } else if p.is_file() {
                    Ok(InputSpec::Image(path.to_string()))
                } else {
                    Err(Error::Input(format!(
                        "input {path:?} does not exist: give a directory of .proto files, a \
                         binary image (buf build -o image.binpb) or a git reference such as \
                         .git#branch=main"
                    )))
                }
            }
        }
    }
}

/// An input, loaded: the image and the configuration found with it.
pub(crate) struct Loaded {
    pub image: Image,
    pub buf_yaml: BufYaml,
    /// Per image file, the index of the buf.yaml module it belongs to (`None` for imports).
    pub module_of_file: Vec<Option<usize>>,
}

/// Loads an input. `config` overrides any buf.yaml found with it.
pub(crate) fn load(spec: &InputSpec, config: Option<&BufYaml>) -> Result<Loaded, Error> {
    match spec {
        InputSpec::Image(path) => load_image(path, config),
        InputSpec::Dir(path) => {
            let tree = read_dir_tree(Path::new(path))?;
            load_tree(tree, path, config)
        }
        InputSpec::Git {
            repo,
            reference,
            subdir,
        } => {
            let tree = read_git_tree(repo, reference, subdir)?;
            load_tree(tree, subdir, config)
        }
    }
}

/// Decodes image bytes (a `FileDescriptorSet` or a buf image); `origin` names them in errors.
pub fn decode_image(bytes: &[u8], origin: &str) -> Result<Image, Error> {
    decode_image_bytes(bytes::Bytes::copy_from_slice(bytes), origin)
}

/// [`decode_image`] without copying: source info stays in `bytes`.
pub(crate) fn decode_image_bytes(bytes: bytes::Bytes, origin: &str) -> Result<Image, Error> {
    let set = decode_file_set(bytes).map_err(|e| {
        Error::Input(format!(
            "{origin} is not a valid binary image (FileDescriptorSet or buf image): {e}"
        ))
    })?;
    validate(&set)
        .map_err(|problem| Error::Input(format!("{origin} is not a valid image: {problem}")))?;
    let imports = set
        .file
        .iter()
        .map(|f| {
            f.buf_extension
                .as_ref()
                .and_then(|e| e.is_import)
                .unwrap_or(false)
        })
        .collect();
    let n = set.file.len();
    Ok(Image::new(set.file, imports, vec![String::new(); n]))
}

/// The uniqueness a compiler guarantees and matching relies on: file paths, full names,
/// field numbers, extension numbers, value, oneof and method names. Images from unknown
/// producers are checked so that a malformed one is refused instead of misreported.
fn validate(set: &super::descriptor::FileSet) -> Result<(), String> {
    validate_files(&set.file)
}

/// [`validate`] on files.
fn validate_files(files: &[super::descriptor::FileProto]) -> Result<(), String> {
    use super::descriptor::{EnumProto, MessageProto};
    use std::collections::HashSet;

    fn unique<'a>(seen: &mut HashSet<&'a str>, name: &'a str, what: &str) -> Result<(), String> {
        if seen.insert(name) {
            Ok(())
        } else {
            Err(format!("{what} {name:?} is declared twice"))
        }
    }
    fn check_enum(e: &EnumProto, full: &str) -> Result<(), String> {
        // Enum ranges are inclusive.
        for r in &e.reserved_range {
            if r.start.unwrap_or(0) > r.end.unwrap_or(0) {
                return Err(format!(
                    "enum {full:?} has a reserved range that ends before it starts"
                ));
            }
        }
        let mut values = HashSet::new();
        for v in &e.value {
            let name = v.name.as_deref().unwrap_or("");
            if !values.insert(name) {
                return Err(format!("enum {full:?} declares value {name:?} twice"));
            }
        }
        Ok(())
    }
    fn check_message<'a>(
        m: &'a MessageProto,
        full: String,
        names: &mut HashSet<String>,
        extensions: &mut HashSet<(&'a str, i32)>,
    ) -> Result<(), String> {
        if !names.insert(full.clone()) {
            return Err(format!("{full:?} is declared twice"));
        }
        // Message ranges end exclusively.
        for r in m.reserved_range.iter().chain(&m.extension_range) {
            if r.start.unwrap_or(0) >= r.end.unwrap_or(0) {
                return Err(format!(
                    "message {full:?} has a range that ends before it starts"
                ));
            }
        }
        let mut numbers = HashSet::new();
        let mut field_names = HashSet::new();
        for f in &m.field {
            let number = f.number.unwrap_or(0);
            if !numbers.insert(number) {
                return Err(format!("message {full:?} uses field number {number} twice"));
            }
            unique(&mut field_names, f.name.as_deref().unwrap_or(""), "field")
                .map_err(|e| format!("message {full:?}: {e}"))?;
        }
        let mut oneofs = HashSet::new();
        for o in &m.oneof_decl {
            unique(&mut oneofs, o.name.as_deref().unwrap_or(""), "oneof")
                .map_err(|e| format!("message {full:?}: {e}"))?;
        }
        for x in &m.extension {
            let key = (x.extendee.as_deref().unwrap_or(""), x.number.unwrap_or(0));
            if !extensions.insert(key) {
                return Err(format!(
                    "extension {} of {:?} is declared twice",
                    key.1, key.0
                ));
            }
        }
        for e in &m.enum_type {
            let name = format!("{full}.{}", e.name.as_deref().unwrap_or(""));
            check_enum(e, &name)?;
            if !names.insert(name.clone()) {
                return Err(format!("{name:?} is declared twice"));
            }
        }
        for nested in &m.nested_type {
            let name = format!("{full}.{}", nested.name.as_deref().unwrap_or(""));
            check_message(nested, name, names, extensions)?;
        }
        Ok(())
    }

    let mut paths = HashSet::new();
    let mut names: HashSet<String> = HashSet::new();
    let mut extensions: HashSet<(&str, i32)> = HashSet::new();
    for (i, f) in files.iter().enumerate() {
        let path = f.name.as_deref().unwrap_or("");
        if path.is_empty() {
            return Err(format!("file #{} has no name", i + 1));
        }
        unique(&mut paths, path, "file")?;
        let mut check_file = || -> Result<(), String> {
            let prefix = match f.package.as_deref() {
                Some(p) if !p.is_empty() => format!("{p}."),
                _ => String::new(),
            };
            for m in &f.message_type {
                check_message(
                    m,
                    format!("{prefix}{}", m.name.as_deref().unwrap_or("")),
                    &mut names,
                    &mut extensions,
                )?;
            }
            for e in &f.enum_type {
                let name = format!("{prefix}{}", e.name.as_deref().unwrap_or(""));
                check_enum(e, &name)?;
                if !names.insert(name.clone()) {
                    return Err(format!("{name:?} is declared twice"));
                }
            }
            for s in &f.service {
                let name = format!("{prefix}{}", s.name.as_deref().unwrap_or(""));
                let mut methods = HashSet::new();
                for m in &s.method {
                    unique(&mut methods, m.name.as_deref().unwrap_or(""), "method")
                        .map_err(|e| format!("service {name:?}: {e}"))?;
                }
                if !names.insert(name.clone()) {
                    return Err(format!("{name:?} is declared twice"));
                }
            }
            for x in &f.extension {
                let key = (x.extendee.as_deref().unwrap_or(""), x.number.unwrap_or(0));
                if !extensions.insert(key) {
                    return Err(format!(
                        "extension {} of {:?} is declared twice",
                        key.1, key.0
                    ));
                }
            }
            Ok(())
        };
        check_file().map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

/// Compiles in-memory `.proto` sources (module-relative path to text) into an image, as a
/// directory holding them would be; `origin` names them in errors.
pub fn compile_sources(
    files: impl IntoIterator<Item = (String, String)>,
    origin: &str,
) -> Result<Image, Error> {
    let tree = Tree {
        protos: files.into_iter().collect(),
        buf_yaml: None,
        origin: origin.to_string(),
    };
    Ok(load_tree(tree, "", None)?.image)
}

fn load_image(path: &str, config: Option<&BufYaml>) -> Result<Loaded, Error> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Input(format!("cannot read image {path:?}: {e}")))?;
    let image = decode_image_bytes(bytes.into(), path)?;
    let module_of_file = image
        .imports
        .iter()
        .map(|&import| if import { None } else { Some(0) })
        .collect();
    let mut buf_yaml = config.cloned().unwrap_or_else(BufYaml::default_v1);
    // An image is one module whatever the configuration says about directories.
    buf_yaml.modules.truncate(1);
    Ok(Loaded {
        image,
        buf_yaml,
        module_of_file,
    })
}

/// Files of a source tree: path relative to the tree root (forward slashes) to contents.
struct Tree {
    protos: BTreeMap<String, String>,
    buf_yaml: Option<String>,
    /// Names the tree in messages (`dir/` or `repo@ref`).
    origin: String,
}

fn read_dir_tree(root: &Path) -> Result<Tree, Error> {
    let mut protos = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::Input(format!("cannot read directory {}: {e}", dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                Error::Input(format!("cannot read directory {}: {e}", dir.display()))
            })?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let rel_child = rel.join(name);
            let file_type = entry.file_type().map_err(|e| {
                Error::Input(format!("cannot stat {}: {e}", entry.path().display()))
            })?;
            // Symlinked directories are not followed, so a link cycle cannot loop.
            if file_type.is_dir() {
                stack.push(rel_child);
            } else if name.ends_with(".proto") {
                let text = std::fs::read_to_string(entry.path()).map_err(|e| {
                    Error::Input(format!("cannot read {}: {e}", entry.path().display()))
                })?;
                let key = rel_child
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                protos.insert(key, text);
            }
        }
    }
    let yaml_path = root.join("buf.yaml");
    let buf_yaml = if yaml_path.is_file() {
        Some(
            std::fs::read_to_string(&yaml_path)
                .map_err(|e| Error::Input(format!("cannot read {}: {e}", yaml_path.display())))?,
        )
    } else {
        None
    };
    Ok(Tree {
        protos,
        buf_yaml,
        origin: root.display().to_string(),
    })
}

/// Runs git and returns its stdout, or an error quoting its stderr.
fn git(repo: &str, args: &[&str]) -> Result<Vec<u8>, Error> {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| Error::Git(format!("cannot run git (is it installed?): {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Git(format!(
            "git {} failed in {repo}: {}",
            args.join(" "),
            stderr.trim()
        )));
    }
    Ok(output.stdout)
}

fn read_git_tree(repo: &str, reference: &GitRef, subdir: &str) -> Result<Tree, Error> {
    if !Path::new(repo).exists() {
        return Err(Error::Input(format!(
            "git repository {repo:?} does not exist (a git input is the path of a .git \
             directory, such as .git#branch=main)"
        )));
    }
    let (spec, what) = match reference {
        GitRef::Branch(b) => (
            format!("refs/heads/{b}^{{commit}}"),
            format!("branch {b:?}"),
        ),
        GitRef::Tag(t) => (format!("refs/tags/{t}^{{commit}}"), format!("tag {t:?}")),
        GitRef::Ref(r) => (format!("{r}^{{commit}}"), format!("ref {r:?}")),
    };
    let commit = git(repo, &["rev-parse", "--verify", "--quiet", &spec])
        .map_err(|_| Error::Input(format!("{what} not found in git repository {repo:?}")))?;
    let commit = String::from_utf8_lossy(&commit).trim().to_string();
    let listing = git(repo, &["ls-tree", "-r", "-z", "--full-tree", &commit])?;
    let prefix = if subdir.is_empty() {
        String::new()
    } else {
        format!("{subdir}/")
    };
    // (path relative to the subdir, blob id)
    let mut wanted: Vec<(String, String)> = Vec::new();
    let mut yaml_blob = None;
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split_whitespace();
        let (_mode, kind, id) = (meta.next(), meta.next(), meta.next());
        if kind != Some("blob") {
            continue;
        }
        let Some(id) = id else { continue };
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        if rel.ends_with(".proto") {
            wanted.push((rel.to_string(), id.to_string()));
        } else if rel == "buf.yaml" {
            yaml_blob = Some(id.to_string());
        }
    }
    if wanted.is_empty() && !subdir.is_empty() {
        let listed = listing
            .split(|b| *b == 0)
            .any(|e| String::from_utf8_lossy(e).contains(&format!("\t{prefix}")));
        if !listed {
            return Err(Error::Input(format!(
                "subdir {subdir:?} not found at {what} of {repo:?}"
            )));
        }
    }
    let mut ids: Vec<&str> = wanted.iter().map(|(_, id)| id.as_str()).collect();
    if let Some(y) = &yaml_blob {
        ids.push(y);
    }
    let blobs = cat_blobs(repo, &ids)?;
    let mut protos = BTreeMap::new();
    for (rel, id) in &wanted {
        let bytes = blobs.get(id.as_str()).cloned().unwrap_or_default();
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::Input(format!("{prefix}{rel} at {what} is not valid UTF-8")))?;
        protos.insert(rel.clone(), text);
    }
    let buf_yaml = yaml_blob
        .and_then(|id| blobs.get(id.as_str()).cloned())
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(Tree {
        protos,
        buf_yaml,
        origin: format!("{repo}#{what}"),
    })
}

/// Reads blobs with one `git cat-file --batch` process.
fn cat_blobs(repo: &str, ids: &[&str]) -> Result<HashMap<String, Vec<u8>>, Error> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Git(format!("cannot run git (is it installed?): {e}")))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| Error::Git("git cat-file: no stdin".into()))?;
    let request: String = ids.iter().map(|id| format!("{id}\n")).collect();
    // Write from a thread so a large answer cannot dead-lock against a full stdin pipe.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Git("git cat-file: no stdout".into()))?;
    let mut reader = BufReader::new(stdout);
    for id in ids {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
        let mut parts = header.split_whitespace();
        let (_, kind, size) = (parts.next(), parts.next(), parts.next());
        if kind != Some("blob") {
            return Err(Error::Git(format!(
                "git cat-file: {id} is not a blob ({header:?})"
            )));
        }
        let size: usize = size
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Git(format!("git cat-file: bad header {header:?}")))?;
        let mut data = vec![0; size + 1];
        reader
            .read_exact(&mut data)
            .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
        data.truncate(size);
        out.insert(id.to_string(), data);
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(out)
}

fn excluded(path_from_yaml: &str, excludes: &[String]) -> bool {
    excludes
        .iter()
        .any(|e| e == "." || path_from_yaml == e || path_from_yaml.starts_with(&format!("{e}/")))
}

/// Compiles a source tree's modules into one image.
fn load_tree(tree: Tree, external_root: &str, config: Option<&BufYaml>) -> Result<Loaded, Error> {
    let buf_yaml = match (config, &tree.buf_yaml) {
        (Some(c), _) => c.clone(),
        (None, Some(text)) => BufYaml::parse(text, &format!("{}/buf.yaml", tree.origin))?,
        (None, None) => BufYaml::default_v1(),
    };
    // Module-relative name -> source, and -> module index.
    let mut sources: HashMap<String, String> = HashMap::new();
    let mut module_of: HashMap<String, usize> = HashMap::new();
    let prefixes: Vec<String> = buf_yaml
        .modules
        .iter()
        .map(|m| {
            if m.path == "." {
                String::new()
            } else {
                format!("{}/", m.path)
            }
        })
        .collect();
    let origin = tree.origin;
    for (path, text) in tree.protos {
        for (m, module) in buf_yaml.modules.iter().enumerate() {
            let Some(rel) = path.strip_prefix(prefixes[m].as_str()) else {
                continue;
            };
            if excluded(&path, &module.excludes) {
                continue;
            }
            if let Some(other) = module_of.insert(rel.to_string(), m) {
                return Err(Error::Input(format!(
                    "{origin}: file {rel:?} is in two modules ({:?} and {:?})",
                    buf_yaml.modules[other].path, module.path
                )));
            }
            sources.insert(rel.to_string(), text);
            break;
        }
    }
    let sources = Arc::new(sources);
    // What span alignment needs is extracted while the sources compile.
    let (compiled, hints) = std::thread::scope(|scope| {
        let hints = scope.spawn(|| {
            sources
                .iter()
                .map(|(name, text)| (name.clone(), spans::SpanHints::new(text)))
                .collect::<HashMap<_, _>>()
        });
        let compiled = compile::compile(&sources, validate_files);
        (compiled, hints.join())
    });
    let compiled =
        compiled.map_err(|e| compile_error(&e, &sources, &buf_yaml, &module_of, external_root))?;
    let hints = hints.map_err(|_| Error::Input(format!("{origin}: span scan failed")))?;
    let set = super::descriptor::FileSet {
        file: compiled.files,
    };
    let mut prefixes = Vec::with_capacity(set.file.len());
    let mut module_of_file = Vec::with_capacity(set.file.len());
    for f in &set.file {
        let name = f.name.as_deref().unwrap_or("");
        match module_of.get(name) {
            Some(&m) => {
                prefixes.push(join_clean(external_root, &buf_yaml.modules[m].path));
                module_of_file.push(Some(m));
            }
            None => {
                prefixes.push(String::new());
                module_of_file.push(None);
            }
        }
    }
    let mut image = Image::new(set.file, compiled.imported, prefixes);
    // Keep only what span alignment needs; the texts go with `sources`.
    image.hints = Some(Arc::new(hints));
    Ok(Loaded {
        image,
        buf_yaml,
        module_of_file,
    })
}

/// Turns a protox error into one line naming `path:line:column`, the way compilers do.
fn compile_error(
    e: &protox::Error,
    sources: &HashMap<String, String>,
    buf_yaml: &BufYaml,
    module_of: &HashMap<String, usize>,
    external_root: &str,
) -> Error {
    use miette::Diagnostic;
    let message = e.to_string();
    let Some(file) = e.file().map(str::to_string) else {
        return Error::Input(message);
    };
    let external = match module_of.get(&file) {
        Some(&m) => join_clean(&join_clean(external_root, &buf_yaml.modules[m].path), &file),
        None => file.clone(),
    };
    let offset = e
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|l| l.offset());
    match (offset, sources.get(&file)) {
        (Some(offset), Some(source)) => {
            let (line, column) = line_column(source, offset);
            Error::Compile {
                path: external,
                line,
                column,
                message,
            }
        }
        _ => Error::Input(format!("{external}: {message}")),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let mut end = offset;
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let before = &source[..end];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_inputs() {
        assert_eq!(
            InputSpec::parse(".git#branch=main,subdir=proto").unwrap(),
            InputSpec::Git {
                repo: ".git".into(),
                reference: GitRef::Branch("main".into()),
                subdir: "proto".into()
            }
        );
        assert_eq!(
            InputSpec::parse("x/.git#tag=v1").unwrap(),
            InputSpec::Git {
                repo: "x/.git".into(),
                reference: GitRef::Tag("v1".into()),
                subdir: String::new()
            }
        );
        assert!(InputSpec::parse(".git#branch=a,tag=b").is_err());
        assert!(InputSpec::parse(".git#bogus=1").is_err());
        assert!(InputSpec::parse("/definitely/not/here").is_err());
    }

    #[test]
    fn malformed_images_are_refused() {
        use crate::breaking::descriptor::{FieldProto, FileProto, FileSet, MessageProto};
        use prost::Message;
        let message = |name: &str, numbers: &[i32]| MessageProto {
            name: Some(name.into()),
            field: numbers
                .iter()
                .map(|n| FieldProto {
                    name: Some(format!("f{n}")),
                    number: Some(*n),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let file = |name: &str, messages: Vec<MessageProto>| FileProto {
            name: Some(name.into()),
            package: Some("p".into()),
            message_type: messages,
            ..Default::default()
        };
        let encode = |files: Vec<FileProto>| FileSet { file: files }.encode_to_vec();
        let ok = encode(vec![file("a.proto", vec![message("A", &[1, 2])])]);
        assert!(decode_image(&ok, "x").is_ok());
        let twice = encode(vec![
            file("a.proto", vec![message("A", &[1])]),
            file("b.proto", vec![message("A", &[1])]),
        ]);
        let err = decode_image(&twice, "x").unwrap_err().to_string();
        assert!(err.contains("\"p.A\" is declared twice"), "{err}");
        let numbers = encode(vec![file("a.proto", vec![message("A", &[1, 1])])]);
        let err = decode_image(&numbers, "x").unwrap_err().to_string();
        assert!(err.contains("field number 1 twice"), "{err}");
        assert!(decode_image(&[0xff, 0xff], "junk").is_err());
    }

    #[test]
    fn line_columns_are_one_based() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
