//! Breaking-change detection with buf's rules, categories, configuration and output, aware of
//! deprecation.
//!
//! ```text
//! protoc-gen-cloudrun breaking [INPUT] --against AGAINST [--config FILE]
//!     [--error-format text|json|github-actions] [--strict] [--exclude-imports]
//! protoc-gen-cloudrun breaking --list-rules [--config FILE]
//! ```
//!
//! An input is one of:
//!
//! - a directory of `.proto` files, compiled with protox (well-known types built in). A
//!   `buf.yaml` (v1 or v2) in that directory marks the module root(s), supplies `excludes`
//!   and the `breaking:` section; v2 `modules:` entries may carry their own `breaking:`, and a
//!   workspace of several modules is compared module by module, as buf does;
//! - a binary `FileDescriptorSet` or buf image (`buf build -o image.binpb`), recognised as a
//!   file (or with `#format=binpb`); unknown fields are ignored, a malformed image is refused;
//! - a git reference, read from the repository's objects with the git CLI, never touching the
//!   work tree: `.git#branch=main`, `.git#tag=v1`, `.git#ref=<sha or rev>`, each with an
//!   optional `subdir=`. The repository may be a `.git` directory, a linked worktree's `.git`
//!   file, or a bare `x.git`. A branch missing locally is looked up as `origin/<branch>` too,
//!   which is what CI checkouts have.
//!
//! `INPUT` defaults to `.`. Without a buf.yaml (or `--config`), buf applies its v1 defaults, and
//! so do we. `--config` (a buf.yaml path, or its YAML/JSON text) replaces INPUT's own buf.yaml;
//! AGAINST keeps its own, which only lays out its modules (as buf's `--against-config` would).
//! Unknown keys, rules and categories are errors that name them.
//!
//! Exit codes: 0 when compatible (notices only), 100 when a breaking change is found, 1 for bad
//! input or usage, with one message on stderr naming the file and position, the missing ref,
//! file or rule, or the malformed image.
//!
//! # Limits
//!
//! - Directories and git trees are compiled by protox, which reads proto2 and proto3 but not
//!   editions; editions schemas are checked from images (`buf build -o`), where every rule,
//!   features included, is supported.
//! - Only the input directory's own `buf.yaml` is read (buf also looks in parent directories
//!   and understands `buf.work.yaml`); `version: v1beta1` is refused.
//! - Comments and custom options are not read: no rule depends on them. A custom option that
//!   names no known extension is therefore not reported as an error, as buf would; nor are
//!   the semantic checks a compiler makes beyond what matching relies on (syntax, names,
//!   imports, duplicate names and numbers, ranges are checked), for example a proto3 enum
//!   whose first value is not zero.
//!
//! # How it works
//!
//! Each input is decoded once into an [`Image`], flattened into an index keyed by full name,
//! and every previous element is matched to its current counterpart by one lookup (files by
//! path, messages, enums and services by full name, fields by number, enum values by number,
//! methods by name, extensions by extendee and number). Rules are data ([`rules::RULES`]): an
//! ID, a purpose, the categories it belongs to in buf.yaml v1 and v2, and one handler that
//! judges a matched pair. Findings are data ([`Finding`]); printing is [`render`].
//!
//! Messages, locations and ordering follow buf 1.75 exactly; a parity test runs the pinned buf
//! on every rule's fixtures and compares. buf compiles with its own compiler, whose source
//! positions differ from protox's in a few places (tab stops, columns in characters, `default`
//! and group spans); directory inputs are aligned to buf's positions.
//!
//! Large inputs stay cheap: images are decoded without copying their source info, which is
//! decoded only for files with findings; directories are parsed on two threads with protox's
//! parser and linked by a lean linker that resolves names as protoc does, straight into the
//! same descriptors (protox compiles the sources instead whenever that linker is unsure, and
//! reports errors). See `benches/breaking.sh` and `BENCHMARKS-breaking.md`.
//!
//! # Deprecation policy
//!
//! By default (without `--strict`), a deletion of something deprecated in the *previous*
//! version is allowed:
//!
//! - A deprecated message, enum, service, RPC or extension may be deleted. An element counts as
//!   deprecated when it, an element enclosing it, or its file is marked `deprecated = true`.
//! - A deprecated field or enum value may be deleted only once the current version reserves
//!   both its number and its name, so neither can be reused with another meaning. Until then
//!   the deletion stays an error, and the message says exactly what to reserve, for example
//!   `reserve 3 and "foo"`.
//! - A oneof has no `deprecated` option; deleting one counts as deleting a deprecated element
//!   when every field it held was deprecated.
//! - A file may be deleted when the file is deprecated or everything it declared at top level
//!   (messages, enums, services, extensions) was; a file that declared nothing stays an error.
//!   A package may be deleted when each of its files may. The `PACKAGE_*_NO_DELETE` rules
//!   follow the element that was deleted.
//! - An allowed deletion is reported as a notice (text: `notice:` before the message; json:
//!   `"severity":"notice"`; github-actions: `::notice`) and does not fail the check.
//! - Everything else is unchanged: a deprecated element that changes type, cardinality, oneof,
//!   name, JSON name or default is still a breaking change, and so is deleting a deprecated
//!   *required* field (`MESSAGE_SAME_REQUIRED_FIELDS`: required fields must always be sent) or
//!   a reserved range.
//!
//! `--strict` turns the policy off: findings, exit codes and output are exactly buf's.

