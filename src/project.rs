//! The project a command works in: its root, found by walking up from the working
//! folder, its stack files and its handler crate; how a stack is named (`dev`, or
//! a path); and the checks that look at all stack files at once.
//!
//! The root is the nearest folder that holds `sockstack.toml`, else the nearest
//! that holds a `stacks/` folder. `sockstack.toml` may say where things are:
//!
//! ```toml
//! handlers = "handlers"   # the handler crate (its src/bin/*.rs are the functions' binaries)
//! stacks = "stacks"       # the stack files
//! ```

use crate::model::Model;
use serde::Deserialize;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// The project file's name.
pub const PROJECT_FILE: &str = "sockstack.toml";

/// `sockstack.toml`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// The handler crate, relative to the root (default `handlers`).
    pub handlers: Option<PathBuf>,
    /// The stack-file folder, relative to the root (default `stacks`).
    pub stacks: Option<PathBuf>,
}

/// A project: where its stack files and handler crate are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The root folder.
    pub root: PathBuf,
    /// The stack-file folder.
    pub stacks_dir: PathBuf,
    /// The handler crate.
    pub handlers_dir: PathBuf,
}

/// Paths given on the command line in place of the project's, relative to the
/// working folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--stacks-dir`: the stack-file folder.
    pub stacks_dir: Option<PathBuf>,
    /// `--handlers`: the handler crate.
    pub handlers: Option<PathBuf>,
}

impl Overrides {
    /// Whether any path is given.
    pub fn any(&self) -> bool {
        self.stacks_dir.is_some() || self.handlers.is_some()
    }
}

