//! buf.yaml (v1 and v2) and its `breaking:` section, resolved to the rules to run and the
//! findings to ignore.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Error;
use super::model::clean;
use super::rules::{Category, ConfigVersion, DEPRECATED_RULES, RULES, Rule};

/// A resolved `breaking:` configuration.
#[derive(Clone, Debug)]
pub struct BreakingConfig {
    /// The buf.yaml version it was written in (decides rule sets and categories).
    pub version: ConfigVersion,
    /// The rules to run, sorted by ID.
    pub rules: Vec<&'static Rule>,
    /// Module-relative paths (files or directories) whose findings are ignored.
    pub ignore: Vec<String>,
    /// Per rule, module-relative paths whose findings of that rule are ignored.
    pub ignore_only: BTreeMap<&'static str, Vec<String>>,
    /// Ignore findings in packages with an alpha, beta or test version suffix.
    pub ignore_unstable_packages: bool,
}

impl BreakingConfig {
    /// What buf uses without a buf.yaml: v1's default rules, nothing ignored.
    pub fn default_v1() -> BreakingConfig {
        BreakingConfig::from_section(ConfigVersion::V1, &Section::default(), ".")
            .unwrap_or_else(|_| unreachable_default())
    }

    /// Resolves a `breaking:` section for a module at `module_path` (relative to the buf.yaml).
    fn from_section(
        version: ConfigVersion,
        section: &Section,
        module_path: &str,
    ) -> Result<BreakingConfig, Error> {
        if section.disable_builtin {
            return Ok(BreakingConfig {
                version,
                rules: Vec::new(),
                ignore: Vec::new(),
                ignore_only: BTreeMap::new(),
                ignore_unstable_packages: section.ignore_unstable_packages,
            });
        }
        let mut used = resolve_ids(version, &section.r#use, "use")?;
        if used.is_empty() {
            used = RULES
                .iter()
                .filter(|r| r.membership(version).is_some_and(|m| m.default))
                .map(|r| r.id)
                .collect();
        }
        for id in resolve_ids(version, &section.except, "except")? {
            used.remove(id);
        }
        if used.is_empty() {
            return Err(Error::Config(
                "no breaking rules are left once `except` is applied to `use`; remove some \
                 entries from `except`"
                    .into(),
            ));
        }
        let rules = used
            .into_iter()
            .filter_map(|id| RULES.iter().find(|r| r.id == id))
            .collect();
        let relative = |paths: &[String]| -> Result<Vec<String>, Error> {
            let mut out = Vec::new();
            for p in paths {
                if p.is_empty() {
                    continue;
                }
                if let Some(p) = module_relative(version, module_path, p)? {
                    out.push(p);
                }
            }
            out.sort();
            out.dedup();
            Ok(out)
        };
        let mut ignore_only: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (id, paths) in &section.ignore_only {
            let paths = relative(paths)?;
            for rule in resolve_ids(version, std::slice::from_ref(id), "ignore_only")? {
                ignore_only
                    .entry(rule)
                    .or_default()
                    .extend(paths.iter().cloned());
            }
        }
        Ok(BreakingConfig {
            version,
            rules,
            ignore: relative(&section.ignore)?,
            ignore_only,
            ignore_unstable_packages: section.ignore_unstable_packages,
        })
    }

    /// Whether a finding of `rule` in file `path` (module-relative) of `package` is ignored.
    pub(crate) fn ignores(&self, rule: &str, path: &str, package: &str) -> bool {
        if contains_path(&self.ignore, path) {
            return true;
        }
        if let Some(paths) = self.ignore_only.get(rule) {
            if contains_path(paths, path) {
                return true;
            }
        }
        self.ignore_unstable_packages && is_unstable_package(package)
    }
}

fn unreachable_default() -> BreakingConfig {
    // The default section names no IDs, so resolution cannot fail; keep a total function anyway.
    BreakingConfig {
        version: ConfigVersion::V1,
        rules: Vec::new(),
        ignore: Vec::new(),
        ignore_only: BTreeMap::new(),
        ignore_unstable_packages: false,
    }
}

/// buf's `MapHasEqualOrContainingPath`: `path` is one of `roots` or inside one of them.
fn contains_path(roots: &[String], path: &str) -> bool {
    roots.iter().any(|root| {
        root == "."
            || root == path
            || (path.starts_with(root.as_str()) && path[root.len()..].starts_with('/'))
    })
}

/// Turns a configured ignore path into a module-relative one. v1 paths already are; v2 paths
/// are relative to the buf.yaml, so the module's own path is stripped (paths outside the
/// module cannot match its files).
fn module_relative(
    version: ConfigVersion,
    module_path: &str,
    path: &str,
) -> Result<Option<String>, Error> {
    if path.starts_with('/') {
        return Err(Error::Config(format!(
            "ignore path {path:?} must be relative to the buf.yaml directory"
        )));
    }
    let path = clean(path);
    if path.starts_with("../") || path == ".." {
        return Err(Error::Config(format!(
            "ignore path {path:?} points outside the module"
        )));
    }
    let module = clean(module_path);
    if version == ConfigVersion::V1 || module == "." {
        return Ok(Some(path));
    }
    if path == module {
        return Ok(Some(".".into()));
    }
    Ok(path.strip_prefix(&format!("{module}/")).map(str::to_string))
}

/// Expands rule and category IDs to rule IDs for a version, replacing deprecated rules.
fn resolve_ids(
    version: ConfigVersion,
    ids: &[String],
    key: &str,
) -> Result<BTreeSet<&'static str>, Error> {
    let mut out = BTreeSet::new();
    for id in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if let Some(rule) = RULES
            .iter()
            .find(|r| r.id == id && r.membership(version).is_some())
        {
            out.insert(rule.id);
        } else if let Some(category) = Category::ALL
            .iter()
            .find(|c| c.id() == id && (*c != &Category::Csr || version == ConfigVersion::V2))
        {
            for rule in RULES {
                if rule
                    .membership(version)
                    .is_some_and(|m| m.categories.contains(category))
                {
                    out.insert(rule.id);
                }
            }
        } else if let Some(deprecated) = DEPRECATED_RULES
            .iter()
            .find(|d| d.id == id && d.versions.contains(&version))
        {
            out.extend(deprecated.replacements.iter().copied());
        } else {
            return Err(Error::Config(format!(
                "{id:?} is not a known rule or category ID (in breaking.{key}); \
                 `protoc-gen-cloudrun breaking --list-rules` lists them"
            )));
        }
    }
    Ok(out)
}