mod compile;
pub mod config;
mod deprecation;
mod descriptor;
mod engine;
mod finding;
mod gofmt;
mod input;
mod link;
mod model;
mod print;
pub mod rules;
mod spans;

use std::collections::HashSet;
use std::process::ExitCode;

pub use config::BreakingConfig;
pub use finding::{Finding, Severity};
pub use input::{compile_sources, decode_image};
pub use model::{Image, Span};
pub use print::{ErrorFormat, render};
pub use rules::{Category, ConfigVersion, Rule};

use config::BufYaml;
use finding::RawFinding;
use input::{InputSpec, Loaded};
use model::Index;

/// What can go wrong before any rule runs. Each message names the input, file, option or value
/// at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line usage.
    #[error("{0}")]
    Usage(String),
    /// A configuration problem (buf.yaml or `--config`).
    #[error("{0}")]
    Config(String),
    /// An input that cannot be read or decoded.
    #[error("{0}")]
    Input(String),
    /// A `.proto` file that does not compile.
    #[error("{path}:{line}:{column}: {message}")]
    Compile {
        /// The file as users see it.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A git failure (missing repository, ref or object).
    #[error("{0}")]
    Git(String),
}

impl Error {
    /// Prefixes a configuration error with where the configuration came from.
    pub(crate) fn within(self, origin: &str) -> Error {
        match self {
            Error::Config(m) if !m.starts_with(origin) => Error::Config(format!("{origin}: {m}")),
            other => other,
        }
    }
}

/// Switches for a check.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckOptions {
    /// Exactly buf's behaviour: no deprecation policy.
    pub strict: bool,
    /// Ignore findings in imported files (buf's `--exclude-imports`).
    pub exclude_imports: bool,
}

/// Checks `current` against `previous` with one configuration; findings come sorted and
/// deduplicated as buf prints them.
pub fn check_images(
    current: &Image,
    previous: &Image,
    config: &BreakingConfig,
    options: &CheckOptions,
) -> Vec<Finding> {
    let prev = Index::new(previous);
    let cur = Index::new(current);
    let raw = engine::run(&config.rules, &prev, &cur);
    finish(raw, &prev, &cur, config, options)
}

/// Loads both inputs (see the module documentation for their forms) and checks them.
/// `config` is a path to a buf.yaml, or buf.yaml text (YAML or JSON), and replaces the
/// input's own buf.yaml.
pub fn check_inputs(
    input: &str,
    against: &str,
    config: Option<&str>,
    options: &CheckOptions,
) -> Result<Vec<Finding>, Error> {
    let config = config.map(read_config).transpose()?;
    let current = input::load(&InputSpec::parse(input)?, config.as_ref())?;
    let previous = input::load(&InputSpec::parse(against)?, None)?;
    check_loaded(&current, &previous, options)
}