/// Why a project or a stack could not be found.
#[derive(Debug)]
pub enum ProjectError {
    /// No `sockstack.toml` or `stacks/` from the working folder up.
    NotFound(PathBuf),
    /// `sockstack.toml` is unreadable or malformed.
    BadProjectFile(PathBuf, String),
    /// No stack of that name.
    UnknownStack {
        /// What was asked for.
        name: String,
        /// Where names are looked up.
        dir: PathBuf,
        /// The stacks that exist.
        known: Vec<String>,
    },
    /// A folder could not be listed.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for ProjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectError::NotFound(from) => write!(
                f,
                "no sockstack project in {} or any folder above it (a folder with {PROJECT_FILE} or stacks/)\n  expected: run inside a project, or create one with `sockstack init DIR`",
                from.display()
            ),
            ProjectError::BadProjectFile(path, why) => {
                write!(
                    f,
                    "{}: {why}\n  expected: `handlers = \"DIR\"` and optionally `stacks = \"DIR\"`",
                    path.display()
                )
            }
            ProjectError::UnknownStack { name, dir, known } => {
                write!(f, "no stack `{name}` in {}", dir.display())?;
                if known.is_empty() {
                    write!(
                        f,
                        "\n  expected: a stack file such as {}/dev.yaml",
                        dir.display()
                    )
                } else {
                    write!(
                        f,
                        "\n  expected: one of {} (or a path to a stack file)",
                        known.join(", ")
                    )
                }
            }
            ProjectError::Io(path, e) => write!(f, "cannot read {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for ProjectError {}

impl Project {
    /// The project around `start`: the nearest folder up from it with a `sockstack.toml`
    /// or a `stacks/` folder.
    pub fn discover(start: &Path) -> Result<Project, ProjectError> {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        // The nearest folder that is a project wins, so a project inside another
        // (an example, a test fixture) is its own.
        match start
            .ancestors()
            .find(|d| d.join(PROJECT_FILE).is_file() || d.join("stacks").is_dir())
        {
            Some(root) => Project::at(root),
            None => Err(ProjectError::NotFound(start)),
        }
    }

    /// The project rooted at `root` (reading its `sockstack.toml` if there is one).
    pub fn at(root: &Path) -> Result<Project, ProjectError> {
        let file = root.join(PROJECT_FILE);
        let config = if file.is_file() {
            let text = fs::read_to_string(&file)
                .map_err(|e| ProjectError::BadProjectFile(file.clone(), e.to_string()))?;
            toml::from_str::<ProjectFile>(&text).map_err(|e| {
                ProjectError::BadProjectFile(file.clone(), e.to_string().trim().to_string())
            })?
        } else {
            ProjectFile::default()
        };
        Ok(Project {
            root: root.to_path_buf(),
            stacks_dir: root.join(config.stacks.unwrap_or_else(|| "stacks".into())),
            handlers_dir: root.join(config.handlers.unwrap_or_else(|| "handlers".into())),
        })
    }

    /// The project a command run in `cwd` works in: found by walking up from `cwd`
    /// ([`Project::discover`]), with the paths of `overrides` (relative to `cwd`) in
    /// place of the project's. Outside any project, an override or a `stack_path`
    /// given on the command line is enough: the root is then `cwd`.
    ///
    /// The project's own paths are relative to `cwd` when below it, else absolute (for
    /// readable messages and scripts); overrides are kept as given.
    pub fn locate(
        cwd: &Path,
        overrides: &Overrides,
        stack_given: bool,
    ) -> Result<Project, ProjectError> {
        let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
        let mut project = match Project::discover(&cwd) {
            Ok(p) => p,
            Err(ProjectError::NotFound(_)) if overrides.any() || stack_given => Project {
                root: cwd.clone(),
                stacks_dir: cwd.join("stacks"),
                handlers_dir: cwd.join("handlers"),
            },
            Err(e) => return Err(e),
        };
        project.stacks_dir = match &overrides.stacks_dir {
            Some(dir) => dir.clone(),
            None => relative_to(&project.stacks_dir, &cwd),
        };
        project.handlers_dir = match &overrides.handlers {
            Some(dir) => dir.clone(),
            None => relative_to(&project.handlers_dir, &cwd),
        };
        Ok(project)
    }

    /// The output folder (`out/` in the root), relative to `cwd` when below it.
    pub fn out_dir(&self, cwd: &Path) -> PathBuf {
        relative_to(&self.root.join("out"), cwd)
    }

    /// The names of the project's stacks (`dev` for `stacks/dev.yaml`), sorted.
    pub fn stack_names(&self) -> Result<Vec<String>, ProjectError> {
        Ok(self
            .stack_files()?
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect())
    }

    /// Every `*.yaml`/`*.yml` in the stack folder, sorted (a FIFO or a link to a device among
    /// them too: the stack-file reader refuses it with an error rather than it being skipped).
    pub fn stack_files(&self) -> Result<Vec<PathBuf>, ProjectError> {
        let dir = &self.stacks_dir;
        let mut files = Vec::new();
        let entries = fs::read_dir(dir).map_err(|e| ProjectError::Io(dir.clone(), e))?;
        for entry in entries {
            let path = entry.map_err(|e| ProjectError::Io(dir.clone(), e))?.path();
            if is_file_like(&path) && path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// The stack file `stack` names: a path to a file (relative to `cwd`), or a
    /// name looked up as `<stacks>/<name>.yaml` (or `.yml`).
    /// The path is relative to `cwd` when the file is below it (for readable messages).
    pub fn stack(&self, stack: &str, cwd: &Path) -> Result<PathBuf, ProjectError> {
        if is_file_like(&cwd.join(stack)) {
            return Ok(PathBuf::from(stack));
        }
        for ext in ["yaml", "yml"] {
            let file = self.stacks_dir.join(format!("{stack}.{ext}"));
            if is_file_like(&file) {
                return Ok(relative_to(&file, cwd));
            }
        }
        Err(ProjectError::UnknownStack {
            name: stack.to_string(),
            dir: self.stacks_dir.clone(),
            known: self.stack_names().unwrap_or_default(),
        })
    }

    /// The stack files `stacks` name, or every stack file of the project when none.
    pub fn stacks(&self, stacks: &[String], cwd: &Path) -> Result<Vec<PathBuf>, ProjectError> {
        if stacks.is_empty() {
            let files = self.stack_files()?;
            if files.is_empty() {
                return Err(ProjectError::UnknownStack {
                    name: "*".into(),
                    dir: self.stacks_dir.clone(),
                    known: Vec::new(),
                });
            }
            return Ok(files.iter().map(|f| relative_to(f, cwd)).collect());
        }
        stacks.iter().map(|s| self.stack(s, cwd)).collect()
    }
}

/// `path` relative to `base` when it lies below it, else `path`.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    match path.strip_prefix(&base) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => path.to_path_buf(),
    }
}

/// A problem across stack files: each names a file of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetProblem {
    /// The stack file the problem is reported on.
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
    /// What was expected instead.
    pub expected: String,
}