/// buf's package version stability: the last package component is `v<N>` (stable),
/// `v<N>[p<M>](alpha|beta)[<K>]` or `v<N>test...` (unstable).
pub(crate) fn is_unstable_package(package: &str) -> bool {
    let parts: Vec<&str> = package.split('.').collect();
    if parts.len() < 2 {
        return false;
    }
    let last = parts[parts.len() - 1];
    let Some(version) = last.strip_prefix('v') else {
        return false;
    };
    if version.is_empty() {
        return false;
    }
    let positive = |s: &str| s.parse::<i32>().is_ok_and(|n| n >= 1) && !s.starts_with('+');
    if let Some((major, _)) = version.split_once("test") {
        return positive(major);
    }
    let alpha = version.contains("alpha");
    let beta = version.contains("beta");
    let level = match (alpha, beta) {
        (false, false) => return false,
        (true, true) => return false,
        (true, false) => "alpha",
        (false, true) => "beta",
    };
    let Some((head, minor)) = version.split_once(level) else {
        return false;
    };
    if !minor.is_empty() && !positive(minor) {
        return false;
    }
    match head.split_once('p') {
        Some((major, patch)) => positive(major) && positive(patch),
        None => positive(head),
    }
}

/// A `breaking:` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    r#use: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    ignore_only: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    ignore_unstable_packages: bool,
    /// v2 only; v1 sections reject it (see [`SectionV1`]).
    #[serde(default)]
    disable_builtin: bool,
}