/// Reads `--config`: a file path, or inline buf.yaml data.
fn read_config(value: &str) -> Result<BufYaml, Error> {
    let path = std::path::Path::new(value);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read config file {value:?}: {e}")))?;
        return BufYaml::parse(&text, value);
    }
    let inline = value.trim_start();
    if inline.starts_with('{') || inline.contains("version") {
        return BufYaml::parse(value, "--config");
    }
    Err(Error::Config(format!(
        "config file {value:?} does not exist (--config takes a buf.yaml path or inline buf.yaml data)"
    )))
}

fn check_loaded(
    current: &Loaded,
    previous: &Loaded,
    options: &CheckOptions,
) -> Result<Vec<Finding>, Error> {
    let modules = &current.buf_yaml.modules;
    let (n, m) = (modules.len(), previous.buf_yaml.modules.len());
    if n <= 1 && m <= 1 {
        let prev = Index::new(&previous.image);
        let cur = Index::new(&current.image);
        let config = modules
            .first()
            .map(|m| m.breaking.clone())
            .unwrap_or_else(BreakingConfig::default_v1);
        let raw = engine::run(&config.rules, &prev, &cur);
        return Ok(finish(raw, &prev, &cur, &config, options));
    }
    // A workspace is compared module by module, as buf does, each with its own configuration.
    if n != m {
        return Err(Error::Input(format!(
            "the input has {n} modules but the against input has {m}; compare workspaces of \
             the same shape (buf.yaml modules), or a single module with --config"
        )));
    }
    let mut all = Vec::new();
    for (i, module) in modules.iter().enumerate() {
        let prev = Index::module(&previous.image, &previous.module_of_file, i);
        let cur = Index::module(&current.image, &current.module_of_file, i);
        let raw = engine::run(&module.breaking.rules, &prev, &cur);
        all.extend(finish(raw, &prev, &cur, &module.breaking, options));
    }
    Ok(sort_dedup(all))
}

/// Applies ignores and the deprecation policy, resolves locations, sorts and deduplicates.
fn finish(
    raw: Vec<RawFinding>,
    prev: &Index<'_>,
    cur: &Index<'_>,
    config: &BreakingConfig,
    options: &CheckOptions,
) -> Vec<Finding> {
    let mut out = Vec::with_capacity(raw.len());
    for mut f in raw {
        let ignored_in = |ix: &Index<'_>, file: u32| {
            let file = ix.file(file);
            (options.exclude_imports && file.is_import)
                || config.ignores(f.rule, file.path, file.package)
        };
        if f.loc.as_ref().is_some_and(|l| ignored_in(cur, l.file))
            || f.against_file.is_some_and(|a| ignored_in(prev, a))
        {
            continue;
        }
        let severity = if options.strict {
            finding::Severity::Error
        } else {
            deprecation::apply(&mut f)
        };
        let (path, span) = match &f.loc {
            Some(loc) => {
                let file = cur.file(loc.file);
                let span = loc
                    .path
                    .as_deref()
                    .and_then(|p| file.span(p))
                    .unwrap_or(Span::UNKNOWN);
                (
                    Some(cur.image.external_path(file.image_index as usize)),
                    Some(span),
                )
            }
            None => (None, None),
        };
        out.push(Finding {
            rule: f.rule,
            path,
            span,
            message: f.message,
            severity,
        });
    }
    sort_dedup(out)
}