impl fmt::Display for SetProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}\n  expected: {}",
            self.file.display(),
            self.message,
            self.expected
        )
    }
}

/// What must hold across the stack files of one project: each CloudFormation stack
/// name once, and API Gateway's account role created at most once per region
/// (every stack that creates it declares its `region`, and no two share one).
pub fn check_set(stacks: &[(&Path, &Model)]) -> Vec<SetProblem> {
    let mut problems = Vec::new();
    for (i, (file, model)) in stacks.iter().enumerate() {
        if let Some((first, _)) = stacks[..i]
            .iter()
            .find(|(_, m)| m.stack_name == model.stack_name)
        {
            problems.push(SetProblem {
                file: file.to_path_buf(),
                message: format!(
                    "stack name `{}` is also the stack name of {}: deploying one would replace the other",
                    model.stack_name,
                    first.display()
                ),
                expected: "a `stack:` name of its own in each stack file".into(),
            });
        }
    }
    let with_role: Vec<&(&Path, &Model)> = stacks.iter().filter(|(_, m)| m.account_role).collect();
    if with_role.len() > 1 {
        for (i, (file, model)) in with_role.iter().enumerate() {
            match &model.region {
                None => problems.push(SetProblem {
                    file: file.to_path_buf(),
                    message: format!(
                        "{} stack files create API Gateway's account role (apiGatewayAccountRole: true) and this one does not say its region",
                        with_role.len()
                    ),
                    expected: "`region:` in each stack file that creates the account role (one per account and region), or `apiGatewayAccountRole: false` in all but one".into(),
                }),
                Some(region) => {
                    if let Some((first, _)) = with_role[..i]
                        .iter()
                        .find(|(_, m)| m.region.as_deref() == Some(region))
                    {
                        problems.push(SetProblem {
                            file: file.to_path_buf(),
                            message: format!(
                                "{} also creates API Gateway's account role in {region}: the account has one setting per region",
                                first.display()
                            ),
                            expected: "`apiGatewayAccountRole: true` in one stack file per region".into(),
                        });
                    }
                }
            }
        }
    }
    problems
}