/// v1's section: the same keys minus `disable_builtin`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionV1 {
    #[serde(default)]
    r#use: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    ignore_only: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    ignore_unstable_packages: bool,
}

impl From<SectionV1> for Section {
    fn from(s: SectionV1) -> Section {
        Section {
            r#use: s.r#use,
            except: s.except,
            ignore: s.ignore,
            ignore_only: s.ignore_only,
            ignore_unstable_packages: s.ignore_unstable_packages,
            disable_builtin: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    #[allow(dead_code)]
    version: String,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<serde_yaml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    deps: Option<serde_yaml::Value>,
    #[serde(default)]
    build: Option<BuildV1>,
    #[serde(default)]
    #[allow(dead_code)]
    lint: Option<serde_yaml::Value>,
    #[serde(default)]
    breaking: Option<SectionV1>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildV1 {
    #[serde(default)]
    excludes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV2 {
    #[allow(dead_code)]
    version: String,
    #[serde(default)]
    modules: Vec<ModuleV2>,
    #[serde(default)]
    #[allow(dead_code)]
    deps: Option<serde_yaml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    lint: Option<serde_yaml::Value>,
    #[serde(default)]
    breaking: Option<Section>,
    #[serde(default)]
    #[allow(dead_code)]
    plugins: Option<serde_yaml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    policies: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleV2 {
    path: String,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    excludes: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    lint: Option<serde_yaml::Value>,
    #[serde(default)]
    breaking: Option<Section>,
}

/// One module of a workspace: where its files are, what to leave out, and how to check it.
#[derive(Clone, Debug)]
pub(crate) struct ModuleSpec {
    /// Directory of the module relative to the buf.yaml (`.` for the buf.yaml's own).
    pub path: String,
    /// Paths relative to the buf.yaml directory to leave out of the module.
    pub excludes: Vec<String>,
    pub breaking: BreakingConfig,
}

/// A buf.yaml, resolved.
#[derive(Clone, Debug)]
pub(crate) struct BufYaml {
    pub version: ConfigVersion,
    pub modules: Vec<ModuleSpec>,
}

impl BufYaml {
    /// What buf assumes for a directory without buf.yaml.
    pub(crate) fn default_v1() -> BufYaml {
        BufYaml {
            version: ConfigVersion::V1,
            modules: vec![ModuleSpec {
                path: ".".into(),
                excludes: Vec::new(),
                breaking: BreakingConfig::default_v1(),
            }],
        }
    }

    /// Parses buf.yaml text (YAML or JSON); `origin` names it in errors.
    pub(crate) fn parse(text: &str, origin: &str) -> Result<BufYaml, Error> {
        let bad = |e: serde_yaml::Error| Error::Config(format!("{origin}: {e}"));
        let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(bad)?;
        let version = match value.get("version").and_then(|v| v.as_str()) {
            Some("v1") => ConfigVersion::V1,
            Some("v2") => ConfigVersion::V2,
            Some(other) => {
                return Err(Error::Config(format!(
                    "{origin}: unsupported version {other:?}; use \"v1\" or \"v2\""
                )));
            }
            None => {
                return Err(Error::Config(format!(
                    "{origin}: \"version\" is not set; add \"version: v2\""
                )));
            }
        };
        match version {
            ConfigVersion::V1 => {
                let file: FileV1 = serde_yaml::from_value(value).map_err(bad)?;
                let section: Section = file.breaking.map(Section::from).unwrap_or_default();
                let breaking = BreakingConfig::from_section(version, &section, ".")
                    .map_err(|e| e.within(origin))?;
                Ok(BufYaml {
                    version,
                    modules: vec![ModuleSpec {
                        path: ".".into(),
                        excludes: file.build.map(|b| b.excludes).unwrap_or_default(),
                        breaking,
                    }],
                })
            }
            ConfigVersion::V2 => {
                let file: FileV2 = serde_yaml::from_value(value).map_err(bad)?;
                let top = file.breaking.unwrap_or_default();
                let modules = if file.modules.is_empty() {
                    vec![ModuleV2 {
                        path: ".".into(),
                        name: None,
                        excludes: Vec::new(),
                        lint: None,
                        breaking: None,
                    }]
                } else {
                    file.modules
                };
                let mut out = Vec::with_capacity(modules.len());
                for m in modules {
                    let path = clean(&m.path);
                    if path.starts_with("..") || m.path.starts_with('/') {
                        return Err(Error::Config(format!(
                            "{origin}: module path {:?} must be inside the buf.yaml directory",
                            m.path
                        )));
                    }
                    let section = m.breaking.as_ref().unwrap_or(&top);
                    let breaking = BreakingConfig::from_section(version, section, &path)
                        .map_err(|e| e.within(origin))?;
                    out.push(ModuleSpec {
                        path,
                        excludes: m.excludes.iter().map(|e| clean(e)).collect(),
                        breaking,
                    });
                }
                Ok(BufYaml {
                    version,
                    modules: out,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstable_packages_follow_buf() {
        assert!(is_unstable_package("foo.v1alpha1"));
        assert!(is_unstable_package("foo.v1beta"));
        assert!(is_unstable_package("foo.v1test"));
        assert!(is_unstable_package("foo.v1testfoo"));
        assert!(is_unstable_package("foo.v1p1alpha1"));
        assert!(!is_unstable_package("foo.v1"));
        assert!(!is_unstable_package("v1alpha1"));
        assert!(!is_unstable_package("foo.bar"));
        assert!(!is_unstable_package("foo.v0alpha1"));
    }

    #[test]
    fn unknown_keys_and_ids_are_named() {
        let err =
            BufYaml::parse("version: v2\nbreaking:\n  usee: [FILE]\n", "buf.yaml").unwrap_err();
        assert!(err.to_string().contains("usee"), "{err}");
        let err = BufYaml::parse("version: v2\nbreaking:\n  use: [FOO]\n", "buf.yaml").unwrap_err();
        assert!(
            err.to_string()
                .contains("\"FOO\" is not a known rule or category ID"),
            "{err}"
        );
        let err = BufYaml::parse("version: v1\nbreaking:\n  use: [CSR]\n", "buf.yaml").unwrap_err();
        assert!(err.to_string().contains("\"CSR\""), "{err}");
        let err = BufYaml::parse(
            "version: v1\nbreaking:\n  disable_builtin: true\n",
            "buf.yaml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("disable_builtin"), "{err}");
    }

    #[test]
    fn categories_and_deprecated_ids_expand() {
        let y = BufYaml::parse("version: v1\nbreaking:\n  use: [FIELD_SAME_LABEL]\n", "x").unwrap();
        let ids: Vec<&str> = y.modules[0].breaking.rules.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "FIELD_SAME_CARDINALITY",
                "FIELD_WIRE_COMPATIBLE_CARDINALITY",
                "FIELD_WIRE_JSON_COMPATIBLE_CARDINALITY"
            ]
        );
        let y = BufYaml::parse(
            "{\"version\":\"v2\",\"breaking\":{\"use\":[\"WIRE\"]}}",
            "x",
        )
        .unwrap();
        assert_eq!(y.modules[0].breaking.rules.len(), 15);
        assert_eq!(BreakingConfig::default_v1().rules.len(), 49);
    }

    #[test]
    fn v2_ignores_are_made_module_relative() {
        let y = BufYaml::parse(
            "version: v2\nmodules:\n  - path: proto\nbreaking:\n  ignore: [proto/foo, other/bar]\n",
            "x",
        )
        .unwrap();
        assert_eq!(y.modules[0].breaking.ignore, ["foo"]);
        assert!(
            y.modules[0]
                .breaking
                .ignores("FIELD_NO_DELETE", "foo/a.proto", "p")
        );
        assert!(
            !y.modules[0]
                .breaking
                .ignores("FIELD_NO_DELETE", "foobar/a.proto", "p")
        );
    }
}