fn sort_dedup(mut findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.path.clone(), f.span, f.rule, f.message.clone())));
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// `protoc-gen-cloudrun breaking`: checks INPUT against AGAINST for breaking changes.
#[derive(Debug, Clone, clap::Args)]
pub struct BreakingArgs {
    /// The current schema: a directory of .proto files, a binary image (buf build -o), or a git
    /// reference such as .git#branch=main,subdir=proto.
    #[arg(default_value = ".")]
    pub input: String,
    /// The previous schema, in any of the forms INPUT takes (for example .git#branch=main).
    #[arg(long, required_unless_present = "list_rules")]
    pub against: Option<String>,
    /// A buf.yaml file, or buf.yaml data (YAML or JSON), replacing INPUT's own buf.yaml.
    #[arg(long)]
    pub config: Option<String>,
    /// How findings are printed.
    #[arg(long, value_enum, default_value_t = ErrorFormat::Text)]
    pub error_format: ErrorFormat,
    /// Exactly buf's behaviour: deletions of deprecated elements are breaking too.
    #[arg(long)]
    pub strict: bool,
    /// Ignore findings in imported files, as buf's --exclude-imports does.
    #[arg(long)]
    pub exclude_imports: bool,
    /// Print the rules (ID, categories, default, purpose) for the configuration's version and
    /// exit.
    #[arg(long)]
    pub list_rules: bool,
}

/// Runs the `breaking` subcommand: prints findings to stdout and errors to stderr; exits 0
/// when compatible, 100 on breaking changes, 1 on bad input or usage.
pub fn run(args: &BreakingArgs) -> ExitCode {
    use std::io::Write as _;
    // Write errors (a closed pipe, say) are ignored: print! would panic on them.
    match run_inner(args) {
        Ok((output, failed)) => {
            let _ = std::io::stdout().lock().write_all(output.as_bytes());
            if failed {
                ExitCode::from(100)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "protoc-gen-cloudrun breaking: {e}"
            );
            ExitCode::from(1)
        }
    }
}

fn run_inner(args: &BreakingArgs) -> Result<(String, bool), Error> {
    if args.list_rules {
        let version = match &args.config {
            Some(c) => read_config(c)?.version,
            None => ConfigVersion::V2,
        };
        return Ok((list_rules(version), false));
    }
    let against = args.against.as_deref().ok_or_else(|| {
        Error::Usage("--against is required (for example --against '.git#branch=main')".into())
    })?;
    let options = CheckOptions {
        strict: args.strict,
        exclude_imports: args.exclude_imports,
    };
    let findings = check_inputs(&args.input, against, args.config.as_deref(), &options)?;
    let failed = findings.iter().any(|f| f.severity == Severity::Error);
    Ok((render(&findings, args.error_format), failed))
}

/// The rule table for a buf.yaml version, laid out as `buf config ls-breaking-rules` prints it.
pub fn list_rules(version: ConfigVersion) -> String {
    // buf lists rules by the span of categories they belong to (FILE, PACKAGE, WIRE_JSON,
    // WIRE; CSR does not count), then by how many categories, then by ID.
    let rank = |c: &Category| match c {
        Category::File => Some(0),
        Category::Package => Some(1),
        Category::WireJson => Some(2),
        Category::Wire => Some(3),
        Category::Csr => None,
    };
    let mut listed: Vec<(&Rule, rules::Membership)> = rules::RULES
        .iter()
        .filter_map(|r| Some((r, r.membership(version)?)))
        .collect();
    listed.sort_by_key(|(r, m)| {
        let ranks: Vec<i32> = m.categories.iter().filter_map(rank).collect();
        let min = ranks.iter().min().copied().unwrap_or(i32::MAX);
        let max = ranks.iter().max().copied().unwrap_or(i32::MAX);
        (min, max, m.categories.len(), r.id)
    });
    let rows: Vec<[String; 4]> = listed
        .into_iter()
        .map(|(r, m)| {
            let categories = m
                .categories
                .iter()
                .map(|c| c.id())
                .collect::<Vec<_>>()
                .join(", ");
            [
                r.id.to_string(),
                categories,
                if m.default { "*".into() } else { String::new() },
                r.purpose.to_string(),
            ]
        })
        .collect();
    let header = ["ID", "CATEGORIES", "DEFAULT", "PURPOSE"].map(String::from);
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i < 3 {
                let pad = widths[i] + 2 - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}