/// Anything but a folder (or nothing): a regular file, and also a FIFO or a device, which the
/// stack-file reader then refuses by name instead of the file seeming not to exist.
fn is_file_like(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn root_is_found_from_a_subfolder_and_the_project_file_names_the_handlers() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root.join("sockstack.toml"), "handlers = \"crates/fns\"\n");
        write(&root.join("stacks/dev.yaml"), "version: 2\n");
        fs::create_dir_all(root.join("crates/fns/src/bin")).unwrap();
        let p = Project::discover(&root.join("crates/fns/src")).unwrap();
        assert_eq!(p.root, root);
        assert_eq!(p.handlers_dir, root.join("crates/fns"));
        assert_eq!(p.stacks_dir, root.join("stacks"));
        assert_eq!(
            p.stack("dev", &root.join("crates")).unwrap(),
            root.join("stacks/dev.yaml")
        );
        assert_eq!(
            p.stack("dev", &root).unwrap(),
            PathBuf::from("stacks/dev.yaml")
        );
    }

    #[test]
    fn locate_keeps_the_projects_paths_readable_and_overrides_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root.join("sockstack.toml"), "handlers = \"crates/fns\"\n");
        write(&root.join("stacks/dev.yaml"), "");
        fs::create_dir_all(root.join("crates/fns/src")).unwrap();
        let none = Overrides::default();
        // At the root: relative to it.
        let p = Project::locate(&root, &none, false).unwrap();
        assert_eq!(p.stacks_dir, PathBuf::from("stacks"));
        assert_eq!(p.handlers_dir, PathBuf::from("crates/fns"));
        assert_eq!(p.out_dir(&root), PathBuf::from("out"));
        // Below it: absolute, since they are not below the working folder.
        let sub = root.join("crates/fns/src");
        let p = Project::locate(&sub, &none, false).unwrap();
        assert_eq!(p.root, root);
        assert_eq!(p.stacks_dir, root.join("stacks"));
        assert_eq!(p.handlers_dir, root.join("crates/fns"));
        assert_eq!(p.out_dir(&sub), root.join("out"));
        // Overrides, relative to the working folder, are kept as given.
        let given = Overrides {
            stacks_dir: Some("../../../stacks".into()),
            handlers: None,
        };
        let p = Project::locate(&sub, &given, false).unwrap();
        assert_eq!(p.stacks_dir, PathBuf::from("../../../stacks"));
        assert_eq!(p.root, root);
    }

    #[test]
    fn outside_a_project_overrides_or_a_stack_path_are_enough() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().canonicalize().unwrap();
        assert!(matches!(
            Project::locate(&cwd, &Overrides::default(), false),
            Err(ProjectError::NotFound(_))
        ));
        let given = Overrides {
            stacks_dir: None,
            handlers: Some("h".into()),
        };
        let p = Project::locate(&cwd, &given, false).unwrap();
        assert_eq!(p.root, cwd);
        assert_eq!(p.handlers_dir, PathBuf::from("h"));
        let p = Project::locate(&cwd, &Overrides::default(), true).unwrap();
        assert_eq!(p.stacks_dir, PathBuf::from("stacks"));
    }

    #[test]
    fn a_stacks_folder_marks_the_root_without_a_project_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root.join("stacks/prod.yml"), "");
        fs::create_dir_all(root.join("a/b")).unwrap();
        let p = Project::discover(&root.join("a/b")).unwrap();
        assert_eq!(p.root, root);
        assert_eq!(p.handlers_dir, root.join("handlers"));
        assert_eq!(p.stack_names().unwrap(), ["prod"]);
    }

    #[test]
    fn a_stack_is_a_path_from_the_working_folder_or_a_name_in_the_stacks_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(&root.join("stacks/prod.yml"), "");
        write(&root.join("other/dev.yaml"), "");
        let p = Project::at(&root).unwrap();
        assert_eq!(
            p.stack("other/dev.yaml", &root).unwrap(),
            PathBuf::from("other/dev.yaml")
        );
        assert_eq!(
            p.stack("prod", &root).unwrap(),
            PathBuf::from("stacks/prod.yml")
        );
        assert_eq!(
            p.stack("../stacks/prod.yml", &root.join("other")).unwrap(),
            PathBuf::from("../stacks/prod.yml")
        );
        let e = p.stack("other/prod.yaml", &root).unwrap_err().to_string();
        assert!(e.contains("one of prod"), "{e}");
    }

    #[test]
    fn an_unknown_stack_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("stacks/dev.yaml"), "");
        write(&dir.path().join("stacks/prod.yaml"), "");
        let p = Project::at(dir.path()).unwrap();
        let e = p.stack("staging", dir.path()).unwrap_err().to_string();
        assert!(e.contains("no stack `staging`"), "{e}");
        assert!(e.contains("one of dev, prod"), "{e}");
    }

    #[test]
    fn a_bad_project_file_says_where() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("sockstack.toml"), "handler = 1\n");
        let e = Project::at(dir.path()).unwrap_err().to_string();
        assert!(e.contains("sockstack.toml"), "{e}");
        assert!(e.contains("handler"), "{e}");
    }

    #[test]
    fn nothing_up_the_tree_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Project::discover(dir.path()),
            Err(ProjectError::NotFound(_))
        ));
    }
}
